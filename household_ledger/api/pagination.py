import functools

from django.conf import settings
from django.core.paginator import Paginator
from rest_framework import pagination
from rest_framework.exceptions import ValidationError

PAGE_MESSAGE = "Enter a page number from 1."
PAGE_SIZE_MESSAGE = "Enter a page size from 1."


class KnownCountPaginator(Paginator):
    """Django's paginator told how many rows there are instead of counting them."""

    def __init__(self, object_list, per_page, *, count: int, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        self.count = count  # instead of the `count` cached_property's query


class PageNumberPagination(pagination.PageNumberPagination):
    """`?page=` and `?page_size=`, capped so no client can ask for the whole table.

    `count` is exact (one ledger holds hundreds of rows a month, not millions); a caller that
    keeps it (the unfiltered transaction list) passes it instead of a `COUNT(*)`. A `page` that
    is not a positive whole number (or `last`) is a 400 naming `page`; a page past the end is
    a 404 (DRF's answer), both documented in the schema.
    """

    page_size_query_param = "page_size"

    @property
    def max_page_size(self):
        return settings.API_MAX_PAGE_SIZE

    def paginate_queryset(self, queryset, request, view=None, *, count: int | None = None):
        """DRF's, and with `count` given (kept elsewhere, as `Ledger.transaction_count`) the
        pages are cut from it: no `COUNT(*)` of the rows."""
        if count is not None:
            self.django_paginator_class = functools.partial(KnownCountPaginator, count=count)
        page = request.query_params.get(self.page_query_param)
        valid = (
            page is None
            or page in self.last_page_strings
            or (page.isascii() and page.isdigit() and int(page) >= 1)
        )
        if not valid:
            raise ValidationError({self.page_query_param: [PAGE_MESSAGE]})
        size = request.query_params.get(self.page_size_query_param)
        if size is not None and not (size.isascii() and size.isdigit() and int(size) >= 1):
            raise ValidationError({self.page_size_query_param: [PAGE_SIZE_MESSAGE]})
        return super().paginate_queryset(queryset, request, view)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"].update(minimum=1)
                parameter["description"] = (
                    f"Rows per page, 1 or more (at most {self.max_page_size}; more gives that)."
                )
            elif parameter["name"] == self.page_query_param:
                parameter["schema"].update(minimum=1)
        return parameters
