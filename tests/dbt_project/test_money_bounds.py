"""Money at the limits: amounts of 15 integer digits, a three-year IDR contract of about 1e11
at a rate of 0.0000612345, and a currency worth more than the reporting currency (KWD), through
`dbt build` (tests/dbt_project/shaped_tenants.py::large_amounts).

Nothing overflows, and MRR/ARR, recognized revenue (document and reporting currency), the
deferred revenue roll-forward and the revenue recomputation equal an independent oracle written
here with Python's Decimal (ROUND_HALF_UP, 80 significant digits) from revenue-rules.md and the
tenant's documents, never from the SQL.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, localcontext
from typing import Any

import pytest

from ordway_sandbox import recognition
from tests.dbt_project import shaped_tenants
from tests.dbt_project.raw_loader import load_tenant
from tests.support.dbt import BuiltTenant, assert_build_passed, run_dbt

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("dbt_money_bounds")]

AS_OF = date.fromisoformat(shaped_tenants.LARGE_AS_OF)
AS_OF_MONTH = AS_OF.replace(day=1)
TEN = Decimal("1e-10")
PRECISION = 80
MONTHS_PER_PERIOD = {"Monthly": 1, "Annually": 12, "3 Years": 36}
MONTH_INDEX = {name[:3].lower(): i for i, name in enumerate(shaped_tenants.MONTH_NAMES, 1)}


def q10(value: Decimal) -> Decimal:
    return value.quantize(TEN, rounding=ROUND_HALF_UP)


def _dec(value: Any) -> Decimal:
    return Decimal(str(value))


def _day(value: str) -> date:
    return date.fromisoformat(value)


def _month(financial_period: str) -> date:
    name, year = financial_period.split()
    return date(int(year), MONTH_INDEX[name[:3].lower()], 1)


def posted_lines(method: str, amount: str, start: str, end: str) -> list[tuple[str, str, str]]:
    """The sandbox engine's schedule, posted through the as-of month."""
    with localcontext() as context:
        context.prec = PRECISION
        schedule = recognition.recognize(method, Decimal(amount), _day(start), _day(end))
    return [
        (
            f"{shaped_tenants.MONTH_NAMES[month.month - 1]} {month.year}",
            f"{value:.2f}",
            "Yes" if month <= AS_OF_MONTH else "No",
        )
        for month, value in schedule.items()
    ]


def month_ends() -> Iterator[tuple[date, date]]:
    """(month, snapshot date) from January 2025 to the as-of month."""
    month = date(2025, 1, 1)
    while month <= AS_OF_MONTH:
        following = date(month.year + month.month // 12, month.month % 12 + 1, 1)
        yield month, min(date.fromordinal(following.toordinal() - 1), AS_OF)
        month = following


def oracle_mrr(tenant: dict[str, Any]) -> dict[tuple[date, str], Decimal]:
    """revenue-rules §5: per customer and month-end, the sum over recurring billing schedule
    lines covering it of round(unit_price * quantity * subscription rate / months, 10)."""
    subscriptions = {s["id"]: s for s in tenant["subscriptions"]}
    out: dict[tuple[date, str], Decimal] = defaultdict(Decimal)
    for schedule in tenant["billing_schedules"]:
        subscription = subscriptions[schedule["subscription_id"]]
        line = next(
            p for p in subscription["plans"] if p["subscription_line_id"] == schedule["charge_id"]
        )
        months = MONTHS_PER_PERIOD[line["billing_period"]]
        rate = _dec(subscription["exchange_rate"])
        for billing_line in schedule["schedule_lines"]:
            start, end = _day(billing_line["start_date"]), _day(billing_line["end_date"])
            amount = _dec(billing_line["unit_price"]) * _dec(billing_line["quantity"])
            for month, snapshot in month_ends():
                if start <= snapshot <= end:
                    with localcontext() as context:
                        context.prec = PRECISION
                        out[(month, schedule["customer_id"])] += q10(amount * rate / months)
    return dict(out)


def oracle_revenue(tenant: dict[str, Any]) -> dict[tuple[date, str, str], tuple[Decimal, Decimal]]:
    """Recognized revenue per month, customer, currency: posted lines up to the as-of month, in
    document currency and converted line by line at the line's rate, rounded to 10 decimals."""
    out: dict[tuple[date, str, str], list[Decimal]] = defaultdict(lambda: [Decimal(0)] * 2)
    for schedule in tenant["revenue_schedules"]:
        for line in schedule["schedule_lines"]:
            month = _month(line["financial_period"])
            if line["posted"] == "Yes" and month <= AS_OF_MONTH:
                key = (month, schedule["customer_id"], line["currency"])
                out[key][0] += _dec(line["amount"])
                out[key][1] += q10(_dec(line["amount"]) * _dec(line["exchange_rate"]))
    return {key: (value[0], value[1]) for key, value in out.items()}


def oracle_billings(tenant: dict[str, Any]) -> dict[tuple[date, str, str], Decimal]:
    out: dict[tuple[date, str, str], Decimal] = defaultdict(Decimal)
    for document in tenant["invoices"]:
        month = _day(document["invoice_date"]).replace(day=1)
        key = (month, document["customer_id"], document["currency"])
        out[key] += sum((_dec(li["effective_price"]) for li in document["line_items"]), Decimal(0))
    return dict(out)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BuiltTenant]:
    workdir = tmp_path_factory.mktemp("dbt_money_bounds")
    tenant = shaped_tenants.large_amounts(posted_lines)
    load_tenant(tenant, workdir / "ordway.duckdb", workdir / "dlt")
    run = run_dbt("build", workdir / "ordway.duckdb", workdir, AS_OF.isoformat())
    yield BuiltTenant(workdir / "ordway.duckdb", tenant, run)


def test_dbt_build_with_15_digit_amounts_builds_every_mart_and_passes_every_test(
    built: BuiltTenant,
) -> None:
    assert_build_passed(built.run)
    customers = built.rows("select distinct customer_id from marts.fct_mrr order by 1")
    assert customers == [("C-IDR",), ("C-KWD",), ("C-MAX",)]
    assert built.rows("select count(*) from marts.fct_retention where nrr is not null")[0][0] > 0


def test_mrr_and_arr_equal_the_decimal_oracle_for_every_customer_and_month(
    built: BuiltTenant,
) -> None:
    expected = oracle_mrr(built.tenant)
    actual = {
        (month, customer): (mrr, arr)
        for month, customer, mrr, arr in built.rows(
            "select month, customer_id, mrr, arr from marts.fct_mrr where mrr <> 0"
        )
    }
    assert {key: value[0] for key, value in actual.items()} == expected
    assert {key: value[1] for key, value in actual.items()} == {
        key: 12 * value for key, value in expected.items()
    }
    # spot values typed from the rules: 999,999,999,999,999.99 / 12 and the IDR contract
    assert expected[(date(2025, 1, 1), "C-MAX")] == Decimal("83333333333333.3325")
    assert expected[(date(2026, 6, 1), "C-IDR")] == q10(
        Decimal("123456789012.34") * Decimal("0.0000612345") / 36
    )
    closing = dict(built.rows("select month, closing_arr from marts.fct_arr_movements"))
    by_month: dict[date, Decimal] = defaultdict(Decimal)
    for (month, _), mrr in expected.items():
        by_month[month] += 12 * mrr
    assert {m: v for m, v in closing.items() if v != 0} == dict(by_month)


def test_recognized_revenue_in_document_and_reporting_currency_equals_the_oracle(
    built: BuiltTenant,
) -> None:
    expected = oracle_revenue(built.tenant)
    actual = {
        (month, customer, currency): (amount, reporting)
        for month, customer, currency, amount, reporting in built.rows(
            "select month, customer_id, currency, recognized_revenue, "
            "recognized_revenue_reporting from marts.fct_revenue_monthly"
        )
    }
    assert actual == expected
    assert len(expected) > 30


def test_deferred_revenue_rolls_forward_exactly_to_the_oracles_balance(built: BuiltTenant) -> None:
    billings = oracle_billings(built.tenant)
    revenue = oracle_revenue(built.tenant)
    rows = built.rows(
        "select month, customer_id, currency, billings, recognized_revenue, closing_balance "
        "from marts.fct_deferred_revenue order by customer_id, currency, month"
    )
    balance: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for month, customer, currency, billed, recognized, closing in rows:
        key = (month, customer, currency)
        assert billed == billings.get(key, Decimal(0)), key
        assert recognized == revenue.get(key, (Decimal(0),))[0], key
        balance[(customer, currency)] += billed - recognized
        assert closing == balance[(customer, currency)], key
    # C-MAX: both years billed, 2025 and half of 2026 recognized (Exact Days, 181 of 365 days)
    with localcontext() as context:
        context.prec = PRECISION
        first_half = sum(
            recognition.exact_days(
                Decimal(shaped_tenants.MAX_USD), date(2026, 1, 1), date(2026, 12, 31)
            )[date(2026, m, 1)]
            for m in range(1, 7)
        )
    assert balance[("C-MAX", "USD")] == Decimal(shaped_tenants.MAX_USD) - first_half


def test_recomputation_equals_the_decimal_engine_on_the_large_schedules(built: BuiltTenant) -> None:
    expected = {}
    for schedule in built.tenant["revenue_schedules"]:
        method = (
            "Exact Days, Prorated"
            if schedule["id"].startswith("RS-MAX")
            else "Straight-line, Prorated"
        )
        with localcontext() as context:
            context.prec = PRECISION
            lines = recognition.recognize(
                method,
                _dec(schedule["total_revenue"]),
                _day(schedule["start_date"]),
                _day(schedule["end_date"]),
            )
        expected.update({(schedule["id"], month): value for month, value in lines.items()})
    actual = {
        (schedule_id, month): value
        for schedule_id, month, value in built.rows(
            "select revenue_schedule_id, month, recomputed_revenue "
            "from intermediate.int_revenue_schedules_recomputed"
        )
    }
    assert actual == expected
    assert built.rows(
        "select count(*), sum(abs(difference)) from marts.fct_revenue_reconciliation"
    ) == [(len(expected), Decimal(0))]
