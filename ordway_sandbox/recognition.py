"""Revenue-recognition engine of the sandbox (revenue-rules.md §3).

Pure functions over ``Decimal`` money and inclusive ``date`` ranges. Every function returns an
ordered ``dict[date, Decimal]`` keyed by the first day of each month, whose values sum to the
input amount exactly; rounding is to cents, half away from zero (``ROUND_HALF_UP``), and the last
month always takes the residual.

Straight-line, Prorated, precisely:

* ``K`` = the number of whole months in the term: the largest ``k >= 0`` with
  ``add_months(start, k) <= end + 1 day`` (anniversaries are computed from ``start`` and clamped
  to the month's last day, so 31 Jan + 1 month = 28/29 Feb).
* If ``add_months(start, K) == end + 1 day`` the term is exactly ``K`` months and the monthly rate
  is ``R = A / K`` (the rule in revenue-rules §3).
* Otherwise the term has ``r`` leftover days after its ``K`` whole months; the leftover counts as
  the fraction ``r / L`` of a month, where ``L`` is the length in days of the anniversary month
  that contains it (``add_months(start, K) .. add_months(start, K + 1) - 1``), and
  ``R = A / (K + r / L)``. A term shorter than a month therefore has ``K = 0``.
* A calendar month fully inside the term gets ``round(R, 2)``; a partially covered month gets
  ``round(R * d_m / days_in_month(m), 2)``; the last month takes ``A - sum(earlier months)``.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")

EXACT_DAYS = "Exact Days, Prorated"
STRAIGHT_LINE = "Straight-line, Prorated"
ON_INVOICING = "Recognize on invoicing"
USAGE = "Usage"
METHODS = (EXACT_DAYS, STRAIGHT_LINE, ON_INVOICING, USAGE)

Schedule = dict[date, Decimal]


def round_cents(value: Decimal) -> Decimal:
    """Round to cents, half away from zero (never returns ``-0.00``)."""
    rounded = value.quantize(CENT, rounding=ROUND_HALF_UP)
    return rounded if rounded != 0 else Decimal("0.00")


def days_in_month(month: date) -> int:
    """Number of days of the month containing ``month``."""
    return calendar.monthrange(month.year, month.month)[1]


def add_months(day: date, months: int) -> date:
    """``day`` moved by ``months`` calendar months, clamped to the target month's last day."""
    index = day.year * 12 + day.month - 1 + months
    year, month0 = divmod(index, 12)
    last = calendar.monthrange(year, month0 + 1)[1]
    return date(year, month0 + 1, min(day.day, last))


def month_start(day: date) -> date:
    """First day of the month containing ``day``."""
    return day.replace(day=1)


def _months(start: date, end: date) -> Iterator[tuple[date, int]]:
    """Yield ``(first day of month, days of that month inside start..end)`` in order."""
    current = month_start(start)
    while current <= end:
        last = current.replace(day=days_in_month(current))
        covered = (min(last, end) - max(current, start)).days + 1
        yield current, covered
        current = last + timedelta(days=1)


def _check(amount: Decimal, start: date, end: date) -> None:
    if not isinstance(amount, Decimal):
        raise TypeError(f"amount must be a Decimal, got {type(amount).__name__}")
    if amount != amount.quantize(CENT):
        raise ValueError(f"amount {amount} has more than 2 decimal places")
    if end < start:
        raise ValueError(f"service period ends ({end}) before it starts ({start})")


def _with_residual(amount: Decimal, parts: list[tuple[date, Decimal]]) -> Schedule:
    """Round every part but the last to cents; the last month takes the residual."""
    schedule: Schedule = {}
    running = Decimal("0.00")
    for month, raw in parts[:-1]:
        value = round_cents(raw)
        schedule[month] = value
        running += value
    schedule[parts[-1][0]] = round_cents(amount - running)
    return schedule


def exact_days(amount: Decimal, start: date, end: date) -> Schedule:
    """Exact Days, Prorated: ``round(A * d_m / N, 2)`` per month, residual in the last month."""
    _check(amount, start, end)
    total_days = (end - start).days + 1
    parts = [(month, amount * days / total_days) for month, days in _months(start, end)]
    return _with_residual(amount, parts)


def whole_months(start: date, end: date) -> tuple[int, int, int]:
    """``(K, leftover_days, leftover_month_length)`` of the term ``start..end`` (see module doc)."""
    after_end = end + timedelta(days=1)
    k = (after_end.year - start.year) * 12 + after_end.month - start.month
    while k > 0 and add_months(start, k) > after_end:
        k -= 1
    anchor = add_months(start, k)
    leftover = (after_end - anchor).days
    length = (add_months(start, k + 1) - anchor).days
    return k, leftover, length


def straight_line(amount: Decimal, start: date, end: date) -> Schedule:
    """Straight-line, Prorated: ``A / K`` per full month, day-prorated partial months."""
    _check(amount, start, end)
    k, leftover, length = whole_months(start, end)
    term_months = Decimal(k) + Decimal(leftover) / Decimal(length)
    rate = amount / term_months
    parts = []
    for month, days in _months(start, end):
        month_days = days_in_month(month)
        parts.append((month, rate if days == month_days else rate * days / month_days))
    return _with_residual(amount, parts)


def on_invoicing(amount: Decimal, invoice_date: date) -> Schedule:
    """Recognize on invoicing: the whole amount in the invoice month."""
    _check(amount, invoice_date, invoice_date)
    return {month_start(invoice_date): round_cents(amount)}


def usage(amount: Decimal, usage_date: date) -> Schedule:
    """Usage: the whole amount in the month of the usage."""
    _check(amount, usage_date, usage_date)
    return {month_start(usage_date): round_cents(amount)}


def recognize(method: str, amount: Decimal, start: date, end: date) -> Schedule:
    """Dispatch on a revenue rule's ``recognition_method`` (case-insensitive).

    For ``Recognize on invoicing`` ``start`` is the invoice date; for ``Usage`` it is the usage
    date (``end`` is only validated for those two).
    """
    key = method.strip().lower()
    if key == EXACT_DAYS.lower():
        return exact_days(amount, start, end)
    if key == STRAIGHT_LINE.lower():
        return straight_line(amount, start, end)
    _check(amount, start, end)
    if key == ON_INVOICING.lower():
        return on_invoicing(amount, start)
    if key == USAGE.lower():
        return usage(amount, start)
    raise ValueError(f"unknown recognition_method {method!r}; expected one of {METHODS}")
