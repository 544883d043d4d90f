"""Tenant profiles and edge-case knobs (TENANT.md, "Profiles and edge cases").

Each profile and knob is deterministic, keeps the tenant internally consistent (every reference
resolves, TENANT.md's invariants hold where they apply), survives ``advance``, and produces what
it claims. The expectations below are written from the contract, not read from the generator.
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from functools import cache

import pytest

from ordway_sandbox.__main__ import main as cli_main
from ordway_sandbox.process import SandboxThread
from ordway_sandbox.tenant import COLLECTIONS, build_tenant, generator_options
from tests.ordway_sandbox.tenant_checks import (
    check_advance_changes_only_records_stamped_that_day,
    check_consistent,
    check_revenue_schedules,
    period_month,
)

AS_OF = date(2026, 3, 31)
START = date(2023, 3, 1)
CUSTOMERS, SEED = 60, 5
D = Decimal
PROFILES = ("full", "billing-only", "no-revenue-module", "usage-only", "one-customer", "empty")
KNOBS = {
    "drift": {"drift": True},
    "large_contracts": {"large_contracts": True},
    "missing_rates": {"missing_rates": True},
    "base_currency": {"base_currency": "EUR"},
    "long_horizon": {"long_horizon": True},
    "unposted": {"unposted": True},
}
ALL_KNOBS = {name: value for knob in KNOBS.values() for name, value in knob.items()}

# What each profile must serve (records) and must serve as [] (TENANT.md); collections in
# neither set may hold records or not, depending on the simulation (e.g. refunds).
MUST_HOLD = {
    "full": set(COLLECTIONS),
    "billing-only": {
        "products",
        "plans",
        "webhooks",
        "customers",
        "customer_notes",
        "payment_methods",
        "invoices",
        "debit_memos",
        "payment_runs",
        "payments",
        "credits",
        "refunds",
        "statements",
    },
    "no-revenue-module": {
        "chart_of_accounts",
        "products",
        "plans",
        "coupons",
        "webhooks",
        "customers",
        "customer_notes",
        "payment_methods",
        "subscriptions",
        "orders",
        "billing_schedules",
        "billing_runs",
        "invoices",
        "debit_memos",
        "payment_runs",
        "payments",
        "credits",
        "refunds",
        "usages",
        "statements",
    },
    "usage-only": {
        "revenue_rules",
        "chart_of_accounts",
        "products",
        "plans",
        "coupons",
        "webhooks",
        "customers",
        "subscriptions",
        "orders",
        "billing_schedules",
        "revenue_schedules",
        "billing_runs",
        "invoices",
        "payments",
        "usages",
        "journal_entries",
    },
    "one-customer": {
        "revenue_rules",
        "chart_of_accounts",
        "products",
        "plans",
        "coupons",
        "webhooks",
        "customers",
        "subscriptions",
        "billing_schedules",
        "revenue_schedules",
        "billing_runs",
        "invoices",
        "payments",
        "usages",
        "statements",
        "journal_entries",
    },
    "empty": set(),
}
MUST_BE_EMPTY = {
    "full": set(),
    "billing-only": {
        "revenue_rules",
        "chart_of_accounts",
        "coupons",
        "subscriptions",
        "orders",
        "billing_schedules",
        "revenue_schedules",
        "billing_runs",
        "usages",
        "journal_entries",
    },
    "no-revenue-module": {"revenue_rules", "revenue_schedules", "journal_entries"},
    "usage-only": set(),
    "one-customer": set(),
    "empty": set(COLLECTIONS),
}


@cache
def _cached(profile: str, knobs: tuple[tuple[str, object], ...]) -> str:
    return dumps(build_tenant(CUSTOMERS, SEED, AS_OF, start=START, profile=profile, **dict(knobs)))


def tenant_for(profile: str = "full", **knobs) -> dict:
    """A fresh copy of the (cached) tenant of the module's standard arguments."""
    return json.loads(_cached(profile, tuple(sorted(knobs.items()))))


def dumps(tenant: dict) -> str:
    return json.dumps(tenant, separators=(",", ":"))


def posted_through(knobs: dict) -> date:
    month = AS_OF.replace(day=1)
    if knobs.get("unposted"):
        month = (month - timedelta(days=1)).replace(day=1)
        month = (month - timedelta(days=1)).replace(day=1)
    return month


# -- determinism and parameters ------------------------------------------------------------------
@pytest.mark.parametrize(
    ("profile", "knobs"),
    [(p, {}) for p in PROFILES] + [("full", k) for k in KNOBS.values()] + [("full", ALL_KNOBS)],
    ids=[*PROFILES, *KNOBS, "all_knobs"],
)
def test_same_profile_and_knobs_give_identical_json_bytes(profile, knobs):
    first = build_tenant(40, 3, date(2025, 8, 15), profile=profile, **knobs)
    second = build_tenant(40, 3, date(2025, 8, 15), profile=profile, **knobs)
    assert dumps(first) == dumps(second)
    if profile != "full" or knobs:
        assert dumps(first) != dumps(build_tenant(40, 3, date(2025, 8, 15)))


def test_sandbox_parameters_record_the_profile_and_only_the_knobs_that_are_on():
    tenant = build_tenant(5, 1, date(2025, 8, 15), profile="usage-only", drift=True)
    meta = tenant["_sandbox"]
    assert meta["profile"] == "usage-only" and meta["drift"] is True
    assert "large_contracts" not in meta and "base_currency" not in meta
    assert generator_options(meta) == {"profile": "usage-only", "drift": True}
    every = build_tenant(5, 1, date(2025, 8, 15), profile="billing-only", **ALL_KNOBS)
    assert generator_options(every["_sandbox"]) == {"profile": "billing-only", **ALL_KNOBS}
    assert generator_options(build_tenant(5, 1, date(2025, 8, 15))["_sandbox"]) == {}


def test_unknown_profile_or_base_currency_is_refused_naming_the_choices():
    with pytest.raises(ValueError, match=r"unknown profile 'crm'.*billing-only"):
        build_tenant(5, 1, profile="crm")
    with pytest.raises(ValueError, match=r"base_currency must be one of .*EUR.*got 'XYZ'"):
        build_tenant(5, 1, base_currency="XYZ")


# -- which collections each profile serves ------------------------------------------------------
@pytest.mark.parametrize("profile", PROFILES)
def test_every_collection_is_served_and_unused_modules_are_empty_lists(profile):
    tenant = tenant_for(profile)
    assert list(tenant) == ["_sandbox", *COLLECTIONS]
    assert all(isinstance(tenant[name], list) for name in COLLECTIONS)
    holding = {name for name in COLLECTIONS if tenant[name]}
    assert MUST_HOLD[profile] <= holding, MUST_HOLD[profile] - holding
    assert not holding & MUST_BE_EMPTY[profile], holding & MUST_BE_EMPTY[profile]


# -- internal consistency -----------------------------------------------------------------------
@pytest.mark.parametrize("profile", PROFILES)
def test_every_profile_is_internally_consistent(profile):
    check_consistent(tenant_for(profile), AS_OF)


@pytest.mark.parametrize("knob", KNOBS)
def test_every_knob_keeps_the_full_tenant_internally_consistent(knob):
    check_consistent(tenant_for("full", **KNOBS[knob]), AS_OF, posted_through(KNOBS[knob]))


@pytest.mark.parametrize("profile", PROFILES)
def test_all_knobs_together_keep_every_profile_internally_consistent(profile):
    check_consistent(tenant_for(profile, **ALL_KNOBS), AS_OF, posted_through(ALL_KNOBS))


# -- what each profile is --------------------------------------------------------------------------
def test_billing_only_invoices_are_manual_one_time_lines_naming_only_products():
    tenant = tenant_for("billing-only")
    products = {product["id"] for product in tenant["products"]}
    lines = [line for invoice in tenant["invoices"] for line in invoice["line_items"]]
    assert lines
    for line in lines:
        assert line["subscription_id"] == line["subscription_line_id"] == ""
        assert line["plan_id"] == line["charge_id"] == ""
        assert line["charge_type"] == "one_time"
        assert line["product_id"] in products
    assert any(line["end_date"] == "-" for line in lines)  # one-off services
    assert any(line["end_date"] != "-" for line in lines)  # a service period billed manually
    assert any(D(invoice["invoice_amount"]) < 0 for invoice in tenant["invoices"])
    assert all(c["cmrr"] == c["discounted_cmrr"] == "0.00" for c in tenant["customers"])
    for product in tenant["products"]:
        assert product["revenue_rule_id"] == "" and product["transaction_posting_entries"] == []
    assert all(c["revenue_rule_id"] == "" for plan in tenant["plans"] for c in plan["charges"])
    assert all(credit["gl_account"] == "" for credit in tenant["credits"])


def test_no_revenue_module_is_the_full_tenant_without_revenue_schedules_rules_or_journal():
    full, tenant = tenant_for("full"), tenant_for("no-revenue-module")
    for name in ("customers", "billing_schedules", "invoices", "payments", "credits", "refunds"):
        assert tenant[name] == full[name], name
    assert tenant["usages"] == full["usages"] and tenant["chart_of_accounts"]
    for sub, full_sub in zip(tenant["subscriptions"], full["subscriptions"], strict=True):
        for line, full_line in zip(sub["plans"], full_sub["plans"], strict=True):
            assert line["revenue_schedule_id"] == line["revenue_rule_id"] == ""
            assert {**line, "revenue_schedule_id": "", "revenue_rule_id": ""} == {
                **full_line,
                "revenue_schedule_id": "",
                "revenue_rule_id": "",
            }
    for product in tenant["products"]:
        assert product["revenue_rule_id"] == "" and not product["deferred_revenue_enabled"]
        kinds = [entry["transaction_type"] for entry in product["transaction_posting_entries"]]
        assert kinds == ["Invoice Posting"]


def test_usage_only_customers_have_only_usage_based_charges():
    tenant = tenant_for("usage-only")
    assert {line["charge_type"] for sub in tenant["subscriptions"] for line in sub["plans"]} == {
        "Usage based"
    }
    assert {bs["charge_type"] for bs in tenant["billing_schedules"]} == {"Usage Based"}
    lines = [line for invoice in tenant["invoices"] for line in invoice["line_items"]]
    assert lines and {line["charge_type"] for line in lines} == {"usage_based"}
    assert all(c["cmrr"] == "0.00" for c in tenant["customers"])
    assert all(D(sub["tcv"]) == 0 for sub in tenant["subscriptions"])
    assert {usage["subscription_id"] for usage in tenant["usages"]} <= {
        sub["id"] for sub in tenant["subscriptions"]
    }


def test_one_customer_has_a_single_customer_from_start_with_every_module():
    tenant = tenant_for("one-customer")
    assert [c["id"] for c in tenant["customers"]] == ["C-00001"]
    assert tenant["customers"][0]["created_date"][:10] == START.isoformat()
    for name in ("subscriptions", "billing_schedules", "revenue_schedules", "invoices", "usages"):
        assert {record["customer_id"] for record in tenant[name]} == {"C-00001"}, name
    charge_types = {line["charge_type"] for sub in tenant["subscriptions"] for line in sub["plans"]}
    assert {"Recurring", "Usage based"} <= charge_types
    assert D(tenant["customers"][0]["cmrr"]) > 0
    other = build_tenant(500, SEED, AS_OF, start=START, profile="one-customer")
    assert {k: v for k, v in other.items() if k != "_sandbox"} == {
        k: v for k, v in tenant.items() if k != "_sandbox"
    }  # the customers argument is ignored


def test_empty_is_a_brand_new_account_with_nothing_in_any_collection():
    tenant = tenant_for("empty")
    assert all(tenant[name] == [] for name in COLLECTIONS)
    later = build_tenant(CUSTOMERS, SEED, AS_OF + timedelta(days=400), start=START, profile="empty")
    assert all(later[name] == [] for name in COLLECTIONS)


# -- advance -------------------------------------------------------------------------------------
@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize("knobs", [{}, ALL_KNOBS], ids=["no_knobs", "all_knobs"])
def test_advancing_a_day_changes_only_records_stamped_that_day_in_every_profile(profile, knobs):
    day = date(2026, 1, 31)  # a month-end: billing, usage rating and revenue posting runs follow
    before = build_tenant(40, 9, day, start=START, profile=profile, **knobs)
    after = build_tenant(40, 9, day + timedelta(days=1), start=START, profile=profile, **knobs)
    changed, new = check_advance_changes_only_records_stamped_that_day(before, after, day)
    if profile == "empty":
        assert changed == new == 0
    else:
        assert changed + new > 0
    assert after["_sandbox"]["as_of"] == "2026-02-01"
    assert generator_options(after["_sandbox"]) == {
        **({"profile": profile} if profile != "full" else {}),
        **knobs,
    }


def test_the_server_advance_keeps_the_profile_and_knobs():
    args = ["--customers", "6", "--seed", "7", "--as-of", "2025-06-30"]
    shape = ["--profile", "usage-only", "--drift", "--base-currency", "EUR", "--unposted"]
    with SandboxThread(args + shape, startup_timeout=120) as sandbox:
        assert sandbox.advance(days=2)["as_of"] == "2025-07-02"
        served = sandbox.get_tenant()
    expected = build_tenant(
        6,
        7,
        date(2025, 7, 2),
        start=date(2022, 6, 1),
        profile="usage-only",
        drift=True,
        base_currency="EUR",
        unposted=True,
    )
    assert served == expected


# -- over HTTP and the command line --------------------------------------------------------------
@pytest.mark.parametrize("profile", ["billing-only", "empty"])
def test_the_server_answers_an_unused_collection_with_an_empty_list(profile):
    args = ["--customers", "8", "--seed", "3", "--as-of", "2025-06-30", "--profile", profile]
    with SandboxThread(args, startup_timeout=120) as sandbox, sandbox.client() as client:
        served = sandbox.get_tenant()
        for name in COLLECTIONS:
            response = client.get(f"/{name}", params={"size": 50, "page": 1})
            assert response.status_code == 200, (name, response.text)
            if name in MUST_BE_EMPTY[profile]:
                assert response.content == b"[]", name
            else:
                assert len(response.json()) == min(50, len(served[name])), name
        if profile == "empty":
            assert sandbox.health()["records"] == 0
        else:
            assert served["invoices"] and served["customers"]


def test_generate_writes_the_tenant_of_the_profile_and_knobs_it_is_given(tmp_path):
    out = tmp_path / "tenant.json"
    argv = ["generate", "--customers", "7", "--seed", "2", "--as-of", "2025-03-31"]
    argv += ["--profile", "no-revenue-module", "--missing-rates", "--large-contracts"]
    argv += ["--long-horizon", "--out", str(out)]
    assert cli_main(argv) == 0
    expected = build_tenant(
        7,
        2,
        date(2025, 3, 31),
        start=date(2022, 3, 1),
        profile="no-revenue-module",
        missing_rates=True,
        large_contracts=True,
        long_horizon=True,
    )
    assert out.read_text(encoding="utf-8") == dumps(expected)


# -- each knob produces what it claims ------------------------------------------------------------
def kinds(values) -> set[str]:
    """The JSON kinds among ``values``: "blank" for "", else the Python type's name."""
    return {"blank" if value == "" else type(value).__name__ for value in values}


def test_drift_gives_each_recorded_field_both_its_type_and_an_empty_string():
    tenant = tenant_for("full", drift=True)
    customers = tenant["customers"]
    assert kinds(c["payment_options"]["affirm_enabled"] for c in customers) == {"blank", "bool"}
    assert kinds(c["payment_options"]["ach_credit_enabled"] for c in customers) == {
        "blank",
        "bool",
    }
    for field, kind in (("employee_count", "int"), ("is_partner", "bool")):
        assert kinds(c["custom_fields"][field] for c in customers) == {"blank", kind}
        assert all(c[field] == c["custom_fields"][field] for c in customers)  # top-level too
    invoices = tenant["invoices"]
    assert kinds(i["custom_fields"]["approved"] for i in invoices) == {"blank", "bool"}
    assert all(i["approved"] == i["custom_fields"]["approved"] for i in invoices)
    subs = tenant["subscriptions"]
    assert kinds(s["custom_fields"]["renewal_uplift_pct"] for s in subs) == {"blank", "float"}
    lines = [line for invoice in invoices for line in invoice["line_items"]]
    assert kinds(line["applied_tiers"] for line in lines) == {"blank", "list"}
    charges = [charge for plan in tenant["plans"] for charge in plan["charges"]]
    assert kinds(charge["list_price_base"] for charge in charges) == {"blank", "int"}
    assert any(line["end_date"] == "-" for line in lines)
    for line in lines:
        if line["applied_tiers"]:
            (tier,) = line["applied_tiers"]
            assert tier["ending_unit"] == line["quantity"] and tier["price"] == line["unit_price"]


def test_drift_shows_in_a_two_customer_tenant_too():
    customers = build_tenant(2, 1, date(2026, 3, 31), drift=True)["customers"]
    assert len(customers) == 2
    for field in ("affirm_enabled", "ach_credit_enabled"):
        assert kinds(c["payment_options"][field] for c in customers) == {"blank", "bool"}


def test_drift_changes_nothing_but_the_drifting_fields():
    drifted, plain = tenant_for("full", drift=True), tenant_for("full")
    for customer in drifted["customers"]:
        customer["payment_options"]["affirm_enabled"] = ""
        customer["payment_options"]["ach_credit_enabled"] = ""
        for field in ("employee_count", "is_partner"):
            del customer[field], customer["custom_fields"][field]
    for sub in drifted["subscriptions"]:
        del sub["renewal_uplift_pct"], sub["custom_fields"]["renewal_uplift_pct"]
    for invoice in drifted["invoices"]:
        del invoice["approved"], invoice["custom_fields"]["approved"]
        for line in invoice["line_items"]:
            line["applied_tiers"] = ""
    for plan in drifted["plans"]:
        for charge in plan["charges"]:
            charge["list_price_base"] = ""
    del drifted["_sandbox"]["drift"]
    assert drifted == plain


def test_large_contracts_bill_c00001_in_idr_with_amounts_around_1e11():
    tenant = tenant_for("full", large_contracts=True)
    customer = tenant["customers"][0]
    assert customer["id"] == "C-00001" and customer["currency"] == "IDR"
    idr = [invoice for invoice in tenant["invoices"] if invoice["currency"] == "IDR"]
    amounts = [D(invoice["invoice_amount"]) for invoice in idr]
    assert max(amounts) >= D("1e11")
    assert all(abs(amount) < D("1e15") for amount in amounts)  # at most 15 integer digits
    for invoice in idr:  # USD per IDR about 0.0000612 (+-4% monthly wobble)
        assert D("0.0000587") < D(str(invoice["exchange_rate"])) < D("0.0000637"), invoice["id"]
    contract = [s for s in tenant["subscriptions"] if s["customer_id"] == "C-00001"]
    assert any(
        s["contract_term"] == "36" and s["plans"][0]["billing_period"] == "3 Years"
        for s in contract
    )


def test_missing_rates_leave_some_non_base_documents_with_a_null_or_absent_rate():
    tenant = tenant_for("full", missing_rates=True)
    null_invoices = [
        i for i in tenant["invoices"] if "exchange_rate" in i and i["exchange_rate"] is None
    ]
    absent_invoices = [i for i in tenant["invoices"] if "exchange_rate" not in i]
    null_subs = [s for s in tenant["subscriptions"] if s.get("exchange_rate", 0) is None]
    null_lines = [
        rs
        for rs in tenant["revenue_schedules"]
        for line in rs["schedule_lines"]
        if line["exchange_rate"] is None
    ]
    assert null_invoices and absent_invoices and null_subs and null_lines
    for document in null_invoices + absent_invoices + null_subs:
        assert document["currency"] != "USD", document["id"]
    rateless = {s["id"] for s in tenant["subscriptions"] if s.get("exchange_rate") is None}
    for rs in null_lines:
        assert rs["source_transaction"].removeprefix("Subscription: ") in rateless, rs["id"]
    for name in ("invoices", "subscriptions"):
        for document in tenant[name]:
            if document["currency"] == "USD":
                assert document["exchange_rate"] == 1.0, document["id"]
    # every other document keeps its rate: the same as in the tenant without the knob
    plain = {i["id"]: i["exchange_rate"] for i in tenant_for("full")["invoices"]}
    missing = {i["id"] for i in null_invoices + absent_invoices}
    for invoice in tenant["invoices"]:
        if invoice["id"] not in missing:
            assert invoice["exchange_rate"] == plain[invoice["id"]], invoice["id"]


def test_missing_rates_show_a_null_and_an_absent_invoice_rate_in_a_small_tenant():
    tenant = build_tenant(5, 42, date(2026, 6, 30), missing_rates=True, large_contracts=True)
    invoices = tenant["invoices"]
    assert any("exchange_rate" in i and i["exchange_rate"] is None for i in invoices)
    assert any("exchange_rate" not in i for i in invoices)
    assert any(s.get("exchange_rate", 0) is None for s in tenant["subscriptions"])


def monthly_rates(tenant: dict) -> dict[tuple[str, str], float]:
    """(currency, YYYY-MM) -> the invoices' exchange_rate in that month."""
    rates: dict[tuple[str, str], set[float]] = defaultdict(set)
    for invoice in tenant["invoices"]:
        rates[(invoice["currency"], invoice["invoice_date"][:7])].add(invoice["exchange_rate"])
    assert all(len(values) == 1 for values in rates.values())
    return {key: values.pop() for key, values in rates.items()}


def test_base_currency_eur_converts_every_rate_into_eur():
    tenant = tenant_for("full", base_currency="EUR")
    assert {product["currency"] for product in tenant["products"]} == {"EUR"}
    eur_rates = (
        [i["exchange_rate"] for i in tenant["invoices"] if i["currency"] == "EUR"]
        + [s["exchange_rate"] for s in tenant["subscriptions"] if s["currency"] == "EUR"]
        + [
            line["exchange_rate"]
            for rs in tenant["revenue_schedules"]
            for line in rs["schedule_lines"]
            if line["currency"] == "EUR"
        ]
        + [
            je["conversion_rate"]
            for je in tenant["journal_entries"]
            if je["transaction_currency"] == "EUR"
        ]
        + [r["conversion_rate"] for r in tenant["refunds"] if r["currency"] == "EUR"]
    )
    assert eur_rates and set(eur_rates) == {1.0}
    # Oracle: the USD-based tenant's rates. EUR per X = (USD per X) / (USD per EUR), to 6 dp.
    in_usd, in_eur = monthly_rates(tenant_for("full")), monthly_rates(tenant)
    compared = 0
    for (currency, month), rate in in_eur.items():
        usd_per_eur = in_usd.get(("EUR", month))
        usd_per_x = 1.0 if currency == "USD" else in_usd.get((currency, month))
        if currency == "EUR" or usd_per_eur is None or usd_per_x is None:
            continue
        assert rate == pytest.approx(usd_per_x / usd_per_eur, abs=2e-6), (currency, month)
        compared += 1
    assert compared >= 20


def test_long_horizon_gives_c00002_a_contract_scheduled_more_than_20_years_past_as_of():
    tenant = tenant_for("full", long_horizon=True)
    horizon = date(AS_OF.year + 20, AS_OF.month, 1)
    far = [
        rs
        for rs in tenant["revenue_schedules"]
        if any(period_month(line["financial_period"]) > horizon for line in rs["schedule_lines"])
    ]
    assert far and {rs["customer_id"] for rs in far} == {"C-00002"}
    subs = {s["id"]: s for s in tenant["subscriptions"]}
    for rs in far:
        sub = subs[rs["source_transaction"].removeprefix("Subscription: ")]
        assert sub["contract_term"] == "360"
        assert date.fromisoformat(sub["current_term_end_date"]) > horizon
    far_billing = [
        line
        for bs in tenant["billing_schedules"]
        for line in bs["schedule_lines"]
        if date.fromisoformat(line["start_date"]) > horizon
    ]
    assert far_billing and all(line["invoiced"] == "No" for line in far_billing)


def test_unposted_leaves_the_as_of_month_and_the_month_before_not_posted():
    tenant, plain = tenant_for("full", unposted=True), tenant_for("full")
    check_revenue_schedules(tenant, posted_through=date(2026, 1, 1))
    lines = [line for rs in tenant["revenue_schedules"] for line in rs["schedule_lines"]]
    past = [line for line in lines if line["financial_period"] == "February 2026"]
    current = [line for line in lines if line["financial_period"] == "March 2026"]
    assert past and all(line["posted"] == "No" for line in past)
    assert current and all(line["posted"] == "No" for line in current)
    # only the flags and what follows from them differ from the tenant without the knob
    plain_lines = [line for rs in plain["revenue_schedules"] for line in rs["schedule_lines"]]
    assert [(line["uid"], line["amount"]) for line in lines] == [
        (line["uid"], line["amount"]) for line in plain_lines
    ]
    for rs, plain_rs in zip(tenant["revenue_schedules"], plain["revenue_schedules"], strict=True):
        assert rs["total_revenue"] == plain_rs["total_revenue"], rs["id"]
