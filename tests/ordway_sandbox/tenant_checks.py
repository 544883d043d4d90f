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
    """Invariant 1: subtotal, tax, amount and balance of every invoice add up."""
    applied = defaultdict(lambda: D("0.00"))
    for payment in tenant["payments"]:
        for application in payment["invoices"]:
            applied[application["id"]] += D(application["amount_applied"])
    for credit in tenant["credits"]:
        for application in credit["invoices"]:
            applied[application["id"]] += D(application["amount_applied"])
    for refund in tenant["refunds"]:
        applied[refund["invoice_id"]] -= D(refund["refund_amount"])
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
    assert all(count == 1 for count in invoiced.values())
    assert on_invoices == invoiced
    return len(invoiced)


def check_payment_applications(tenant: dict) -> None:
    """Invariant 5."""
    for payment in tenant["payments"]:
        applied = total(a["amount_applied"] for a in payment["invoices"])
        assert D(payment["applied_amount"]) == applied, payment["id"]
        assert D(payment["payment_amount"]) == applied + D(payment["unapplied_amount"])


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
    """Customer ``balance`` = the sum of its invoices' balances."""
    balances = defaultdict(lambda: D("0.00"))
    for invoice in tenant["invoices"]:
        balances[invoice["customer_id"]] += D(invoice["balance"])
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
        name: {record.get("id", record.get("code")) for record in records}
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

    for customer in tenant["customers"]:
        where = f"customers {customer['id']}"
        ref(where, "billing_contact_id", customer["billing_contact_id"], contacts[customer["id"]])
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
        for application in payment["invoices"]:
            ref(where, "invoices[].id", application["id"], ids["invoices"], True)
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
        source = {"Invoice": "invoices", "Payment": "payments"}[je["source_type"]]
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


def records_by_key(tenant: dict) -> dict[tuple[str, str], str]:
    out = {}
    for name, records in tenant.items():
        if name.startswith("_"):
            continue
        for record in records:
            out[(name, record.get("id") or record["code"])] = json.dumps(record, sort_keys=True)
    return out


def check_advance_changes_only_records_stamped_that_day(
    before_tenant: dict, after_tenant: dict, day: date
) -> tuple[int, int]:
    """Advancing from ``day`` to ``day + 1``: a new or changed record carries a stamp of the
    new day (or up to 45 minutes before it, back-dated); vanished records are only deleted
    drafts and usage records; new ids follow the old ones. Returns (changed, new)."""
    before, after = records_by_key(before_tenant), records_by_key(after_tenant)
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
    vanished = [key for key in before if key not in after]
    assert all(name in ("subscriptions", "usages") for name, _ in vanished), vanished
    for name in {name for name, _ in after}:
        old = sorted(i for n, i in before if n == name)
        fresh = sorted(i for n, i in after if n == name and (n, i) not in before)
        if old and fresh and name != "chart_of_accounts":
            assert min(fresh) > max(old), name  # ids are assigned in creation order
    return changed, new
