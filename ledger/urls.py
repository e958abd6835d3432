from rest_framework.routers import SimpleRouter

from ledger.api.recurring import RecurringViewSet

router = SimpleRouter(trailing_slash=False)
router.register("recurring", RecurringViewSet, basename="recurring")

urlpatterns = [
    *router.urls,
]
