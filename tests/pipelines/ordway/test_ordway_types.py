"""Typing of raw records before dlt sees them (money, dates, placeholders, bad values, the
text rule for undeclared fields, custom fields)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from pipelines.ordway.contract import COLLECTIONS
from pipelines.ordway.records import RecordTypeError, coerce_record


def invoice(**overrides: object) -> dict[str, object]:
    record: dict[str, object] = {
        "id": "INV-00042",
        "invoice_date": "2024-03-01",
        "due_date": "",
        "subtotal": "1234.50",
        "invoice_tax": "0.10",
        "balance": "-79982.0",
        "exchange_rate": 1.0834,
        "emailed": "-",
        "created_date": "2024-03-01T10:00:00.123Z",
        "updated_date": "2024-03-02T11:30:00.456Z",
        "line_items": [
            {"line_no": "1", "effective_price": "99.99", "end_date": "-", "quantity": 3.0},
        ],
        "payments": [
            {
                "id": "PMT-1",
                "payment_amount": "10.00",
                "invoices": [{"id": "INV-00042", "amount_applied": "10.00"}],
            }
        ],
        "custom_fields": {"Notes": ""},
    }
    record.update(overrides)
    return record


def test_money_becomes_exact_decimal_and_placeholders_become_null() -> None:
    row = coerce_record(COLLECTIONS["invoices"], invoice())
    assert row["subtotal"] == Decimal("1234.50")
    assert row["invoice_tax"] == Decimal("0.10")
    assert row["balance"] == Decimal("-79982.0")
    assert row["invoice_date"] == date(2024, 3, 1)
    assert row["due_date"] is None
    assert row["emailed"] is None
    assert row["updated_date"] == datetime(2024, 3, 2, 11, 30, 0, 456000, tzinfo=UTC)
    line = row["line_items"][0]
    assert line["effective_price"] == Decimal("99.99")
    assert line["end_date"] is None
    assert line["quantity"] == 3.0
    assert row["payments"][0]["payment_amount"] == Decimal("10.00")
    assert row["payments"][0]["invoices"][0]["amount_applied"] == Decimal("10.00")
    assert row["custom_fields"] == {}  # "" is null everywhere, text included


def test_flattened_object_fields_are_typed() -> None:
    record = {
        "id": "BS-1",
        "updated_date": "2024-01-01T00:00:00.000Z",
        "key_metrics": {"amount_invoiced": "144.00", "monthly_recurring_revenue": ""},
        "schedule_lines": [{"id": 13195687, "amount": "12.00", "invoiced": "Yes"}],
    }
    row = coerce_record(COLLECTIONS["billing_schedules"], record)
    assert row["key_metrics"]["amount_invoiced"] == Decimal("144.00")
    assert row["key_metrics"]["monthly_recurring_revenue"] is None
    assert row["schedule_lines"][0]["amount"] == Decimal("12.00")
    assert row["schedule_lines"][0]["invoiced"] == "Yes"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"subtotal": "12,50"}, "subtotal"),
        ({"invoice_date": "03/01/2024"}, "invoice_date"),
        ({"updated_date": "2024-03-02"}, "updated_date"),
        ({"emailed": "sometimes"}, "emailed"),
        ({"exchange_rate": "n/a"}, "exchange_rate"),
        (
            {"line_items": [{"line_no": "1", "unit_price": {"amount": 1}}]},
            "line_items[0].unit_price",
        ),
    ],
)
def test_a_value_that_cannot_be_coerced_names_collection_id_and_field(
    overrides: dict[str, object], field: str
) -> None:
    with pytest.raises(RecordTypeError) as info:
        coerce_record(COLLECTIONS["invoices"], invoice(**overrides))
    message = str(info.value)
    assert "invoices" in message and "INV-00042" in message and repr(field) in message


def test_the_offending_value_itself_is_not_echoed() -> None:
    with pytest.raises(RecordTypeError) as info:
        coerce_record(COLLECTIONS["invoices"], invoice(subtotal="acct 4111-1111"))
    assert "4111" not in str(info.value)


def test_an_incremental_record_without_updated_date_is_rejected() -> None:
    record = invoice()
    del record["updated_date"]
    with pytest.raises(RecordTypeError, match="updated_date"):
        coerce_record(COLLECTIONS["invoices"], record)


def test_money_with_more_decimals_than_the_column_keeps_is_rejected_not_rounded() -> None:
    with pytest.raises(RecordTypeError, match="subtotal"):
        coerce_record(COLLECTIONS["invoices"], invoice(subtotal="1.00000000001"))


def test_blank_is_null_in_every_field_declared_or_not_at_any_depth() -> None:
    record = invoice(
        customer_id="",  # declared text
        notes="   ",  # undeclared text
        billing_contact={"email": "", "first_name": "Ada"},  # undeclared object
    )
    record["line_items"][0].update(description="", applied_tiers="")
    row = coerce_record(COLLECTIONS["invoices"], record)
    # declared: null; undeclared: left out of the row (loads as NULL all the same)
    assert row["customer_id"] is None and "notes" not in row
    assert row["billing_contact"] == {"first_name": "Ada"}
    line = row["line_items"][0]
    assert line["description"] is None and "applied_tiers" not in line


def test_the_dash_placeholder_is_null_in_typed_fields_and_stays_in_text() -> None:
    row = coerce_record(COLLECTIONS["invoices"], invoice(payment_terms="-", start_date="-"))
    assert row["payment_terms"] == "-"
    assert row["start_date"] is None


def test_undeclared_values_load_as_text_so_a_drifting_field_cannot_conflict() -> None:
    """ordway-api.md §6: payment_options.affirm_enabled is a boolean in one customer and "" in
    another; list_price_base a number or ""; any such field lands in one text column."""
    customers = COLLECTIONS["customers"]
    shapes = [
        {"affirm_enabled": True, "ach_credit_enabled": False, "limit": 12.5},
        {"affirm_enabled": "", "ach_credit_enabled": "", "limit": 3},
        {"affirm_enabled": 1, "ach_credit_enabled": "-", "limit": 1e-05},
    ]
    rows = [
        coerce_record(customers, {"id": f"C-{n}", "payment_options": dict(options)})
        for n, options in enumerate(shapes)
    ]
    assert [r["payment_options"] for r in rows] == [
        {"affirm_enabled": "true", "ach_credit_enabled": "false", "limit": "12.5"},
        {"limit": "3"},
        {"affirm_enabled": "1", "ach_credit_enabled": "-", "limit": "0.00001"},
    ]
    plans = COLLECTIONS["plans"]
    charges = [{"id": "CHG-1", "list_price_base": 12}, {"id": "CHG-2", "list_price_base": ""}]
    row = coerce_record(plans, {"id": "PLN-1", "charges": charges})
    assert [c.get("list_price_base") for c in row["charges"]] == ["12", None]


def test_custom_fields_are_text_and_their_top_level_copies_are_dropped() -> None:
    record = {
        "id": "C-1",
        "name": "Acme",
        "custom_fields": {"segment": "smb", "Seats": 40, "Active": True, "salesforce_id": ""},
        "segment": "smb",  # Ordway's top-level copies (§6)
        "Seats": 40,
        "Active": True,
        "salesforce_id": "",
        "Region": "EMEA",  # a top-level key that is not a custom field stays
        "contacts": [
            {"id": "CT-1", "custom_fields": {"Tier": 2}, "Tier": 2, "email": "a@example.com"}
        ],
    }
    row = coerce_record(COLLECTIONS["customers"], record)
    assert row == {
        "id": "C-1",
        "name": "Acme",
        # custom_fields.salesforce_id is declared (staging reads it): null, not left out
        "custom_fields": {"segment": "smb", "Seats": "40", "Active": "true", "salesforce_id": None},
        "Region": "EMEA",
        "contacts": [{"id": "CT-1", "custom_fields": {"Tier": "2"}, "email": "a@example.com"}],
    }


def test_a_top_level_key_named_like_a_custom_field_stays_when_declared_or_different() -> None:
    record = {
        "id": "C-1",
        "name": "Acme",  # declared: never dropped, even if a custom field has the same name
        "notes": "real notes",  # differs from the custom field: not a copy
        "custom_fields": {"name": "Acme", "notes": "custom"},
    }
    row = coerce_record(COLLECTIONS["customers"], record)
    assert row["name"] == "Acme" and row["notes"] == "real notes"
    assert row["custom_fields"] == {"name": "Acme", "notes": "custom"}


def test_quantities_and_rates_are_exact_decimals_rounded_half_up_beyond_ten_places() -> None:
    record = invoice(exchange_rate=0.92004673212)  # 11 decimals
    record["line_items"][0]["quantity"] = 11116.0
    record["line_items"][0]["discount"] = "12.5"
    row = coerce_record(COLLECTIONS["invoices"], record)
    assert row["exchange_rate"] == Decimal("0.9200467321")
    line = row["line_items"][0]
    assert line["quantity"] == Decimal("11116.0") and isinstance(line["quantity"], Decimal)
    assert line["discount"] == Decimal("12.5")
    row = coerce_record(COLLECTIONS["invoices"], invoice(exchange_rate=1.00000000005))
    assert row["exchange_rate"] == Decimal("1.0000000001")  # half up, not banker's


def test_numbers_and_booleans_in_declared_text_fields_become_text_but_objects_fail() -> None:
    row = coerce_record(COLLECTIONS["invoices"], invoice(customer_id=1234, payment_terms=True))
    assert row["customer_id"] == "1234" and row["payment_terms"] == "true"
    with pytest.raises(RecordTypeError) as info:
        coerce_record(COLLECTIONS["invoices"], invoice(currency={"code": "USD"}))
    assert "'currency'" in str(info.value) and "INV-00042" in str(info.value)
