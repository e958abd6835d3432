import json
from functools import cached_property

from django.conf import settings
from django.core.paginator import EmptyPage, Page, PageNotAnInteger, Paginator
from django.db import connections
from rest_framework import pagination
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response


class BoundedCountPaginator(Paginator):
    """A paginator whose `count` never costs a scan of a huge result.

    Up to `API_EXACT_COUNT_LIMIT` matching rows the count is exact (a bounded
    `COUNT(*) … LIMIT limit+1`, which reads at most that many index entries). Beyond, it is
    PostgreSQL's planner estimate (never below the limit + 1) and `count_exact` is False: every
    page can still be asked for (a page exists when it has rows; a page past the end is 404),
    and `next` comes from fetching one row more than the page, not from the count.
    """

    def __init__(self, *args, exact_count_limit=None, force_exact=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.exact_count_limit = (
            settings.API_EXACT_COUNT_LIMIT if exact_count_limit is None else exact_count_limit
        )
        self.force_exact = force_exact
        self._count_exact = True

    @cached_property
    def count(self):
        queryset = self.object_list
        if not hasattr(queryset, "query"):
            return len(queryset)
        if self.force_exact or connections[queryset.db].vendor != "postgresql":
            return queryset.count()
        limit = self.exact_count_limit
        bounded = queryset.order_by().values("pk")[: limit + 1].count()
        if bounded <= limit:
            return bounded
        self._count_exact = False
        return max(limit + 1, _planner_rows(queryset))

    @property
    def count_exact(self) -> bool:
        self.count  # noqa: B018 - evaluates (and caches) the count, which decides
        return self._count_exact

    def validate_number(self, number):
        if self.count_exact:
            return super().validate_number(number)
        try:
            number = int(number)
        except (TypeError, ValueError):
            raise PageNotAnInteger("That page number is not an integer") from None
        if number < 1:
            raise EmptyPage("That page number is less than 1")
        return number  # an estimate may be low: page() finds out whether the page has rows

    def page(self, number):
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        rows = list(self.object_list[bottom : bottom + self.per_page + 1])
        has_next = len(rows) > self.per_page
        rows = rows[: self.per_page]
        if not rows and number > 1:
            raise EmptyPage("That page contains no results")
        return BoundedPage(rows, number, self, has_next=has_next)


class BoundedPage(Page):
    def __init__(self, object_list, number, paginator, *, has_next):
        super().__init__(object_list, number, paginator)
        self._has_next = has_next

    def has_next(self):
        return self._has_next


def _planner_rows(queryset) -> int:
    plan = json.loads(queryset.order_by().explain(format="json"))
    return int(plan[0]["Plan"]["Plan Rows"])


class PageNumberPagination(pagination.PageNumberPagination):
    """`?page=` and `?page_size=`, capped so no client can ask for the whole table.

    `count` is exact up to API_EXACT_COUNT_LIMIT matching rows and an estimate above
    (`count_exact: false`); see BoundedCountPaginator and README "Performance".
    A `page` that is not a positive whole number (or `last`) is a 400 naming `page`; a page
    past the end is a 404 (DRF's answer), both documented in the schema.
    """

    page_size_query_param = "page_size"
    django_paginator_class = BoundedCountPaginator

    @property
    def max_page_size(self):
        return settings.API_MAX_PAGE_SIZE

    def get_page_number(self, request, paginator):
        page_number = request.query_params.get(self.page_query_param) or 1
        if page_number in self.last_page_strings:
            paginator.force_exact = True  # `last` must be the real last page: count them all
        return super().get_page_number(request, paginator)

    def get_paginated_response(self, data):
        return Response({
            "count": self.page.paginator.count,
            "count_exact": self.page.paginator.count_exact,
            "next": self.get_next_link(),
            "previous": self.get_previous_link(),
            "results": data,
        })

    def get_paginated_response_schema(self, schema):
        schema = super().get_paginated_response_schema(schema)
        schema["properties"]["count_exact"] = {
            "type": "boolean",
            "example": True,
            "description": "False when `count` is PostgreSQL's estimate (more than "
            "API_EXACT_COUNT_LIMIT matching rows); `next` is exact either way.",
        }
        schema["required"] = [*schema.get("required", []), "count_exact"]
        return schema

    def paginate_queryset(self, queryset, request, view=None):
        page = request.query_params.get(self.page_query_param)
        valid = page is None or page in self.last_page_strings or (
            page.isascii() and page.isdigit() and int(page) >= 1
        )
        if not valid:
            raise ValidationError({self.page_query_param: ["Enter a page number from 1."]})
        return super().paginate_queryset(queryset, request, view)
