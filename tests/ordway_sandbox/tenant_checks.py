"""Checks of a generated tenant against TENANT.md, usable on any profile and edge case.

Each ``check_*`` function raises ``AssertionError`` naming the record that breaks the rule. The
oracles are recomputed here from the records with independent ``Decimal``/``Fraction``
arithmetic (revenue-rules §5 for MRR), never read back from the field under test. A check only
looks at the collections it needs, so it passes vacuously where a profile serves ``[]``; tests
say separately which collections must hold records.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

D = Decimal
MONTHS = {
    "Monthly": 1,
    "Quarterly": 3,
    "Semi-annually": 6,
    "Annually": 12,
    "2 Years": 24,
    "3 Years": 36,
}
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


def cents(value) -> Decimal:
    if isinstance(value, Fraction):
        value = D(value.numerator) / D(value.denominator)
    return D(value).quantize(D("0.01"), rounding=ROUND_HALF_UP)


def total(values: Iterable) -> Decimal:
    return sum((D(v) for v in values), D("0.00"))


def by_id(records: list[dict], key: str = "id") -> dict[str, dict]:
    return {record[key]: record for record in records}


def period_month(financial_period: str) -> date:
    """``"March 2026"`` -> 2026-03-01."""
    name, year = financial_period.split()
    return date(int(year), MONTH_INDEX[name], 1)


def line_periods(tenant: dict) -> dict[tuple[str, str], str]:
    """(subscription id, subscription_line_id) -> billing_period, from the subscriptions."""
    return {
        (sub["id"], line["subscription_line_id"]): line["billing_period"]
        for sub in tenant["subscriptions"]
        for line in sub["plans"]
    }


def mrr_by_customer(tenant: dict, day: date) -> dict[str, tuple[Fraction, Fraction]]:
    """(gross, net) MRR per customer at ``day`` from the recurring billing schedule lines."""
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


# -- invariants (TENANT.md) --------------------------------------------------------------------
def check_invoice_totals_and_balances(tenant: dict) -> None:
    """Invariant 1: subtotal, tax, amount and balance of every invoice add up (a Draft has
    nothing applied: its balance is its amount, and it is in no customer's balance)."""
    applied = defaultdict(lambda: D("0.00"))
    for payment in tenant["payments"]:
        for application in payment["invoices"]:
            applied[application["id"]] += D(application["amount_applied"])
    for credit in tenant["credits"]:
        for application in credit["invoices"]:
            applied[application["id"]] += D(application["amount_applied"])
    for refund in tenant["refunds"]:
        if refund["invoice_id"]:  # a refund of a duplicate payment names no invoice
            applied[refund["invoice_id"]] -= D(refund["refund_amount"])
    for invoice in tenant["invoices"]:
        if invoice["status"] == "Draft":
            assert not (invoice["payments"] or invoice["credits"] or invoice["refunds"])
            assert invoice["billing_run_id"] == "" and applied[invoice["id"]] == 0, invoice["id"]
        lines = invoice["line_items"]
        assert D(invoice["subtotal"]) == total(line["effective_price"] for line in lines)
        assert D(invoice["invoice_tax"]) == total(line["line_tax"] for line in lines)
        assert D(invoice["invoice_amount"]) == D(invoice["subtotal"]) + D(invoice["invoice_tax"])
        if invoice["status"] == "Reversed":
            assert D(invoice["balance"]) == 0, invoice["id"]
        else:
            expected = D(invoice["invoice_amount"]) - applied[invoice["id"]]
            assert D(invoice["balance"]) == expected, invoice["id"]


def check_line_tax(tenant: dict) -> None:
    """Invariant 1: tax is the rounded rate times each taxable line."""
    for invoice in tenant["invoices"]:
        for line in invoice["line_items"]:
            if line["taxable"]:
                rate = D(str(line["tax_lines"][0]["rate"]))
                assert D(line["line_tax"]) == cents(D(line["effective_price"]) * rate)
            else:
                assert D(line["line_tax"]) == 0, (invoice["id"], line["line_no"])


def check_revenue_schedules(tenant: dict, posted_through: date) -> None:
    """Invariant 2, and ``posted`` = the month is on or before ``posted_through``."""
    for schedule in tenant["revenue_schedules"]:
        lines = schedule["schedule_lines"]
        assert total(line["amount"] for line in lines) == D(schedule["total_revenue"])
        assert D(schedule["recognized_revenue"]) + D(schedule["unrecognized_revenue"]) == D(
            schedule["total_revenue"]
        ), schedule["id"]
        posted = [line for line in lines if line["posted"] == "Yes"]
        assert D(schedule["recognized_revenue"]) == total(line["amount"] for line in posted)
        for line in lines:
            month = period_month(line["financial_period"])
            assert (line["posted"] == "Yes") == (month <= posted_through), line["uid"]


def check_billing_matches_revenue(tenant: dict) -> None:
    """Invariant 3: per subscription line, billing lines sum to the revenue schedule's total."""
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


def check_invoiced_lines_on_one_live_invoice(tenant: dict) -> int:
    """Invariant 4; returns how many invoiced billing lines there are."""
    on_invoices = Counter()
    for invoice in tenant["invoices"]:
        if invoice["status"] in ("Reversed", "Draft"):  # a Draft's lines are manual
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
    assert all(count == 1 for count in invoiced.values())
    assert on_invoices == invoiced
    return len(invoiced)


def check_payment_applications(tenant: dict) -> None:
    """Invariant 5, with applications to debit memos; a Failed payment applies and refunds
    nothing; refunds never exceed their payment (invariant 8)."""
    refunded = defaultdict(lambda: D("0.00"))
    for refund in tenant["refunds"]:
        refunded[refund["payment_id"]] += D(refund["refund_amount"])
    for payment in tenant["payments"]:
        applications = [*payment["invoices"], *payment.get("debit_memos", [])]
        applied = total(a["amount_applied"] for a in applications)
        assert D(payment["applied_amount"]) == applied, payment["id"]
        assert D(payment["payment_amount"]) == applied + D(payment["unapplied_amount"])
        assert D(payment["refunded_amount"]) == refunded[payment["id"]], payment["id"]
        assert D(payment["refunded_amount"]) <= D(payment["payment_amount"]), payment["id"]
        assert {r["id"] for r in payment["refunds"]} == {
            r["id"] for r in tenant["refunds"] if r["payment_id"] == payment["id"]
        }, payment["id"]
        if payment["status"] == "Failed":
            assert applied == 0 and refunded[payment["id"]] == 0, payment["id"]
            assert payment["failed_attempt"] >= 1, payment["id"]
        else:
            assert payment["failed_attempt"] == 0, payment["id"]


def check_debit_memos(tenant: dict) -> None:
    """Invariant 7: a debit memo's amount = subtotal + tax = its lines; balance = amount - the
    payments applied to it; ``Paid`` exactly when the balance is 0, else ``Open``."""
    applied = defaultdict(lambda: D("0.00"))
    payers = defaultdict(set)
    for payment in tenant["payments"]:
        for application in payment.get("debit_memos", []):
            applied[application["id"]] += D(application["amount_applied"])
            payers[application["id"]].add(payment["id"])
    for dm in tenant["debit_memos"]:
        amount = D(dm["debit_amount"])
        assert amount == D(dm["subtotal"]) + D(dm["debit_tax"]), dm["id"]
        assert D(dm["subtotal"]) == total(line["effective_price"] for line in dm["debit_lines"])
        assert D(dm["balance"]) == amount - applied[dm["id"]], dm["id"]
        assert D(dm["paid_amount"]) == applied[dm["id"]], dm["id"]
        assert dm["status"] == ("Paid" if D(dm["balance"]) == 0 else "Open"), dm["id"]
        assert {p["id"] for p in dm["payments"]} == payers[dm["id"]], dm["id"]


def check_runs(tenant: dict) -> None:
    """Invariant 9: each billing run's count and total are the invoices naming it; each
    payment run's counts and values are the payments naming it; a Draft is in no run."""
    by_run = defaultdict(list)
    for invoice in tenant["invoices"]:
        if invoice["billing_run_id"]:
            by_run[invoice["billing_run_id"]].append(invoice)
    for run in tenant["billing_runs"]:
        invoices = by_run.pop(run["id"], [])
        assert run["invoices_count"] == len(invoices) > 0, run["id"]
        assert D(run["invoices_total"]) == total(i["invoice_amount"] for i in invoices), run["id"]
        assert {i["currency"] for i in invoices} == {run["currency"]}, run["id"]
        assert {i["invoice_date"] for i in invoices} == {run["invoice_date"]}, run["id"]
    assert not by_run, f"invoices name unknown billing runs: {sorted(by_run)[:5]}"
    attempts = defaultdict(list)
    for payment in tenant["payments"]:
        if payment["payment_run_id"]:
            attempts[payment["payment_run_id"]].append(payment)
    for run in tenant["payment_runs"]:
        payments = attempts.pop(run["id"], [])
        failed = [p for p in payments if p["status"] == "Failed"]
        succeeded = [p for p in payments if p["status"] != "Failed"]
        assert (run["failure_count"], run["success_count"]) == (len(failed), len(succeeded))
        assert D(run["payments_failed_value"]) == total(p["payment_amount"] for p in failed)
        assert D(run["payments_success_value"]) == total(p["payment_amount"] for p in succeeded)
        assert D(run["payments_total_value"]) == total(p["payment_amount"] for p in payments)
    assert not attempts, f"payments name unknown payment runs: {sorted(attempts)[:5]}"


def check_coupons(tenant: dict) -> None:
    """A coupon's ``usage_count`` is the number of subscriptions sold with its code."""
    used = Counter(sub["coupon_code"] for sub in tenant["subscriptions"] if sub["coupon_code"])
    for coupon in tenant["coupons"]:
        assert coupon["usage_count"] == used.pop(coupon["code"], 0), coupon["code"]
    assert not used, f"subscriptions name unknown coupons: {sorted(used)}"


def check_customer_mrr(tenant: dict, as_of: date) -> None:
    """Invariant 6: customer cmrr / discounted_cmrr = revenue-rules §5 at the end of as_of.

    A tenant without subscriptions has no MRR: every customer's cmrr is 0.
    """
    mrr = mrr_by_customer(tenant, as_of)
    for customer in tenant["customers"]:
        gross, net = mrr.get(customer["id"], (Fraction(0), Fraction(0)))
        assert D(customer["cmrr"]) == cents(gross), customer["id"]
        assert D(customer["discounted_cmrr"]) == cents(net), customer["id"]


def check_customer_balances(tenant: dict) -> None:
    """Customer ``balance`` = the sum of its posted invoices' balances (a Draft is not a
    receivable) and of its debit memos' balances."""
    balances = defaultdict(lambda: D("0.00"))
    for invoice in tenant["invoices"]:
        if invoice["status"] != "Draft":
            balances[invoice["customer_id"]] += D(invoice["balance"])
    for dm in tenant["debit_memos"]:
        balances[dm["customer_id"]] += D(dm["balance"])
    for customer in tenant["customers"]:
        assert D(customer["balance"]) == balances[customer["id"]], customer["id"]


def check_journal_entries_balance(tenant: dict) -> None:
    for je in tenant["journal_entries"]:
        debit = total(e["debit"] for e in je["entries"])
        assert debit == total(e["credit"] for e in je["entries"]), je["id"]


def check_references(tenant: dict) -> None:
    """Every reference between served records resolves (``""`` = no reference).

    Raises listing every dangling reference as ``<collection> <id> <field>=<value>``.
    """
    problems: list[str] = []
    ids = {
        name: {record_key(name, record) for record in records}
        for name, records in tenant.items()
        if not name.startswith("_")
    }
    charges = {c["id"] for plan in tenant["plans"] for c in plan["charges"]}
    sub_lines = {
        (sub["id"], line["subscription_line_id"])
        for sub in tenant["subscriptions"]
        for line in sub["plans"]
    }
    contacts = {
        customer["id"]: {contact["id"] for contact in customer["contacts"]}
        for customer in tenant["customers"]
    }

    def ref(where: str, field: str, value, targets, required: bool = False) -> None:
        if value in ("", None) and not required:
            return
        if value not in targets:
            problems.append(f"{where} {field}={value!r}")

    numbers = {int(customer["id"].split("-")[1]) for customer in tenant["customers"]}
    coupons = {coupon["code"] for coupon in tenant["coupons"]}
    for customer in tenant["customers"]:
        where = f"customers {customer['id']}"
        ref(where, "billing_contact_id", customer["billing_contact_id"], contacts[customer["id"]])
    for note in tenant["customer_notes"]:
        ref(f"customer_notes {note['id']}", "customer_id", note["customer_id"], numbers, True)
    for method in tenant["payment_methods"]:
        where = f"payment_methods {method['id']}"
        ref(where, "customer_id", method["customer_id"], ids["customers"], True)
    for order in tenant["orders"]:
        where = f"orders {order['id']}"
        ref(where, "customer_id", order["customer_id"], ids["customers"], True)
        ref(where, "invoice_id", order["invoice_id"], ids["invoices"])
        sub_id = order["notes"].removeprefix("Converted to subscription ")
        ref(where, "notes (subscription)", sub_id, ids["subscriptions"], True)
        for line in order["line_items"]:
            ref(where, "line_items[].product_id", line["product_id"], ids["products"], True)
            ref(where, "line_items[].charge_id", line["charge_id"], charges, True)
    for statement in tenant["statements"]:
        where = f"statements {statement['id']}"
        ref(where, "customer_id", statement["customer_id"], ids["customers"], True)
    for dm in tenant["debit_memos"]:
        where = f"debit_memos {dm['id']}"
        ref(where, "customer_id", dm["customer_id"], ids["customers"], True)
        ref(where, "journal_entry_id", dm["journal_entry_id"], ids["journal_entries"])
        for payment in dm["payments"]:
            ref(where, "payments[].id", payment["id"], ids["payments"], True)
        for contact in customer["contacts"]:
            ref(where, "contacts[].customer_id", contact["customer_id"], {customer["id"]}, True)
    for product in tenant["products"]:
        where = f"products {product['id']}"
        ref(where, "revenue_rule_id", product["revenue_rule_id"], ids["revenue_rules"])
        for entry in product["transaction_posting_entries"]:
            for side in ("debit_account", "credit_account"):
                ref(where, side, entry[side], ids["chart_of_accounts"], True)
    for plan in tenant["plans"]:
        for charge in plan["charges"]:
            where = f"plans {plan['id']} charge {charge['id']}"
            ref(where, "product_id", charge["product_id"], ids["products"], True)
            ref(where, "revenue_rule_id", charge["revenue_rule_id"], ids["revenue_rules"])
    for sub in tenant["subscriptions"]:
        where = f"subscriptions {sub['id']}"
        ref(where, "customer_id", sub["customer_id"], ids["customers"], True)
        ref(where, "coupon_code", sub["coupon_code"], coupons)
        ref(where, "bill_contact_id", sub["bill_contact_id"], contacts.get(sub["customer_id"], ()))
        for line in sub["plans"]:
            at = f"{where} {line['subscription_line_id']}"
            ref(at, "product_id", line["product_id"], ids["products"], True)
            ref(at, "plan_id", line["plan_id"], ids["plans"], True)
            ref(at, "charge_id", line["charge_id"], charges, True)
            ref(at, "billing_schedule_id", line["billing_schedule_id"], ids["billing_schedules"])
            ref(at, "revenue_schedule_id", line["revenue_schedule_id"], ids["revenue_schedules"])
            ref(at, "revenue_rule_id", line["revenue_rule_id"], ids["revenue_rules"])
    for bs in tenant["billing_schedules"]:
        where = f"billing_schedules {bs['id']}"
        ref(where, "customer_id", bs["customer_id"], ids["customers"], True)
        ref(where, "subscription_id", bs["subscription_id"], ids["subscriptions"], True)
        ref(where, "charge_id", (bs["subscription_id"], bs["charge_id"]), sub_lines, True)
        ref(where, "product_id", bs["product_id"], ids["products"], True)
    for rs in tenant["revenue_schedules"]:
        where = f"revenue_schedules {rs['id']}"
        sub_id = rs["source_transaction"].removeprefix("Subscription: ")
        ref(where, "customer_id", rs["customer_id"], ids["customers"], True)
        ref(where, "source_transaction", sub_id, ids["subscriptions"], True)
        ref(where, "charge_id", (sub_id, rs["charge_id"]), sub_lines, True)
        ref(where, "product_id", rs["product_id"], ids["products"], True)
        ref(where, "revenue_rule_id", rs["revenue_rule_id"], ids["revenue_rules"], True)
        for line in rs["schedule_lines"]:
            ref(where, "schedule_lines[].invoice_id", line["invoice_id"], ids["invoices"])
            ref(
                where,
                "schedule_lines[].revenue_schedule_id",
                line["revenue_schedule_id"],
                {rs["id"]},
            )
    for invoice in tenant["invoices"]:
        where = f"invoices {invoice['id']}"
        ref(where, "customer_id", invoice["customer_id"], ids["customers"], True)
        ref(where, "billing_run_id", invoice["billing_run_id"], ids["billing_runs"])
        for line in invoice["line_items"]:
            at = f"{where} line {line['line_no']}"
            ref(at, "customer_id", line["customer_id"], {invoice["customer_id"]}, True)
            ref(at, "subscription_id", line["subscription_id"], ids["subscriptions"])
            if line["subscription_id"] or line["subscription_line_id"]:
                key = (line["subscription_id"], line["subscription_line_id"])
                ref(at, "subscription_line_id", key, sub_lines, True)
            ref(at, "product_id", line["product_id"], ids["products"], True)
            ref(at, "plan_id", line["plan_id"], ids["plans"])
            ref(at, "charge_id", line["charge_id"], charges)
        for name in ("payments", "credits", "refunds"):
            for embedded in invoice[name]:
                ref(where, f"{name}[].id", embedded["id"], ids[name], True)
    for payment in tenant["payments"]:
        where = f"payments {payment['id']}"
        ref(where, "customer_id", payment["customer_id"], ids["customers"], True)
        ref(where, "payment_run_id", payment["payment_run_id"], ids["payment_runs"])
        for application in payment["invoices"]:
            ref(where, "invoices[].id", application["id"], ids["invoices"], True)
        for application in payment["debit_memos"]:
            ref(where, "debit_memos[].id", application["id"], ids["debit_memos"], True)
        for refund in payment["refunds"]:
            ref(where, "refunds[].id", refund["id"], ids["refunds"], True)
    for credit in tenant["credits"]:
        where = f"credits {credit['id']}"
        ref(where, "customer_id", credit["customer_id"], ids["customers"], True)
        ref(where, "gl_account", credit["gl_account"], ids["chart_of_accounts"])
        for application in credit["invoices"]:
            ref(where, "invoices[].id", application["id"], ids["invoices"], True)
        for line in credit["credit_line_items"]:
            ref(where, "credit_account", line["credit_account"], ids["chart_of_accounts"])
    for refund in tenant["refunds"]:
        where = f"refunds {refund['id']}"
        ref(where, "customer_id", refund["customer_id"], ids["customers"], True)
        ref(where, "payment_id", refund["payment_id"], ids["payments"], True)
        ref(where, "invoice_id", refund["invoice_id"], ids["invoices"])
        ref(where, "credit_id", refund["credit_id"], ids["credits"])
    for usage in tenant["usages"]:
        where = f"usages {usage['id']}"
        ref(where, "customer_id", usage["customer_id"], ids["customers"], True)
        key = (usage["subscription_id"], usage["subscription_line_id"])
        ref(where, "subscription_line_id", key, sub_lines, True)
        ref(where, "charge_id", usage["charge_id"], charges, True)
    for je in tenant["journal_entries"]:
        where = f"journal_entries {je['id']}"
        source = {"Invoice": "invoices", "Payment": "payments", "DebitMemo": "debit_memos"}[
            je["source_type"]
        ]
        ref(where, "source_id", je["source_id"], ids[source], True)
        for entry in je["entries"]:
            ref(where, "entries[].account", entry["account"], ids["chart_of_accounts"], True)
            ref(where, "entries[].customer_id", entry["customer_id"], ids["customers"], True)
    assert not problems, "dangling references: " + "; ".join(problems[:20])


def check_consistent(tenant: dict, as_of: date, posted_through: date | None = None) -> None:
    """Every check above that applies to the collections the tenant serves."""
    check_references(tenant)
    check_invoice_totals_and_balances(tenant)
    check_line_tax(tenant)
    check_revenue_schedules(tenant, posted_through or as_of.replace(day=1))
    if tenant["revenue_schedules"]:
        check_billing_matches_revenue(tenant)
    if tenant["billing_schedules"]:  # billing-only invoices come from no schedule
        check_invoiced_lines_on_one_live_invoice(tenant)
    check_payment_applications(tenant)
    check_debit_memos(tenant)
    check_runs(tenant)
    check_coupons(tenant)
    check_customer_mrr(tenant, as_of)
    check_customer_balances(tenant)
    check_journal_entries_balance(tenant)


# -- causality of advance ------------------------------------------------------------------------
def datetime_ms(day: date) -> int:
    return (day - date(1970, 1, 1)).days * 86_400_000


def parse_ms(text: str) -> int:
    day = date.fromisoformat(text[:10])
    hours, minutes, seconds = text[11:23].split(":")
    return (
        datetime_ms(day) + (int(hours) * 3600 + int(minutes) * 60) * 1000 + int(D(seconds) * 1000)
    )


KEY_FIELDS = {"chart_of_accounts": "code", "webhooks": "name"}
"""The key of a collection's records (``id`` for the rest)."""
STAMP_FIELDS = {"customer_notes": ("created_at", "updated_at")}
"""(created, updated) stamp fields of a collection (``created_date``/``updated_date`` for the
rest, except ``UNSTAMPED``)."""
UNSTAMPED = frozenset({"payment_methods", "webhooks"})
"""Collections whose records carry no audit timestamps (ordway-api.md §11.3, §11.25)."""


def record_key(name: str, record: dict) -> str:
    return record[KEY_FIELDS.get(name, "id")]


def stamps(name: str, record: dict) -> tuple[str, str] | None:
    """A record's (created, updated) timestamps, None for an unstamped collection."""
    if name in UNSTAMPED:
        return None
    created, updated = STAMP_FIELDS.get(name, ("created_date", "updated_date"))
    return record[created], record[updated]


def records_by_key(tenant: dict) -> dict[tuple[str, str], str]:
    out = {}
    for name, records in tenant.items():
        if name.startswith("_"):
            continue
        for record in records:
            out[(name, record_key(name, record))] = json.dumps(record, sort_keys=True)
    return out


def check_advance_changes_only_records_stamped_that_day(
    before_tenant: dict, after_tenant: dict, day: date
) -> tuple[int, int]:
    """Advancing from ``day`` to ``day + 1``: a new or changed record carries a stamp of the
    new day (or up to 45 minutes before it, back-dated); a new or changed payment method (no
    stamps of its own) belongs to a customer stamped that day, and webhooks never change;
    vanished records are only deleted drafts and usage records; new ids follow the old ones.
    Returns (changed, new)."""
    before, after = records_by_key(before_tenant), records_by_key(after_tenant)
    midnight = datetime_ms(day + timedelta(days=1))
    earliest, latest = midnight - 45 * 60_000, midnight + 86_400_000
    customers_stamped = {
        c["id"] for c in after_tenant["customers"] if parse_ms(c["updated_date"]) >= earliest
    }
    changed = new = 0
    for key, text in after.items():
        record = json.loads(text)
        is_new, is_changed = key not in before, key in before and before[key] != text
        new += is_new
        changed += is_changed
        audit = stamps(key[0], record)
        if audit is None:
            if is_new or is_changed:
                assert key[0] == "payment_methods", key
                assert record["customer_id"] in customers_stamped, key
            continue
        stamp = parse_ms(audit[1])
        assert stamp < latest, key
        if is_new:
            assert stamp >= earliest, key
            assert parse_ms(audit[0]) >= earliest, key
        elif is_changed:
            assert stamp >= earliest, (key, audit[1])
    vanished = [key for key in before if key not in after]
    assert all(name in ("subscriptions", "usages") for name, _ in vanished), vanished
    for name in {name for name, _ in after}:
        old = sorted(i for n, i in before if n == name)
        fresh = sorted(i for n, i in after if n == name and (n, i) not in before)
        if old and fresh and name not in ("chart_of_accounts", "webhooks"):
            assert min(fresh) > max(old), name  # ids are assigned in creation order
    return changed, new
