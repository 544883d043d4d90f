"""The synthetic tenant honours TENANT.md: determinism, invariants 1-6, wire formats, variety.

Oracles are recomputed here from the records with independent Decimal/Fraction arithmetic
(revenue-rules §5 for MRR) or with ``recognition`` for schedules, never read back from the
field under test.
"""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

import pytest

from ordway_sandbox import recognition
from ordway_sandbox.tenant import build_tenant

AS_OF = date(2026, 3, 31)
START = date(2023, 3, 1)
D = Decimal
MONTHS = {
    "Monthly": 1,
    "Quarterly": 3,
    "Semi-annually": 6,
    "Annually": 12,
    "2 Years": 24,
    "3 Years": 36,
}
MONEY = re.compile(r"^-?\d+\.\d{2}$")
DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
STAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")


@pytest.fixture(scope="module")
def tenant() -> dict:
    return build_tenant(120, 5, AS_OF, start=START)


def cents(value) -> Decimal:
    if isinstance(value, Fraction):
        value = D(value.numerator) / D(value.denominator)
    return D(value).quantize(D("0.01"), rounding=ROUND_HALF_UP)


def total(values) -> Decimal:
    return sum((D(v) for v in values), D("0.00"))


def by_id(records: list[dict], key: str = "id") -> dict[str, dict]:
    return {record[key]: record for record in records}


def line_periods(tenant: dict) -> dict[tuple[str, str], str]:
    """(subscription id, subscription_line_id) -> billing_period, from the subscriptions."""
    return {
        (sub["id"], line["subscription_line_id"]): line["billing_period"]
        for sub in tenant["subscriptions"]
        for line in sub["plans"]
    }


# -- determinism -----------------------------------------------------------------------------
def test_same_arguments_give_identical_json_bytes():
    first = json.dumps(build_tenant(40, 3, date(2025, 8, 15)), separators=(",", ":"))
    second = json.dumps(build_tenant(40, 3, date(2025, 8, 15)), separators=(",", ":"))
    assert first == second


def test_a_different_seed_gives_a_different_tenant():
    a = build_tenant(40, 3, date(2025, 8, 15))
    b = build_tenant(40, 4, date(2025, 8, 15))
    assert json.dumps(a["invoices"]) != json.dumps(b["invoices"])
    assert a["_sandbox"]["seed"] == 3 and b["_sandbox"]["seed"] == 4


def test_sandbox_parameters_are_recorded_and_start_defaults_to_36_months_back():
    meta = build_tenant(5, 1, date(2025, 8, 15))["_sandbox"]
    assert meta["customers"] == 5
    assert meta["as_of"] == "2025-08-15"
    assert meta["start"] == "2022-08-01"
    assert meta["generator_version"]


# -- invariants --------------------------------------------------------------------------------
def test_invariant_1_invoice_totals_and_balances_add_up(tenant):
    applied = defaultdict(lambda: D("0.00"))
    for payment in tenant["payments"]:
        for application in payment["invoices"]:
            applied[application["id"]] += D(application["amount_applied"])
    for credit in tenant["credits"]:
        for application in credit["invoices"]:
            applied[application["id"]] += D(application["amount_applied"])
    for refund in tenant["refunds"]:
        applied[refund["invoice_id"]] -= D(refund["refund_amount"])
    assert tenant["invoices"]
    for invoice in tenant["invoices"]:
        lines = invoice["line_items"]
        assert D(invoice["subtotal"]) == total(line["effective_price"] for line in lines)
        assert D(invoice["invoice_tax"]) == total(line["line_tax"] for line in lines)
        assert D(invoice["invoice_amount"]) == D(invoice["subtotal"]) + D(invoice["invoice_tax"])
        if invoice["status"] == "Reversed":
            assert D(invoice["balance"]) == 0, invoice["id"]
        else:
            expected = D(invoice["invoice_amount"]) - applied[invoice["id"]]
            assert D(invoice["balance"]) == expected, invoice["id"]


def test_invariant_1_tax_is_the_rounded_rate_times_each_taxable_line(tenant):
    for invoice in tenant["invoices"]:
        for line in invoice["line_items"]:
            if line["taxable"]:
                rate = D(str(line["tax_lines"][0]["rate"]))
                assert D(line["line_tax"]) == cents(D(line["effective_price"]) * rate)
            else:
                assert D(line["line_tax"]) == 0


def test_invariant_2_revenue_lines_sum_to_total_and_recognized_plus_unrecognized(tenant):
    as_of_month = AS_OF.replace(day=1)
    for schedule in tenant["revenue_schedules"]:
        lines = schedule["schedule_lines"]
        assert total(line["amount"] for line in lines) == D(schedule["total_revenue"])
        assert D(schedule["recognized_revenue"]) + D(schedule["unrecognized_revenue"]) == D(
            schedule["total_revenue"]
        )
        posted = [line for line in lines if line["posted"] == "Yes"]
        assert D(schedule["recognized_revenue"]) == total(line["amount"] for line in posted)
        for line in lines:
            month = date(
                int(line["financial_period"].split()[1]),
                MONTH_INDEX[line["financial_period"].split()[0]],
                1,
            )
            assert (line["posted"] == "Yes") == (month <= as_of_month)


MONTH_INDEX = {
    name: i
    for i, name in enumerate(
        [
            "January",
            "February",
            "March",
            "April",
            "May",
            "June",
            "July",
            "August",
            "September",
            "October",
            "November",
            "December",
        ],
        start=1,
    )
}


def test_invariant_3_billing_and_revenue_agree_per_subscription_line(tenant):
    revenue = {
        (rs["source_transaction"].removeprefix("Subscription: "), rs["charge_id"]): rs
        for rs in tenant["revenue_schedules"]
    }
    assert len(revenue) == len(tenant["revenue_schedules"])
    for bs in tenant["billing_schedules"]:
        rs = revenue[(bs["subscription_id"], bs["charge_id"])]
        assert total(line["amount"] for line in bs["schedule_lines"]) == D(rs["total_revenue"])


def invoice_line_key(subscription_id, line_id, start, end, quantity, amount):
    return (subscription_id, line_id, start, end, float(quantity), D(amount))


def test_invariant_4_each_invoiced_billing_line_is_on_exactly_one_live_invoice(tenant):
    on_invoices = Counter()
    for invoice in tenant["invoices"]:
        if invoice["status"] == "Reversed":
            continue
        for line in invoice["line_items"]:
            end = line["start_date"] if line["end_date"] == "-" else line["end_date"]
            on_invoices[
                invoice_line_key(
                    line["subscription_id"],
                    line["subscription_line_id"],
                    line["start_date"],
                    end,
                    line["quantity"],
                    line["effective_price"],
                )
            ] += 1
    invoiced = Counter()
    for bs in tenant["billing_schedules"]:
        for line in bs["schedule_lines"]:
            if line["invoiced"] == "Yes":
                invoiced[
                    invoice_line_key(
                        bs["subscription_id"],
                        bs["charge_id"],
                        line["start_date"],
                        line["end_date"],
                        line["quantity"],
                        line["amount"],
                    )
                ] += 1
    assert invoiced
    assert all(count == 1 for count in invoiced.values())
    assert on_invoices == invoiced


def test_invariant_5_payment_applications_add_up(tenant):
    for payment in tenant["payments"]:
        applied = total(a["amount_applied"] for a in payment["invoices"])
        assert D(payment["applied_amount"]) == applied
        assert D(payment["payment_amount"]) == applied + D(payment["unapplied_amount"])


def mrr_by_customer(tenant: dict, day: date) -> dict[str, tuple[Fraction, Fraction]]:
    periods = line_periods(tenant)
    mrr: dict[str, list[Fraction]] = defaultdict(lambda: [Fraction(0), Fraction(0)])
    text = day.isoformat()
    for bs in tenant["billing_schedules"]:
        if bs["charge_type"] != "Recurring":
            continue
        months = MONTHS[periods[(bs["subscription_id"], bs["charge_id"])]]
        for line in bs["schedule_lines"]:
            if line["start_date"] <= text <= line["end_date"]:
                quantity = Fraction(line["quantity"])
                mrr[bs["customer_id"]][0] += Fraction(line["list_price"]) * quantity / months
                mrr[bs["customer_id"]][1] += Fraction(line["unit_price"]) * quantity / months
    return {customer: (g, n) for customer, (g, n) in mrr.items()}


def test_invariant_6_customer_cmrr_follows_revenue_rules_section_5(tenant):
    mrr = mrr_by_customer(tenant, AS_OF)
    assert any(gross > 0 for gross, _ in mrr.values())
    for customer in tenant["customers"]:
        gross, net = mrr.get(customer["id"], (Fraction(0), Fraction(0)))
        assert D(customer["cmrr"]) == cents(gross), customer["id"]
        assert D(customer["discounted_cmrr"]) == cents(net), customer["id"]


def test_customer_balance_is_the_sum_of_open_invoice_balances(tenant):
    balances = defaultdict(lambda: D("0.00"))
    for invoice in tenant["invoices"]:
        balances[invoice["customer_id"]] += D(invoice["balance"])
    for customer in tenant["customers"]:
        assert D(customer["balance"]) == balances[customer["id"]]


def test_every_unchanged_revenue_schedule_equals_the_recognition_recomputation(tenant):
    methods = {rule["id"]: rule["recognition_method"] for rule in tenant["revenue_rules"]}
    products = by_id(tenant["products"])
    billing = {(bs["subscription_id"], bs["charge_id"]): bs for bs in tenant["billing_schedules"]}
    checked = Counter()
    for rs in tenant["revenue_schedules"]:
        bs = billing[(rs["source_transaction"].removeprefix("Subscription: "), rs["charge_id"])]
        if any(line["quantity"] < 0 for line in bs["schedule_lines"]):
            continue  # changed mid-term: re-spread with a catch-up, reconciled downstream
        method = methods[products[rs["product_id"]]["revenue_rule_id"]]
        got = {line["financial_period"]: D(line["amount"]) for line in rs["schedule_lines"]}
        if rs["charge_type"] == "Usage Based":
            expected_usage = {
                period_name(date.fromisoformat(line["start_date"])): D(line["amount"])
                for line in bs["schedule_lines"]
            }
            assert got == expected_usage, rs["id"]
            checked["usage"] += 1
            continue
        start = date.fromisoformat(rs["start_date"])
        if rs["charge_type"] == "One Time":
            start = date.fromisoformat(invoice_date_of(tenant, rs))
        expected = recognition.recognize(
            method,
            D(rs["total_revenue"]),
            start,
            date.fromisoformat(rs["end_date"]) if rs["charge_type"] == "Recurring" else start,
        )
        assert got == {period_name(month): value for month, value in expected.items()}, rs["id"]
        checked[method] += 1
    assert checked["Straight-line, Prorated"] and checked["Exact Days, Prorated"]
    assert checked["Recognize on invoicing"] and checked["usage"]


def period_name(day: date) -> str:
    return f"{day.strftime('%B')} {day.year}"


def invoice_date_of(tenant: dict, rs: dict) -> str:
    invoices = by_id(tenant["invoices"])
    invoice_id = rs["schedule_lines"][0]["invoice_id"]
    return invoices[invoice_id]["invoice_date"]


# -- causality ---------------------------------------------------------------------------------
def records_by_key(tenant: dict) -> dict[tuple[str, str], str]:
    out = {}
    for name, records in tenant.items():
        if name.startswith("_"):
            continue
        for record in records:
            out[(name, record.get("id") or record["code"])] = json.dumps(record, sort_keys=True)
    return out


@pytest.mark.parametrize("day", [date(2025, 9, 30), date(2025, 11, 13), date(2026, 1, 31)])
def test_advancing_one_day_changes_only_records_stamped_that_day(day):
    before = records_by_key(build_tenant(70, 9, day, start=START))
    after = records_by_key(build_tenant(70, 9, day + timedelta(days=1), start=START))
    midnight = datetime_ms(day + timedelta(days=1))
    earliest, latest = midnight - 45 * 60_000, midnight + 86_400_000
    changed = new = 0
    for key, text in after.items():
        record = json.loads(text)
        stamp = parse_ms(record["updated_date"])
        assert stamp < latest, key
        if key not in before:
            new += 1
            assert stamp >= earliest, key
            assert parse_ms(record["created_date"]) >= earliest, key
        elif before[key] != text:
            changed += 1
            assert stamp >= earliest, (key, record["updated_date"])
    assert changed and new
    vanished = [key for key in before if key not in after]
    assert all(name in ("subscriptions", "usages") for name, _ in vanished)
    for name in {name for name, _ in after}:
        old = sorted(i for n, i in before if n == name)
        fresh = sorted(i for n, i in after if n == name and (n, i) not in before)
        if old and fresh and name != "chart_of_accounts":
            assert min(fresh) > max(old), name  # ids are assigned in creation order


def test_deleted_drafts_and_usage_records_vanish_without_tombstones():
    tenant = build_tenant(120, 5, AS_OF, start=START)
    for name, prefix in (("subscriptions", "S"), ("usages", "U")):
        numbers = sorted(int(r["id"].removeprefix(prefix + "-")) for r in tenant[name])
        assert numbers[-1] > len(numbers), f"no deleted {name}"
    assert any(sub["status"] == "Draft" for sub in tenant["subscriptions"])


def datetime_ms(day: date) -> int:
    return (day - date(1970, 1, 1)).days * 86_400_000


def parse_ms(text: str) -> int:
    day = date.fromisoformat(text[:10])
    hours, minutes, seconds = text[11:23].split(":")
    return (
        datetime_ms(day) + (int(hours) * 3600 + int(minutes) * 60) * 1000 + int(D(seconds) * 1000)
    )


def test_billing_runs_share_one_timestamp_across_customers(tenant):
    stamps = Counter(invoice["updated_date"] for invoice in tenant["invoices"])
    shared = [stamp for stamp, count in stamps.items() if count > 1]
    assert shared
    customers_on_a_stamp = {
        invoice["customer_id"]
        for invoice in tenant["invoices"]
        if invoice["updated_date"] == stamps.most_common(1)[0][0]
    }
    assert len(customers_on_a_stamp) > 1


def test_some_updates_are_back_dated_before_midnight_within_45_minutes(tenant):
    back_dated = 0
    for payment in tenant["payments"]:
        created = parse_ms(payment["created_date"])
        midnight = datetime_ms(date.fromisoformat(payment["payment_date"]))
        if created < midnight:
            assert midnight - created <= 45 * 60_000, payment["id"]
            back_dated += 1
    assert back_dated


# -- wire formats --------------------------------------------------------------------------------
MONEY_FIELDS = {
    "customers": ("balance", "cmrr", "discounted_cmrr"),
    "subscriptions": ("cmrr", "discounted_cmrr", "tcv"),
    "invoices": ("subtotal", "invoice_tax", "invoice_amount", "paid_amount", "balance"),
    "payments": (
        "payment_amount",
        "applied_amount",
        "unapplied_amount",
        "refunded_amount",
        "fee_amount",
    ),
    "credits": ("credit_amount", "applied_amount", "unapplied_amount"),
    "refunds": ("refund_amount",),
    "revenue_schedules": ("total_revenue", "recognized_revenue", "unrecognized_revenue"),
    "journal_entries": ("transaction_amount",),
}


def test_wire_formats_money_dates_timestamps_and_placeholders(tenant):
    for name, fields in MONEY_FIELDS.items():
        for record in tenant[name]:
            for field in fields:
                assert MONEY.match(record[field]), (name, record["id"], field, record[field])
    for name, records in tenant.items():
        if name.startswith("_"):
            continue
        for record in records:
            assert STAMP.match(record["created_date"]) and STAMP.match(record["updated_date"])
    for invoice in tenant["invoices"]:
        assert DAY.match(invoice["invoice_date"]) and DAY.match(invoice["due_date"])
        for line in invoice["line_items"]:
            for field in ("unit_price", "list_price", "effective_price", "line_tax"):
                assert MONEY.match(line[field])
            assert isinstance(line["quantity"], float)
            assert line["applied_tiers"] == ""
    for schedule in tenant["billing_schedules"]:
        for value in schedule["key_metrics"].values():
            assert MONEY.match(value)
        for line in schedule["schedule_lines"]:
            assert MONEY.match(line["amount"]) and isinstance(line["id"], int)
    for sub in tenant["subscriptions"]:
        assert isinstance(sub["exchange_rate"], float)
        assert sub["cancellation_date"] == "-" or DAY.match(sub["cancellation_date"])
    assert "-0.00" not in json.dumps(tenant)
    assert any(sub["cancellation_date"] == "-" for sub in tenant["subscriptions"])
    assert any(line["end_date"] == "-" for inv in tenant["invoices"] for line in inv["line_items"])
    assert all(customer["description"] == "" for customer in tenant["customers"])


def test_custom_fields_are_duplicated_at_top_level(tenant):
    seen = 0
    for name, records in tenant.items():
        if name.startswith("_"):
            continue
        for record in records:
            for key, value in record.get("custom_fields", {}).items():
                assert record[key] == value, (name, key)
                seen += 1
    customer = tenant["customers"][0]
    assert set(customer["custom_fields"]) == {"salesforce_id", "segment"}
    assert seen


# -- variety -------------------------------------------------------------------------------------
def month_ends(first: date, last: date):
    month = first.replace(day=1)
    while month <= last:
        following = recognition.add_months(month, 1)
        yield following - timedelta(days=1)
        month = following


def test_every_mrr_movement_type_occurs_in_a_mid_size_tenant(tenant):
    series = [mrr_by_customer(tenant, end) for end in month_ends(START, AS_OF - timedelta(1))]
    movements = Counter()
    customers = {c for month in series for c in month}
    for customer in customers:
        ever = False
        previous = Fraction(0)
        for month in series:
            current = month.get(customer, (0, Fraction(0)))[1]
            if previous == 0 and current > 0:
                movements["reactivation" if ever else "new"] += 1
            elif previous > 0 and current == 0:
                movements["churn"] += 1
            elif current > previous:
                movements["expansion"] += 1
            elif current < previous:
                movements["contraction"] += 1
            ever = ever or current > 0
            previous = current
    for kind in ("new", "expansion", "contraction", "churn", "reactivation"):
        assert movements[kind] > 0, (kind, movements)


def test_catalogue_and_billing_variety_exist(tenant):
    periods = {line["billing_period"] for sub in tenant["subscriptions"] for line in sub["plans"]}
    assert {"Monthly", "Quarterly", "Semi-annually", "Annually"} <= periods
    assert periods & {"2 Years", "3 Years"}
    assert {c["currency"] for c in tenant["customers"]} == {"USD", "EUR", "GBP", "CAD"}
    statuses = Counter(inv["status"] for inv in tenant["invoices"])
    assert {"Paid", "Posted", "Partially paid", "Reversed"} <= set(statuses)
    assert {p["status"] for p in tenant["payments"]} >= {"Processed", "Failed"}
    assert {s["status"] for s in tenant["subscriptions"]} >= {
        "Active",
        "Cancelled",
        "Expired",
        "Draft",
    }
    assert any(D(inv["invoice_amount"]) < 0 for inv in tenant["invoices"])
    assert tenant["credits"] and tenant["refunds"] and tenant["usages"]
    reversed_late = [
        inv
        for inv in tenant["invoices"]
        if inv["status"] == "Reversed" and inv["reversed_on"][:7] != inv["invoice_date"][:7]
    ]
    assert reversed_late
    assert {je["source_type"] for je in tenant["journal_entries"]} == {"Invoice", "Payment"}
    for je in tenant["journal_entries"]:
        assert total(e["debit"] for e in je["entries"]) == total(e["credit"] for e in je["entries"])
