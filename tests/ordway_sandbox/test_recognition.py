"""Revenue-recognition engine: revenue-rules.md §3 and worked examples E1/E2.

Expected figures are the literal numbers of revenue-rules.md or independent Decimal arithmetic
written out in the test, never values produced by the code under test.
"""

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import pytest

from ordway_sandbox import recognition
from ordway_sandbox.recognition import (
    exact_days,
    on_invoicing,
    recognize,
    straight_line,
)

D = Decimal


def cents(value: Decimal) -> Decimal:
    return value.quantize(D("0.01"), rounding=ROUND_HALF_UP)


def test_e1_exact_days_matches_ordway_example_every_month():
    schedule = exact_days(D("12000.00"), date(2023, 10, 1), date(2024, 9, 30))
    expected = {
        date(2023, 10, 1): D("1016.39"),
        date(2023, 11, 1): D("983.61"),
        date(2023, 12, 1): D("1016.39"),
        date(2024, 1, 1): D("1016.39"),
        date(2024, 2, 1): D("950.82"),
        date(2024, 3, 1): D("1016.39"),
        date(2024, 4, 1): D("983.61"),
        date(2024, 5, 1): D("1016.39"),
        date(2024, 6, 1): D("983.61"),
        date(2024, 7, 1): D("1016.39"),
        date(2024, 8, 1): D("1016.39"),
        date(2024, 9, 1): D("983.62"),
    }
    assert schedule == expected
    assert list(schedule) == list(expected)


def test_e1_straight_line_matches_ordway_example_every_month():
    schedule = straight_line(D("12000.00"), date(2023, 10, 15), date(2024, 10, 14))
    expected = {date(2023, 10, 1): D("548.39")}
    for month in [11, 12]:
        expected[date(2023, month, 1)] = D("1000.00")
    for month in range(1, 10):
        expected[date(2024, month, 1)] = D("1000.00")
    expected[date(2024, 10, 1)] = D("451.61")
    assert schedule == expected
    assert list(schedule) == list(expected)


E2_REVENUE = [
    (date(2026, 3, 1), "558.90"),
    (date(2026, 4, 1), "986.30"),
    (date(2026, 5, 1), "1019.18"),
    (date(2026, 6, 1), "986.30"),
    (date(2026, 7, 1), "1019.18"),
    (date(2026, 8, 1), "1019.18"),
    (date(2026, 9, 1), "986.30"),
    (date(2026, 10, 1), "1019.18"),
    (date(2026, 11, 1), "986.30"),
    (date(2026, 12, 1), "1019.18"),
    (date(2027, 1, 1), "1019.18"),
    (date(2027, 2, 1), "920.55"),
    (date(2027, 3, 1), "460.27"),
]


def test_e2_annual_upfront_exact_days_every_month_and_closing_deferred():
    schedule = recognize(
        "Exact Days, Prorated", D("12000.00"), date(2026, 3, 15), date(2027, 3, 14)
    )
    assert schedule == {month: D(value) for month, value in E2_REVENUE}
    closing = {}
    balance = D("12000.00")  # billed upfront in March 2026
    for month, value in E2_REVENUE:
        balance -= D(value)
        closing[month] = balance
    assert closing[date(2026, 3, 1)] == D("11441.10")
    assert closing[date(2026, 4, 1)] == D("10454.80")
    assert closing[date(2026, 12, 1)] == D("2400.00")
    assert closing[date(2027, 2, 1)] == D("460.27")
    assert closing[date(2027, 3, 1)] == D("0.00")


@pytest.mark.parametrize("method", ["Exact Days, Prorated", "Straight-line, Prorated"])
@pytest.mark.parametrize(
    ("amount", "start", "end"),
    [
        ("12000.00", date(2023, 10, 15), date(2024, 10, 14)),
        ("999.99", date(2026, 1, 31), date(2026, 7, 30)),
        ("0.01", date(2026, 1, 1), date(2026, 12, 31)),
        ("100000.00", date(2026, 2, 10), date(2029, 2, 9)),
        ("-450.00", date(2026, 5, 17), date(2026, 8, 31)),
        ("1234.57", date(2026, 3, 20), date(2026, 6, 3)),
    ],
)
def test_every_schedule_sums_to_its_amount_exactly(method, amount, start, end):
    schedule = recognize(method, D(amount), start, end)
    assert sum(schedule.values(), D("0")) == D(amount)
    assert all(month.day == 1 for month in schedule)
    assert list(schedule) == sorted(schedule)
    assert min(schedule) == start.replace(day=1)
    assert max(schedule) == end.replace(day=1)


@pytest.mark.parametrize("method", ["Exact Days, Prorated", "Straight-line, Prorated"])
def test_one_day_term_recognizes_everything_in_that_month(method):
    assert recognize(method, D("300.00"), date(2026, 4, 30), date(2026, 4, 30)) == {
        date(2026, 4, 1): D("300.00")
    }


@pytest.mark.parametrize("method", ["Exact Days, Prorated", "Straight-line, Prorated"])
def test_term_inside_one_month_recognizes_everything_in_that_month(method):
    assert recognize(method, D("777.77"), date(2026, 6, 3), date(2026, 6, 21)) == {
        date(2026, 6, 1): D("777.77")
    }


def test_exact_days_counts_the_leap_day():
    # 2024-01-01..2024-12-31 has 366 days; February has 29 of them.
    schedule = exact_days(D("36600.00"), date(2024, 1, 1), date(2024, 12, 31))
    assert schedule[date(2024, 2, 1)] == D("2900.00")
    assert schedule[date(2024, 1, 1)] == D("3100.00")
    assert schedule[date(2024, 12, 1)] == D("3100.00")


def test_exact_days_over_a_leap_february_uses_independent_arithmetic():
    amount, days = D("1000.00"), (date(2024, 3, 10) - date(2024, 2, 10)).days + 1  # 30 days
    schedule = exact_days(amount, date(2024, 2, 10), date(2024, 3, 10))
    feb = cents(amount * 20 / days)  # 10..29 Feb = 20 days
    assert schedule == {date(2024, 2, 1): feb, date(2024, 3, 1): amount - feb}


def test_straight_line_prorates_a_leap_february_by_29_days():
    # Monthly rate 1000; 15..29 Feb 2024 is 15 of 29 days.
    schedule = straight_line(D("12000.00"), date(2024, 2, 15), date(2025, 2, 14))
    assert schedule[date(2024, 2, 1)] == cents(D("1000") * 15 / 29)
    assert schedule[date(2024, 3, 1)] == D("1000.00")
    assert schedule[date(2025, 2, 1)] == D("12000.00") - cents(D("1000") * 15 / 29) - D("11000.00")


def test_straight_line_with_a_term_that_is_not_whole_months_counts_the_leftover_fraction():
    # 2026-01-01..2026-03-15: two whole months + 15 of 31 days (15 Mar..14 Apr is 31 days).
    schedule = straight_line(D("2150.00"), date(2026, 1, 1), date(2026, 3, 15))
    rate = D("2150.00") / (D(2) + D(15) / D(31))
    assert schedule[date(2026, 1, 1)] == cents(rate)
    assert schedule[date(2026, 2, 1)] == cents(rate)
    assert schedule[date(2026, 3, 1)] == D("2150.00") - 2 * cents(rate)


def test_negative_amounts_mirror_positive_ones_for_credits():
    positive = exact_days(D("12000.00"), date(2023, 10, 1), date(2024, 9, 30))
    negative = exact_days(D("-12000.00"), date(2023, 10, 1), date(2024, 9, 30))
    assert negative == {month: -value for month, value in positive.items()}
    sl = straight_line(D("-12000.00"), date(2023, 10, 15), date(2024, 10, 14))
    assert sl[date(2023, 10, 1)] == D("-548.39")
    assert sl[date(2024, 10, 1)] == D("-451.61")


def test_half_cent_rounds_away_from_zero_for_both_signs():
    # 0.05 * 15 / 30 = 0.025 exactly -> 0.03 and -0.03.
    assert exact_days(D("0.05"), date(2026, 4, 16), date(2026, 5, 15))[date(2026, 4, 1)] == D(
        "0.03"
    )
    assert exact_days(D("-0.05"), date(2026, 4, 16), date(2026, 5, 15))[date(2026, 4, 1)] == D(
        "-0.03"
    )


def test_on_invoicing_puts_the_whole_amount_in_the_invoice_month():
    assert on_invoicing(D("2500.00"), date(2026, 7, 19)) == {date(2026, 7, 1): D("2500.00")}
    assert recognize(
        "Recognize on invoicing", D("-10.00"), date(2026, 1, 31), date(2026, 1, 31)
    ) == {date(2026, 1, 1): D("-10.00")}


def test_usage_recognizes_in_the_month_of_the_usage_date():
    assert recognize("Usage", D("42.10"), date(2025, 12, 1), date(2025, 12, 31)) == {
        date(2025, 12, 1): D("42.10")
    }


def test_dispatcher_accepts_the_revenue_rules_spelling_and_rejects_unknown_methods():
    assert recognize("Recognize on Invoicing", D("1.00"), date(2026, 1, 5), date(2026, 1, 5)) == {
        date(2026, 1, 1): D("1.00")
    }
    with pytest.raises(ValueError, match="unknown recognition_method"):
        recognize("Milestone", D("1.00"), date(2026, 1, 1), date(2026, 1, 2))


def test_invalid_inputs_are_rejected_with_a_clear_message():
    with pytest.raises(ValueError, match="before it starts"):
        exact_days(D("1.00"), date(2026, 2, 1), date(2026, 1, 31))
    with pytest.raises(ValueError, match="2 decimal places"):
        straight_line(D("1.001"), date(2026, 1, 1), date(2026, 1, 31))
    with pytest.raises(TypeError):
        exact_days(1.0, date(2026, 1, 1), date(2026, 1, 31))  # type: ignore[arg-type]


def test_add_months_clamps_to_the_end_of_short_months():
    assert recognition.add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert recognition.add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert recognition.add_months(date(2026, 1, 31), 2) == date(2026, 3, 31)
