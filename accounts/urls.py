from django.urls import path

from accounts.api import ClerkWebhookView, MeView

urlpatterns = [
    path("auth/me", MeView.as_view(), name="auth-me"),
    path("auth/webhook", ClerkWebhookView.as_view(), name="auth-webhook"),
]
