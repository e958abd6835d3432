"""Output serializers that render plain rows: the declared fields are the schema AND the
rendering.

A resource is rendered by one serializer whose fields drf-spectacular turns into the schema.
Its rows are plain dicts from `QuerySet.values(*Serializer.row_keys())` (a field's `source`
`category.name` is the values key `category__name`), rendered by converters chosen once per
class from the field types — no model instances and no per-field attribute walk, so a
calendar month costs what its query costs.
"""

from collections.abc import Callable

from django.utils import timezone
from django.utils.functional import cached_property
from rest_framework import serializers

from household_ledger.api.rendering import iso_datetime


def _uuid(value):
    return None if value is None else str(value)


def _date(value):
    return None if value is None else value.isoformat()


def _bool(value):
    return bool(value)


def _identity(value):
    return value


def _converter(field: serializers.Field) -> Callable | None:
    """How a field's value is rendered; None for a datetime (it needs the current zone)."""
    if isinstance(field, serializers.UUIDField):
        return _uuid
    if isinstance(field, serializers.DateTimeField):
        return None
    if isinstance(field, serializers.DateField):
        return _date
    if isinstance(field, serializers.BooleanField):
        return _bool
    if isinstance(
        field,
        (
            serializers.CharField,
            serializers.ChoiceField,
            serializers.DecimalField,
            serializers.IntegerField,
        ),
    ):
        return _identity  # Decimal stays Decimal: the JSON renderer writes it as a number
    raise TypeError(f"RowSerializer cannot render a {type(field).__name__}")


class RowSerializer(serializers.Serializer):
    """Renders dict rows; subclasses declare read-only fields with `source` = the model path."""

    _plans: dict = {}
    # The `values()` keys the `get_<name>` methods read besides the declared fields' own.
    method_keys: tuple[str, ...] = ()

    @classmethod
    def _plan(cls) -> list[tuple[str, str | None, Callable | None]]:
        """(name, values key, converter) per field; a SerializerMethodField has no key: its
        `get_<name>(row)` computes the value from the row."""
        plan = RowSerializer._plans.get(cls)
        if plan is None:
            plan = [
                (name, None, None)
                if isinstance(field, serializers.SerializerMethodField)
                else (name, field.source.replace(".", "__"), _converter(field))
                for name, field in cls().fields.items()
            ]
            RowSerializer._plans[cls] = plan
        return plan

    @classmethod
    def row_keys(cls) -> list[str]:
        """The `values()` keys a row needs."""
        return [key for _, key, _ in cls._plan() if key is not None] + list(cls.method_keys)

    @cached_property
    def _zone(self):
        """The zone datetimes are rendered in, read once per serializer (a list renders every
        row with one child): the caller's, which is the same for the whole answer."""
        return timezone.get_current_timezone()

    def to_representation(self, row: dict) -> dict:
        tz = self._zone
        rendered = {}
        for name, key, convert in self._plan():
            if key is None:
                rendered[name] = getattr(self, f"get_{name}")(row)
            elif convert is None:
                rendered[name] = iso_datetime(row[key], tz)
            else:
                rendered[name] = convert(row[key])
        return rendered
