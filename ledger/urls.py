from rest_framework.routers import SimpleRouter

from ledger.api.categories import CategoryViewSet
from ledger.api.recurring import RecurringViewSet
from ledger.api.transactions import TransactionViewSet

# At the site root, without trailing slashes (SPEC §5): /transactions, /categories, …
router = SimpleRouter(trailing_slash=False)
router.register("transactions", TransactionViewSet, basename="transaction")
router.register("categories", CategoryViewSet, basename="category")
router.register("recurring", RecurringViewSet, basename="recurring")

urlpatterns = router.urls
