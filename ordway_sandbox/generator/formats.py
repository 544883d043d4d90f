"""Wire formats every renderer shares: dates, timestamps, money, audit fields and ids."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal

from ordway_sandbox.generator.model import MS_PER_DAY, Record, Touch
from ordway_sandbox.generator.timeline import T_NIGHTLY, batch_stamp

SYSTEM_USER = "system@ordwaylabs.com"
FINANCE_USER = "finance@demo-saas.example"
CHARGE_TYPE = {"Recurring": "Recurring", "One time": "One Time", "Usage based": "Usage Based"}
LINE_CHARGE_TYPE = {"Recurring": "recurring", "One time": "one_time", "Usage based": "usage_based"}
TIMING = {"Recurring": "In Advance", "One time": "In Advance", "Usage based": "In Arrears"}

ABSENT = object()
"""An ``exchange_rate`` value meaning "leave the key out" (missing_rates)."""

_day_str: dict[int, str] = {}


def day_str(ordinal: int) -> str:
    text = _day_str.get(ordinal)
    if text is None:
        text = _day_str[ordinal] = date.fromordinal(ordinal).isoformat()
    return text


def ts(stamp: int) -> str:
    day, ms = divmod(stamp, MS_PER_DAY)
    seconds, ms = divmod(ms, 1000)
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{day_str(day)}T{hours:02d}:{minutes:02d}:{seconds:02d}.{ms:03d}Z"


def money(value: Decimal) -> str:
    return "0.00" if value == 0 else f"{value:.2f}"


def later(a: Touch, b: Touch | None) -> Touch:
    return a if b is None or a[:2] >= b[:2] else b


def audit(rec: Record, touch: Touch | None = None, user: str = SYSTEM_USER) -> dict:
    last = touch or rec.t
    return {
        "created_by": user,
        "updated_by": user,
        "created_date": ts(rec.created),
        "updated_date": ts(last[2]),
    }


def assign_ids(records: Iterable[Record], prefix: str) -> None:
    for number, rec in enumerate(sorted(records, key=lambda r: r.key), start=1):
        rec.id = f"{prefix}-{number:05d}"


def nightly(day: int) -> Touch:
    return (day, T_NIGHTLY, batch_stamp(day, T_NIGHTLY))
