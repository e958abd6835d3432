"""Output serializers that render plain rows: the declared fields are the schema AND the
rendering.

A resource is rendered by one serializer whose fields drf-spectacular turns into the schema.
Its rows are plain dicts from `QuerySet.values(*Serializer.row_keys())` (a field's `source`
`category.name` is the values key `category__name`) or a selector's result objects (their
attributes named by `source`; `*` is the object itself), rendered by converters chosen once
per class from the field types — no model instances, no per-field attribute walk and no
field copies per answer (DRF deep-copies a nested serializer's fields on every use), so an
answer costs what its query costs. A nested `RowSerializer` (`many=True` too) renders the
same way.
"""

import functools
import operator
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


class RowField(serializers.Field):
    """An output field rendered by `render(value)`: a value `RowSerializer` has no converter
    for (subclasses define `render`)."""

    @staticmethod
    def render(value):
        raise NotImplementedError

    def to_representation(self, value):
        return self.render(value)


# Converter markers: a value rendered by a nested RowSerializer, one or a list of them.
_NESTED, _NESTED_MANY = object(), object()


def _converter(field: serializers.Field) -> Callable | object | None:
    """How a field's value is rendered; None for a datetime (it needs the current zone)."""
    if isinstance(field, RowSerializer):
        return _NESTED
    if isinstance(field, serializers.ListSerializer) and isinstance(field.child, RowSerializer):
        return _NESTED_MANY
    if isinstance(field, RowField):
        return field.render
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


# Renders dict rows or result objects; subclasses declare read-only fields with `source` = the
# model path (or the attribute). A comment, not a docstring: drf-spectacular would give it as
# the description of every answer rendered by a subclass without a docstring of its own.
class RowSerializer(serializers.Serializer):
    _plans: dict = {}
    # The `values()` keys the `get_<name>` methods read besides the declared fields' own.
    method_keys: tuple[str, ...] = ()

    @classmethod
    def _plan(cls) -> list[tuple[str, str | None, object, serializers.Field]]:
        """(name, values key, converter, field) per field; a SerializerMethodField has no key:
        its converter is the class's `get_<name>`, which computes the value from the row."""
        plan = RowSerializer._plans.get(cls)
        if plan is None:
            plan = [
                (name, None, getattr(cls, f"get_{name}"), field)
                if isinstance(field, serializers.SerializerMethodField)
                else (name, field.source.replace(".", "__"), _converter(field), field)
                for name, field in cls().fields.items()
            ]
            RowSerializer._plans[cls] = plan
        return plan

    @classmethod
    def row_keys(cls) -> list[str]:
        """The `values()` keys a row needs."""
        return [key for _, key, _, _ in cls._plan() if key is not None] + list(cls.method_keys)

    @cached_property
    def _zone(self):
        """The zone datetimes are rendered in, read once per serializer (a list renders every
        row with one child): the caller's, which is the same for the whole answer."""
        return timezone.get_current_timezone()

    def to_representation(self, row) -> dict:
        return self._render(row, self._zone)

    def _render(self, row, tz) -> dict:
        steps = self._steps(tz, isinstance(row, dict))
        return {name: step(row) for name, step in steps}

    def _steps(self, tz, dict_rows: bool) -> list[tuple[str, Callable]]:
        """(name, row → rendered value) per field, made once per serializer, zone and kind of
        row (a list's rows share its child's): an answer's rows then cost one call a field."""
        cache = self.__dict__.setdefault("_steps_cache", {})
        steps = cache.get((tz, dict_rows))
        if steps is None:
            pick = operator.itemgetter if dict_rows else operator.attrgetter
            steps = [
                (name, self._step(pick, key, convert, field, tz))
                for name, key, convert, field in self._plan()
            ]
            cache[(tz, dict_rows)] = steps
        return steps

    def _step(self, pick, key, convert, field, tz) -> Callable:
        if key is None:  # a SerializerMethodField: `get_<name>(row)`
            return functools.partial(convert, self)
        value_of = _identity if key == "*" else pick(key)
        if convert is _identity:
            return value_of
        if convert is None:
            return lambda row: iso_datetime(value_of(row), tz)
        if convert is _NESTED:
            return lambda row: (
                None if (value := value_of(row)) is None else field._render(value, tz)
            )
        if convert is _NESTED_MANY:
            return lambda row: [field.child._render(item, tz) for item in value_of(row)]
        return lambda row: convert(value_of(row))
