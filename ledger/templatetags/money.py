"""Korean won for people: `₩1,234,567` (cents only when there are any)."""

from decimal import Decimal

from django import template

register = template.Library()


def format_won(value: Decimal | int | None) -> str:
    """`Decimal("1234567.00")` → `₩1,234,567`; `-5400` → `-₩5,400`; None → `—`."""
    if value is None or value == "":
        return "—"
    amount = Decimal(value)
    sign = "-" if amount < 0 else ""
    amount = abs(amount)
    if amount == amount.to_integral_value():
        digits = f"{amount.quantize(Decimal(1)):,}"
    else:
        digits = f"{amount.quantize(Decimal('0.01')):,}"
    return f"{sign}₩{digits}"


@register.filter(name="won")
def won(value):
    return format_won(value)
