"""The simulation's clock: days, months, the nominal times of the daily jobs, and stamps.

Days are ``date.toordinal()`` integers and stamps integer milliseconds (model.py). Within a day
the nominal times are: 00:05 nightly status job, 02:00 revenue posting run (1st of the month),
03:00 usage rating run (1st of the month), 04:00 renewals, 05:00 billing run, 06:00 payment run
(automatic payments and their retries), 07:00 statement run (1st of the month), then business
events (sign-ups, changes, payments, credits, reversals, usage) between 08:00 and 22:00. Batch
runs stamp every record they touch with one shared millisecond. Business events added after
generator version 1 (fees, drafts, duplicate payments, notes, card updates) happen at fixed
times of day (``T_*`` below), so that they draw nothing from a customer's random stream.
"""

from __future__ import annotations

from datetime import date

from ordway_sandbox import recognition as rec
from ordway_sandbox.generator.model import MS_PER_DAY

HOUR = 3_600_000
T_NIGHTLY = 5 * 60_000
T_POSTING = 2 * HOUR
T_USAGE_RUN = 3 * HOUR
T_RENEWAL = 4 * HOUR
T_BILLING = 5 * HOUR
T_PAYMENT_RUN = 6 * HOUR
T_STATEMENT = 7 * HOUR
T_FEE = 9 * HOUR + 30 * 60_000
T_DUPLICATE = 10 * HOUR + 15 * 60_000
T_FEE_PAYMENT = 11 * HOUR + 20 * 60_000
T_CARD_UPDATE = 12 * HOUR + 40 * 60_000
T_DRAFT = 14 * HOUR + 10 * 60_000
T_NOTE = 16 * HOUR + 25 * 60_000
T_REFUND = 15 * HOUR + 5 * 60_000


def d(ordinal: int) -> date:
    return date.fromordinal(ordinal)


def month_first(ordinal: int) -> int:
    day = date.fromordinal(ordinal)
    return ordinal - day.day + 1


def month_last(ordinal: int) -> int:
    day = date.fromordinal(ordinal)
    return ordinal - day.day + rec.days_in_month(day)


def add_months(ordinal: int, months: int) -> int:
    return rec.add_months(date.fromordinal(ordinal), months).toordinal()


def billing_run_stamp(day: int) -> int:
    """The shared ``updated_date`` of everything the day's billing run posts."""
    return day * MS_PER_DAY + T_BILLING + (day * 7919) % 1000


def payment_run_stamp(day: int) -> int:
    """The shared ``updated_date`` of everything the day's payment run writes."""
    return day * MS_PER_DAY + T_PAYMENT_RUN + (day * 7907) % 1000


def batch_stamp(day: int, proc: int) -> int:
    return day * MS_PER_DAY + proc
