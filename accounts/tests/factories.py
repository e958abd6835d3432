import factory

from accounts.models import User


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("clerk_user_id",)

    clerk_user_id = factory.Sequence(lambda n: f"user_test{n:06d}")
    username = factory.SelfAttribute("clerk_user_id")
    email = factory.Sequence(lambda n: f"person{n}@example.com")
