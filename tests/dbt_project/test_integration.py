"""End to end: sandbox tenant -> Ordway source (dlt) -> DuckDB -> `dbt build`.

The identities run inside `dbt build` as singular tests (roll-forward, ARR bridge, cumulative
billings - recognized = balance); here they must all pass on a few hundred generated customers.
The marts are then checked against oracles computed in Python with Decimal from the tenant
JSON the sandbox served, independently of the SQL:

- MRR at the last month-end = the tenant's recurring billing schedule lines covering it,
  unit_price * quantity / months per billing period * the subscription's exchange rate;
- billings and recognized revenue per customer and currency;
- the recomputation of every time-based revenue schedule (ordway_sandbox/recognition.py);
- cash and credits per month, customer and currency, and open AR (revenue-rules §9).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import pytest

from ordway_sandbox import recognition
from ordway_sandbox.process import SandboxProcess, credentials_env
from pipelines.config import OrdwaySettings
from pipelines.ordway.pipeline import make_pipeline, run_extract
from tests.support.dbt import DbtRun, query, run_dbt
from tests.support.oracles import (
    CASH_FIGURES,
    cash_monthly,
    invoices_off_their_applications,
    open_ar,
)

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("dbt_integration")]

CUSTOMERS = 200
SEED = 7
AS_OF = date(2026, 6, 30)  # a month-end: the last MRR month-end is the as-of date
CENT = Decimal("0.01")
MONTHS = {"monthly": 1, "quarterly": 3, "semi-annually": 6, "annually": 12}
BILLED = {"Posted", "Paid", "Partially paid", "Reversed"}


@dataclass
class Warehouse:
    duckdb_path: Path
    tenant: dict[str, Any]
    run: DbtRun

    def rows(self, sql: str) -> list[tuple]:
        return query(self.duckdb_path, sql)


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Warehouse]:
    workdir = tmp_path_factory.mktemp("dbt_integration")
    args = ["--customers", str(CUSTOMERS), "--seed", str(SEED), "--as-of", AS_OF.isoformat()]
    with SandboxProcess(args) as sandbox:
        tenant = sandbox.get_tenant()
        settings = OrdwaySettings.from_env(
            {
                **credentials_env(),
                "ORDWAY_BASE_URL": sandbox.base_url,
                "ORDWAY_MAX_RPS": "0",
                "DUCKDB_PATH": str(workdir / "ordway.duckdb"),
                "DLT_PIPELINES_DIR": str(workdir / "dlt"),
            }
        )
        run_extract(settings, "full", pipeline=make_pipeline(settings))
    run = run_dbt("build", workdir / "ordway.duckdb", workdir, AS_OF.isoformat())
    assert run.returncode == 0, run.output[-4000:]
    yield Warehouse(workdir / "ordway.duckdb", tenant, run)


def _dec(value: Any) -> Decimal:
    return Decimal(str(value))


def _day(value: str) -> date | None:
    return date.fromisoformat(value) if value not in (None, "", "-") else None


def months_per_period(billing_period: str) -> int:
    """revenue-rules §5, written independently of the SQL macro."""
    key = billing_period.strip().lower()
    if key in MONTHS:
        return MONTHS[key]
    number, unit = key.split()
    return int(number) * (12 if unit.startswith("year") else 1)


def oracle_mrr(tenant: Mapping[str, Any], snapshot: date) -> dict[str, Decimal]:
    """Net MRR per customer (reporting currency) at `snapshot`, from the tenant JSON."""
    subscriptions = {s["id"]: s for s in tenant["subscriptions"] if s["status"] != "Draft"}
    periods = {
        (s["id"], line["subscription_line_id"]): line["billing_period"]
        for s in subscriptions.values()
        for line in s["plans"]
    }
    mrr: dict[str, Decimal] = defaultdict(Decimal)
    for schedule in tenant["billing_schedules"]:
        subscription = subscriptions.get(schedule["subscription_id"])
        if schedule["charge_type"] != "Recurring" or subscription is None:
            continue
        months = months_per_period(periods[(schedule["subscription_id"], schedule["charge_id"])])
        rate = _dec(subscription["exchange_rate"])
        for line in schedule["schedule_lines"]:
            start, end = _day(line["start_date"]), _day(line["end_date"])
            if start <= snapshot and (end is None or snapshot <= end):
                amount = _dec(line["unit_price"]) * _dec(line["quantity"]) * rate
                mrr[schedule["customer_id"]] += amount / months
    return dict(mrr)


def test_dbt_build_passes_every_identity_data_and_unit_test(warehouse: Warehouse) -> None:
    assert warehouse.run.failures() == []
    tests = warehouse.run.statuses("test.")
    identities = {name: status for name, status in tests.items() if ".assert_" in name}
    expected = {
        "assert_deferred_revenue_rolls_forward",
        "assert_deferred_balance_equals_cumulative_billings_minus_revenue",
        "assert_arr_bridge_balances",
        "assert_mrr_movements_follow_their_definition",
        "assert_revenue_schedule_lines_sum_to_total_revenue",
        "assert_revenue_monthly_matches_deferred_recognized",
        "assert_no_draft_invoice_counts_in_a_mart",
        # the sandbox keeps balance = amount - payments - credits + refunds (TENANT.md)
        "assert_invoice_balances_follow_their_applications",
    }
    passed = {name.split(".")[2] for name, status in identities.items() if status == "pass"}
    assert expected <= passed
    assert set(warehouse.run.statuses("unit_test.").values()) == {"pass"}
    assert warehouse.rows("select count(distinct customer_id) from marts.fct_mrr")[0][0] >= 100


def test_mrr_at_the_last_month_end_equals_the_tenants_active_recurring_charges(
    warehouse: Warehouse,
) -> None:
    expected = oracle_mrr(warehouse.tenant, AS_OF)
    actual = dict(
        warehouse.rows(
            f"select customer_id, mrr from marts.fct_mrr where month = '{AS_OF:%Y-%m-01}'"
        )
    )
    total_expected = sum(expected.values(), Decimal(0))
    total_actual = sum(actual.values(), Decimal(0))
    assert total_expected > 0
    assert total_actual.quantize(CENT, ROUND_HALF_UP) == total_expected.quantize(
        CENT, ROUND_HALF_UP
    )
    active = {customer: value for customer, value in expected.items() if value != 0}
    for customer, value in active.items():
        assert abs(actual.get(customer, Decimal(0)) - value) < Decimal("1e-8"), customer
    assert {c for c, v in actual.items() if v != 0} == set(active)
    arr = warehouse.rows(
        f"select closing_arr from marts.fct_arr_movements where month = '{AS_OF:%Y-%m-01}'"
    )
    assert arr[0][0].quantize(CENT, ROUND_HALF_UP) == (12 * total_expected).quantize(
        CENT, ROUND_HALF_UP
    )


def test_mrr_matches_the_discounted_cmrr_ordway_reports_for_usd_customers(
    warehouse: Warehouse,
) -> None:
    actual = dict(
        warehouse.rows(
            f"select customer_id, mrr from marts.fct_mrr where month = '{AS_OF:%Y-%m-01}'"
        )
    )
    usd = [c for c in warehouse.tenant["customers"] if c["currency"] == "USD"]
    assert usd
    for customer in usd:
        mrr = actual.get(customer["id"], Decimal(0)).quantize(CENT, ROUND_HALF_UP)
        assert mrr == _dec(customer["discounted_cmrr"]), customer["id"]


def test_billings_and_recognized_revenue_per_customer_match_the_tenant_documents(
    warehouse: Warehouse,
) -> None:
    as_of_month = AS_OF.replace(day=1)
    billings: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for invoice in warehouse.tenant["invoices"]:
        if invoice["status"] not in BILLED or _day(invoice["invoice_date"]) > AS_OF:
            continue
        net = sum((_dec(line["effective_price"]) for line in invoice["line_items"]), Decimal(0))
        key = (invoice["customer_id"], invoice["currency"])
        billings[key] += net
        reversed_on = _day(invoice.get("reversed_on") or "") or _day(invoice["invoice_date"])
        if invoice["status"] == "Reversed" and reversed_on <= AS_OF:
            billings[key] -= net
    recognized: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for schedule in warehouse.tenant["revenue_schedules"]:
        for line in schedule["schedule_lines"]:
            name, year = line["financial_period"].split()
            month = date(
                int(year), [m.lower() for m in _MONTH_NAMES].index(name[:3].lower()) + 1, 1
            )
            if month <= as_of_month:
                recognized[(schedule["customer_id"], line["currency"])] += _dec(line["amount"])
    rows = warehouse.rows(
        "select customer_id, currency, sum(billings), sum(recognized_revenue) "
        "from marts.fct_deferred_revenue group by 1, 2"
    )
    actual_billings = {(c, cur): b for c, cur, b, _ in rows if b != 0}
    actual_recognized = {(c, cur): r for c, cur, _, r in rows if r != 0}
    assert actual_billings == {k: v for k, v in billings.items() if v != 0}
    assert actual_recognized == {k: v for k, v in recognized.items() if v != 0}


_MONTH_NAMES = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def test_recomputed_revenue_equals_the_decimal_engine_for_every_time_based_schedule(
    warehouse: Warehouse,
) -> None:
    rules = {r["id"]: r["recognition_method"] for r in warehouse.tenant["revenue_rules"]}
    lines = {
        (s["id"], line["subscription_line_id"]): line
        for s in warehouse.tenant["subscriptions"]
        for line in s["plans"]
    }
    expected: dict[tuple[str, date], Decimal] = {}
    for schedule in warehouse.tenant["revenue_schedules"]:
        subscription_id = schedule["source_transaction"].split(":")[1].strip()
        method = rules[lines[(subscription_id, schedule["charge_id"])]["revenue_rule_id"]]
        if method not in (recognition.EXACT_DAYS, recognition.STRAIGHT_LINE):
            continue
        start, end = _day(schedule["start_date"]), _day(schedule["end_date"])
        for month, amount in recognition.recognize(
            method, _dec(schedule["total_revenue"]), start, end
        ).items():
            expected[(schedule["id"], month)] = amount
    actual = {
        (schedule_id, month): amount
        for schedule_id, month, amount in warehouse.rows(
            "select revenue_schedule_id, month, recomputed_revenue "
            "from intermediate.int_revenue_schedules_recomputed"
        )
    }
    assert len(expected) > 100
    assert actual == expected


def test_cash_and_open_ar_equal_the_tenants_payments_refunds_credits_and_balances(
    warehouse: Warehouse,
) -> None:
    figures = ", ".join(CASH_FIGURES)
    actual = {
        (month, customer, currency): dict(zip(CASH_FIGURES, values, strict=True))
        for month, customer, currency, *values in warehouse.rows(
            f"select month, customer_id, currency, {figures} from marts.fct_cash_monthly"
        )
    }
    expected = cash_monthly(warehouse.tenant, AS_OF)
    assert actual == expected
    for figure in ("payments_received", "payments_applied", "failed_payment_attempts"):
        assert sum(row[figure] for row in expected.values()) > 0, figure
    aging = warehouse.rows(
        "select invoice_id, document_type, customer_id, currency, balance, due_date, "
        "days_past_due, aging_bucket from marts.fct_ar_aging"
    )
    assert set(aging) == open_ar(warehouse.tenant, AS_OF) != set()
    assert invoices_off_their_applications(warehouse.tenant) == set()
