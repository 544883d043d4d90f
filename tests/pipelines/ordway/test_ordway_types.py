"""Typing of raw records before dlt sees them (money, dates, placeholders, bad values)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from pipelines.ordway.settings import COLLECTIONS
from pipelines.ordway.source import RecordTypeError, coerce_record


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
    assert row["custom_fields"] == {"Notes": ""}  # text stays text


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
