from django.conf import settings
from rest_framework import pagination
from rest_framework.exceptions import ValidationError


class PageNumberPagination(pagination.PageNumberPagination):
    """`?page=` and `?page_size=`, capped so no client can ask for the whole table.

    `count` is exact (one ledger holds hundreds of rows a month, not millions). A `page` that
    is not a positive whole number (or `last`) is a 400 naming `page`; a page past the end is
    a 404 (DRF's answer), both documented in the schema.
    """

    page_size_query_param = "page_size"

    @property
    def max_page_size(self):
        return settings.API_MAX_PAGE_SIZE

    def paginate_queryset(self, queryset, request, view=None):
        page = request.query_params.get(self.page_query_param)
        valid = (
            page is None
            or page in self.last_page_strings
            or (page.isascii() and page.isdigit() and int(page) >= 1)
        )
        if not valid:
            raise ValidationError({self.page_query_param: ["Enter a page number from 1."]})
        return super().paginate_queryset(queryset, request, view)
