"""The MCP server (``apps/mcp_server/``), driven by the MCP SDK's own client: the server is
spawned as a process over stdio (what a desktop MCP client does) or served over streamable HTTP,
against marts published by a real nightly run. Every answer is compared with an independent
read of the published marts (rows fetched with duckdb, totals summed here with Decimal)."""

from __future__ import annotations

import asyncio
import hashlib
import json
import socket
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import duckdb
import httpx
import pytest
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client

from apps.marts import connect
from apps.settings import REPO_ROOT
from tests.apps.conftest import PLANTED_SECRET, PublishedMarts

pytestmark = pytest.mark.slow

#: Payments whose money was received (the written definition of cash collected).
RECEIVED = {"Processed", "Partially refunded", "Refunded"}
#: Every argument any tool takes: none is SQL, a table or a column.
ARGUMENTS = {
    "customer_id",
    "name_or_id",
    "limit",
    "status",
    "open_only",
    "since",
    "until",
    "from_month",
    "to_month",
    "month",
    "movement",
    "metric",
}


@dataclass
class Answer:
    is_error: bool
    data: dict[str, Any] | None
    text: str


@dataclass
class Session:
    tools: list[Any]
    answers: list[Answer]
    log: str


def server_env(marts: PublishedMarts, **extra: str) -> dict[str, str]:
    return {**marts.env, "PYTHONPATH": str(REPO_ROOT), **extra}


def call_over_stdio(
    marts: PublishedMarts, calls: list[tuple[str, dict[str, Any]]], log: Path, **extra: str
) -> Session:
    """Spawns ``python -m apps.mcp_server`` (stdio), lists its tools and makes ``calls``."""
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "apps.mcp_server"],
        env=server_env(marts, **extra),
        cwd=str(REPO_ROOT),
    )

    async def run() -> Session:
        with log.open("w", encoding="utf-8") as errlog:
            async with Client(stdio_client(params, errlog=errlog)) as client:
                tools = (await client.list_tools()).tools
                answers = []
                for name, arguments in calls:
                    result = await client.call_tool(name, arguments)
                    text = " ".join(getattr(c, "text", "") for c in result.content)
                    answers.append(Answer(result.is_error, result.structured_content, text))
        return Session(tools, answers, log.read_text(encoding="utf-8"))

    return asyncio.run(run())


def ask(marts: PublishedMarts, tmp_path: Path, name: str, **arguments: Any) -> dict[str, Any]:
    answer = call_over_stdio(marts, [(name, arguments)], tmp_path / "server.log").answers[0]
    assert not answer.is_error, answer.text
    assert answer.data is not None
    return answer.data


def at_cents(value: Decimal) -> str:
    return str(value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def assert_money(shown: dict[str, str] | None, exact: Decimal | None) -> None:
    if exact is None:
        assert shown is None
        return
    assert shown == {"amount": at_cents(exact), "exact": format(exact, "f")}


def total(rows: list[dict[str, Any]], column: str) -> Decimal:
    return sum((row[column] for row in rows), Decimal(0))


@pytest.fixture(scope="module")
def customer_with_open_ar(published_marts: PublishedMarts) -> str:
    """The customer with the most open invoices (then the most payments)."""
    rows = published_marts.rows(
        "SELECT customer_id FROM marts.fct_ar_aging GROUP BY customer_id "
        "ORDER BY count(*) DESC, customer_id LIMIT 1"
    )
    return rows[0]["customer_id"]


@pytest.fixture
def unchanged_file(published_marts: PublishedMarts) -> Iterator[None]:
    """Asserts after the test that the published file is byte for byte the same."""
    before = hashlib.sha256(published_marts.path.read_bytes()).hexdigest()
    yield
    assert hashlib.sha256(published_marts.path.read_bytes()).hexdigest() == before
    assert not published_marts.path.with_name(published_marts.path.name + ".wal").exists()


# ------------------------------------------------------------------------------ tools


def test_every_tool_is_read_only_and_none_takes_sql_a_table_or_a_column(
    published_marts: PublishedMarts, tmp_path: Path
):
    session = call_over_stdio(published_marts, [], tmp_path / "server.log")
    names = {tool.name for tool in session.tools}
    assert names == {
        "about_the_data",
        "find_customers",
        "get_customer",
        "list_subscriptions",
        "list_invoices",
        "list_payments",
        "revenue_by_month",
        "arr_movements",
        "customer_mrr_history",
        "customers_by_movement",
        "ar_aging",
        "list_metrics",
        "query_metric",
    }
    for tool in session.tools:
        assert tool.annotations.read_only_hint is True, tool.name
        assert tool.annotations.destructive_hint is False, tool.name
        assert set(tool.input_schema.get("properties", {})) <= ARGUMENTS, tool.name
        assert tool.description, tool.name


def test_about_the_data_names_the_as_of_date_and_reporting_currency(
    published_marts: PublishedMarts, tmp_path: Path
):
    answer = ask(published_marts, tmp_path, "about_the_data")
    as_of = published_marts.rows("SELECT DISTINCT as_of_date FROM marts.fct_ar_aging")
    assert [row["as_of_date"].isoformat() for row in as_of] == [answer["as_of_date"]]
    assert answer["as_of_date"] == "2026-04-30"
    assert answer["reporting_currency"] == "USD"
    assert set(answer["document_currencies"]) == {"USD", "EUR", "CAD", "GBP"}


def test_customer_account_equals_dim_customers_with_the_open_ar_of_the_aging_mart(
    published_marts: PublishedMarts, tmp_path: Path, customer_with_open_ar: str
):
    answer = ask(published_marts, tmp_path, "get_customer", customer_id=customer_with_open_ar)
    (row,) = published_marts.rows(
        "SELECT * FROM marts.dim_customers WHERE customer_id = ?", [customer_with_open_ar]
    )
    for column in ("customer_id", "customer_name", "customer_status", "currency"):
        assert answer[column] == row[column]
    assert answer["payment_terms"] == row["payment_terms"]
    assert answer["billing_cycle_day"] == row["billing_cycle_day"]
    for column in ("open_balance_amount", "cmrr_amount", "current_mrr", "current_arr"):
        assert_money(answer[column], row[column])
    assert answer["billing_contact"] is None
    assert any("billing_contact" in note and "no contact" in note for note in answer["notes"])
    aging = published_marts.rows(
        "SELECT * FROM marts.fct_ar_aging WHERE customer_id = ?", [customer_with_open_ar]
    )
    expected: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for invoice in aging:
        expected[invoice["currency"]].append(invoice)
    assert {r["currency"] for r in answer["open_ar"]} == set(expected)
    for shown in answer["open_ar"]:
        invoices = expected[shown["currency"]]
        assert shown["open_invoices"] == len(invoices)
        assert_money(shown["balance"], total(invoices, "balance"))


def test_find_customers_matches_names_case_insensitively_and_treats_wildcards_as_text(
    published_marts: PublishedMarts, tmp_path: Path
):
    customers = published_marts.rows("SELECT customer_id, customer_name FROM marts.dim_customers")
    word = customers[0]["customer_name"].split()[0]
    session = call_over_stdio(
        published_marts,
        [
            ("find_customers", {"name_or_id": word.upper()}),
            ("find_customers", {"name_or_id": "%"}),
            ("find_customers", {"name_or_id": "x' OR 1=1 --"}),
        ],
        tmp_path / "server.log",
    )
    by_name, wildcard, injected = (a.data for a in session.answers)
    expected = {c["customer_id"] for c in customers if word.lower() in c["customer_name"].lower()}
    assert {row["customer_id"] for row in by_name["rows"]} == expected
    assert wildcard["rows"] == [] and injected["rows"] == []


def test_subscriptions_equal_dim_subscriptions_with_each_line_as_last_invoiced(
    published_marts: PublishedMarts, tmp_path: Path
):
    (busiest,) = published_marts.rows(
        "SELECT customer_id FROM marts.dim_subscriptions GROUP BY customer_id "
        "ORDER BY count(*) DESC, customer_id LIMIT 1"
    )
    customer_id = busiest["customer_id"]
    answer = ask(published_marts, tmp_path, "list_subscriptions", customer_id=customer_id)
    expected = {
        row["subscription_id"]: row
        for row in published_marts.rows(
            "SELECT * FROM marts.dim_subscriptions WHERE customer_id = ?", [customer_id]
        )
    }
    assert {row["subscription_id"] for row in answer["rows"]} == set(expected)
    lines = published_marts.rows(
        "SELECT * FROM marts.fct_invoice_lines WHERE customer_id = ? "
        "AND invoice_status NOT IN ('Draft', 'Reversed')",
        [customer_id],
    )
    for shown in answer["rows"]:
        row = expected[shown["subscription_id"]]
        assert shown["subscription_status"] == row["subscription_status"]
        assert shown["contract_effective_date"] == row["contract_effective_date"].isoformat()
        assert_money(shown["discounted_cmrr_amount"], row["discounted_cmrr_amount"])
        latest: dict[str, dict[str, Any]] = {}
        for line in lines:
            if line["subscription_id"] != shown["subscription_id"]:
                continue
            key = line["subscription_line_id"]
            order = (line["invoice_date"], line["invoice_id"], line["line_no"])
            if key not in latest or order > (
                latest[key]["invoice_date"],
                latest[key]["invoice_id"],
                latest[key]["line_no"],
            ):
                latest[key] = line
        shown_lines = {
            line["subscription_line_id"]: line for line in shown["lines_as_last_invoiced"]
        }
        assert set(shown_lines) == set(latest)
        for key, line in latest.items():
            assert shown_lines[key]["quantity"] == format(line["quantity"], "f")
            assert shown_lines[key]["plan_id"] == line["plan_id"]
            assert_money(shown_lines[key]["unit_price"], line["unit_price"])
    (customer,) = published_marts.rows(
        "SELECT current_mrr FROM marts.dim_customers WHERE customer_id = ?", [customer_id]
    )
    assert_money(answer["customer_current_mrr"], customer["current_mrr"])


def test_invoices_total_their_lines_and_carry_the_open_balance_of_the_aging_mart(
    published_marts: PublishedMarts, tmp_path: Path, customer_with_open_ar: str
):
    session = call_over_stdio(
        published_marts,
        [
            ("list_invoices", {"customer_id": customer_with_open_ar, "limit": 500}),
            ("list_invoices", {"customer_id": customer_with_open_ar, "open_only": True}),
        ],
        tmp_path / "server.log",
    )
    every, open_only = (a.data for a in session.answers)
    lines = published_marts.rows(
        "SELECT * FROM marts.fct_invoice_lines WHERE customer_id = ?", [customer_with_open_ar]
    )
    aging = {
        row["invoice_id"]: row
        for row in published_marts.rows(
            "SELECT * FROM marts.fct_ar_aging WHERE customer_id = ?", [customer_with_open_ar]
        )
    }
    by_invoice: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for line in lines:
        by_invoice[line["invoice_id"]].append(line)
    assert {row["invoice_id"] for row in every["rows"]} == set(by_invoice)
    dates = [row["invoice_date"] for row in every["rows"]]
    assert dates == sorted(dates, reverse=True)
    for shown in every["rows"]:
        mine = by_invoice[shown["invoice_id"]]
        subtotal = total(mine, "billed_amount")
        tax = sum((line["tax_amount"] or Decimal(0) for line in mine), Decimal(0))
        assert_money(shown["subtotal"], subtotal)
        assert_money(shown["total"], subtotal + tax)
        assert shown["invoice_status"] == mine[0]["invoice_status"]
        if shown["invoice_id"] in aging:
            assert_money(shown["open_balance"], aging[shown["invoice_id"]]["balance"])
            assert shown["aging_bucket"] == aging[shown["invoice_id"]]["aging_bucket"]
        else:
            assert shown["open_balance"] is None
    assert {row["invoice_id"] for row in open_only["rows"]} == set(aging)


def test_payments_equal_fct_payments_newest_first_within_the_dates_asked(
    published_marts: PublishedMarts, tmp_path: Path
):
    (payer,) = published_marts.rows(
        "SELECT customer_id FROM marts.fct_payments GROUP BY customer_id "
        "ORDER BY count(*) DESC, customer_id LIMIT 1"
    )
    customer_id = payer["customer_id"]
    session = call_over_stdio(
        published_marts,
        [
            ("list_payments", {"customer_id": customer_id, "limit": 500}),
            (
                "list_payments",
                {"customer_id": customer_id, "since": "2025-01-01", "until": "2025-12-31"},
            ),
        ],
        tmp_path / "server.log",
    )
    every, year = (a.data for a in session.answers)
    rows = {
        row["payment_id"]: row
        for row in published_marts.rows(
            "SELECT * FROM marts.fct_payments WHERE customer_id = ?", [customer_id]
        )
    }
    assert {row["payment_id"] for row in every["rows"]} == set(rows)
    for shown in every["rows"]:
        row = rows[shown["payment_id"]]
        assert shown["payment_date"] == row["payment_date"].isoformat()
        assert shown["payment_status"] == row["payment_status"]
        for column in ("payment_amount", "applied_amount", "refunded_amount"):
            assert_money(shown[column], row[column])
    in_2025 = {i for i, r in rows.items() if r["payment_date"].year == 2025}
    assert in_2025 and {row["payment_id"] for row in year["rows"]} == in_2025


def test_revenue_by_month_equals_the_revenue_and_deferred_revenue_marts(
    published_marts: PublishedMarts, tmp_path: Path, customer_with_open_ar: str
):
    session = call_over_stdio(
        published_marts,
        [
            ("revenue_by_month", {"from_month": "2025-05", "to_month": "2026-04"}),
            ("revenue_by_month", {"customer_id": customer_with_open_ar}),
        ],
        tmp_path / "server.log",
    )
    company, customer = (a.data for a in session.answers)

    def expected(where: str, params: list[Any]) -> dict[tuple[str, str], dict[str, Decimal]]:
        sums: dict[tuple[str, str], dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
        for row in published_marts.rows(f"SELECT * FROM marts.fct_revenue_monthly {where}", params):
            key = (row["month"].isoformat(), row["currency"])
            sums[key]["recognized_revenue"] += row["recognized_revenue"]
            sums[key]["recognized_revenue_reporting"] += row["recognized_revenue_reporting"]
        for row in published_marts.rows(
            f"SELECT * FROM marts.fct_deferred_revenue {where}", params
        ):
            key = (row["month"].isoformat(), row["currency"])
            for column in ("billings", "closing_deferred", "closing_unbilled"):
                sums[key][column] += row[column]
        return sums

    window = "WHERE month BETWEEN DATE '2025-05-01' AND DATE '2026-04-01'"
    for answer, sums in (
        (company, expected(window, [])),
        (customer, expected("WHERE customer_id = ?", [customer_with_open_ar])),
    ):
        assert {(r["month"], r["currency"]) for r in answer["rows"]} == set(sums)
        for shown in answer["rows"]:
            figures = sums[(shown["month"], shown["currency"])]
            for column in (
                "recognized_revenue",
                "recognized_revenue_reporting",
                "billings",
                "closing_deferred",
                "closing_unbilled",
            ):
                assert Decimal(shown[column]["exact"]) == figures[column], (shown, column)
                assert shown[column]["amount"] == at_cents(figures[column])


def test_arr_movements_customer_mrr_and_movers_equal_the_mrr_marts(
    published_marts: PublishedMarts, tmp_path: Path, customer_with_open_ar: str
):
    (moved,) = published_marts.rows(
        "SELECT month FROM marts.fct_mrr WHERE movement = 'churn' ORDER BY month DESC LIMIT 1"
    )
    month = moved["month"]
    session = call_over_stdio(
        published_marts,
        [
            ("arr_movements", {"from_month": "2025-05"}),
            ("customer_mrr_history", {"customer_id": customer_with_open_ar}),
            ("customers_by_movement", {"month": f"{month:%Y-%m}", "movement": "churn"}),
            ("customers_by_movement", {"month": f"{month:%Y-%m}"}),
        ],
        tmp_path / "server.log",
    )
    bridge, history, churned, moved_any = (a.data for a in session.answers)
    movements = published_marts.rows(
        "SELECT * FROM marts.fct_arr_movements WHERE month >= DATE '2025-05-01' ORDER BY month"
    )
    assert [row["month"] for row in bridge["rows"]] == [r["month"].isoformat() for r in movements]
    for shown, row in zip(bridge["rows"], movements, strict=True):
        for column in ("opening_arr", "new_arr", "expansion_arr", "contraction_arr", "churn_arr"):
            assert_money(shown[column], row[column])
        assert_money(shown["closing_arr"], row["closing_arr"])
        assert shown["active_customers"] == row["active_customers"]
    mrr = published_marts.rows(
        "SELECT * FROM marts.fct_mrr WHERE customer_id = ? ORDER BY month", [customer_with_open_ar]
    )
    assert [r["month"] for r in history["rows"]] == [r["month"].isoformat() for r in mrr]
    for shown, row in zip(history["rows"], mrr, strict=True):
        assert_money(shown["mrr"], row["mrr"])
        assert_money(shown["arr"], row["arr"])
        assert shown["movement"] == row["movement"]
    in_month = published_marts.rows("SELECT * FROM marts.fct_mrr WHERE month = ?", [month])
    assert {r["customer_id"] for r in churned["rows"]} == {
        r["customer_id"] for r in in_month if r["movement"] == "churn"
    }
    assert {r["customer_id"] for r in moved_any["rows"]} == {
        r["customer_id"] for r in in_month if r["movement"] != "unchanged"
    }
    for shown in churned["rows"]:
        row = next(r for r in in_month if r["customer_id"] == shown["customer_id"])
        assert_money(shown["arr_change"], 12 * row["mrr_change"])


def test_ar_aging_totals_each_bucket_of_each_currency_as_the_aging_mart(
    published_marts: PublishedMarts, tmp_path: Path, customer_with_open_ar: str
):
    session = call_over_stdio(
        published_marts,
        [
            ("ar_aging", {}),
            ("ar_aging", {"customer_id": customer_with_open_ar}),
            ("ar_aging", {"limit": 2}),
        ],
        tmp_path / "server.log",
    )
    company, one, first_two = (a.data for a in session.answers)
    aging = published_marts.rows("SELECT * FROM marts.fct_ar_aging")
    for answer, rows in (
        (company, aging),
        (one, [r for r in aging if r["customer_id"] == customer_with_open_ar]),
    ):
        sums: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
        for row in rows:
            sums[(row["currency"], row["aging_bucket"])] += row["balance"]
        nonzero = {
            (b["currency"], b["aging_bucket"]): b for b in answer["buckets"] if b["invoices"]
        }
        assert set(nonzero) == set(sums)
        for key, value in sums.items():
            assert_money(nonzero[key]["balance"], value)
    assert company["row_count"] == len(aging) and company["as_of_date"] == "2026-04-30"
    overdue = [row["days_past_due"] for row in company["rows"]]
    assert overdue == sorted(overdue, reverse=True)
    assert {row["customer_id"] for row in one["rows"]} == {customer_with_open_ar}
    assert first_two["rows"] == company["rows"][:2] and first_two["truncated"] is True


def test_every_metric_equals_the_marts_by_month(published_marts: PublishedMarts, tmp_path: Path):
    names = [
        "arr",
        "mrr",
        "active_customers",
        "churned_customers",
        "nrr",
        "grr",
        "recognized_revenue",
        "billings",
        "deferred_revenue",
        "unbilled_revenue",
        "cash_collected",
        "open_ar",
    ]
    session = call_over_stdio(
        published_marts,
        [("list_metrics", {})] + [("query_metric", {"metric": name}) for name in names],
        tmp_path / "server.log",
    )
    listed = session.answers[0].data
    assert [m["name"] for m in listed["metrics"]] == names
    answers = dict(zip(names, (a.data for a in session.answers[1:]), strict=True))

    def series(answer: dict[str, Any]) -> dict[tuple[str, str | None], Any]:
        return {(v["month"], v.get("currency")): v["value"] for v in answer["values"]}

    movements = published_marts.rows("SELECT * FROM marts.fct_arr_movements")
    for column, name in (
        ("closing_arr", "arr"),
        ("active_customers", "active_customers"),
        ("churned_customers", "churned_customers"),
    ):
        expected = {(r["month"].isoformat(), None): r[column] for r in movements}
        shown = series(answers[name])
        assert set(shown) == set(expected)
        for key, value in expected.items():
            if name == "arr":
                assert_money(shown[key], value)
            else:
                assert shown[key] == value

    def sums(sql: str, column: str, by_currency: bool) -> dict[tuple[str, str | None], Decimal]:
        result: dict[tuple[str, str | None], Decimal] = defaultdict(Decimal)
        for row in published_marts.rows(sql):
            month = row["month"] if "month" in row else row["payment_month"]
            result[(month.isoformat(), row["currency"] if by_currency else None)] += row[column]
        return result

    mrr = sums("SELECT * FROM marts.fct_mrr", "mrr", False)
    for row in movements:  # months where nobody had a row show 0
        mrr.setdefault((row["month"].isoformat(), None), Decimal(0))
    expectations = {
        "mrr": mrr,
        "recognized_revenue": sums(
            "SELECT * FROM marts.fct_revenue_monthly", "recognized_revenue_reporting", False
        ),
        "billings": sums("SELECT * FROM marts.fct_deferred_revenue", "billings", True),
        "deferred_revenue": sums(
            "SELECT * FROM marts.fct_deferred_revenue", "closing_deferred", True
        ),
        "unbilled_revenue": sums(
            "SELECT * FROM marts.fct_deferred_revenue", "closing_unbilled", True
        ),
    }
    cash: dict[tuple[str, str | None], Decimal] = defaultdict(Decimal)
    for row in published_marts.rows("SELECT * FROM marts.fct_payments"):
        if row["payment_status"] in RECEIVED:
            key = (row["payment_month"].isoformat(), row["currency"])
            cash[key] += row["payment_amount"]
    expectations["cash_collected"] = cash
    open_ar: dict[tuple[str, str | None], Decimal] = defaultdict(Decimal)
    for row in published_marts.rows("SELECT * FROM marts.fct_ar_aging"):
        open_ar[("2026-04-01", row["currency"])] += row["balance"]
    expectations["open_ar"] = open_ar
    for name, expected in expectations.items():
        shown = series(answers[name])
        assert set(shown) == set(expected), name
        for key, value in expected.items():
            assert_money(shown[key], value)
    retention = published_marts.rows("SELECT * FROM marts.fct_retention")
    for column in ("nrr", "grr"):
        shown = series(answers[column])
        for row in retention:
            value = shown[(row["month"].isoformat(), None)]
            if row[column] is None:
                assert value is None
            else:
                assert value["ratio"] == format(row[column], "f")
                percent = (row[column] * 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
                assert value["percent"] == f"{percent}%"


# ----------------------------------------------------------------- governance and errors


def test_unknown_customers_bad_months_and_dates_get_clear_errors_and_injection_finds_nothing(
    published_marts: PublishedMarts, tmp_path: Path, unchanged_file: None
):
    calls = [
        ("get_customer", {"customer_id": "C-NOPE"}),
        ("get_customer", {"customer_id": "x' OR 1=1 --"}),
        ("list_invoices", {"customer_id": "'; DROP TABLE marts.dim_customers; --"}),
        ("query_metric", {"metric": "arr", "from_month": "2026-13"}),
        ("query_metric", {"metric": "arr", "from_month": "April"}),
        ("query_metric", {"metric": "arr", "from_month": "2026-04", "to_month": "2025-04"}),
        ("query_metric", {"metric": "ebitda"}),
        ("list_payments", {"customer_id": "C-00001", "since": "2026-02-30"}),
        ("customers_by_movement", {"month": "2026-04", "movement": "downgrade"}),
        ("list_payments", {"customer_id": "C-00001", "limit": 0}),
    ]
    session = call_over_stdio(published_marts, calls, tmp_path / "server.log")
    texts = [answer.text for answer in session.answers]
    assert all(answer.is_error for answer in session.answers), texts
    assert "unknown customer_id 'C-NOPE'" in texts[0]
    assert 'unknown customer_id "x\' OR 1=1 --"' in texts[1]
    assert "unknown customer_id" in texts[2]
    assert "from_month='2026-13' is not a month: give YYYY-MM" in texts[3]
    assert "from_month='April' is not a month" in texts[4]
    assert "the first is after the last" in texts[5]
    assert "unknown metric 'ebitda': one of arr, mrr" in texts[6]
    assert "since='2026-02-30' is not a date: give YYYY-MM-DD" in texts[7]
    assert "movement='downgrade' is not one of new, expansion" in texts[8]
    assert "limit=0 must be at least 1" in texts[9]
    count = published_marts.rows("SELECT count(*) AS n FROM marts.dim_customers")[0]["n"]
    assert count == 25


def test_answers_are_capped_at_the_row_limit_and_say_so(
    published_marts: PublishedMarts, tmp_path: Path
):
    session = call_over_stdio(
        published_marts,
        [
            ("arr_movements", {}),
            ("find_customers", {"name_or_id": "C-", "limit": 100}),
            ("query_metric", {"metric": "billings"}),
        ],
        tmp_path / "server.log",
        MCP_MAX_ROWS="5",
    )
    movements, customers, billings = (a.data for a in session.answers)
    assert len(published_marts.rows("SELECT * FROM marts.fct_arr_movements")) > 5
    assert movements["row_count"] == 5 and len(movements["rows"]) == 5
    assert movements["truncated"] is True and movements["row_limit"] == 5
    assert len(customers["rows"]) == 5 and customers["truncated"] is True
    assert len(billings["values"]) == 5 and billings["truncated"] is True


def test_every_call_is_logged_with_its_arguments_and_no_answer_or_log_holds_a_secret(
    published_marts: PublishedMarts, tmp_path: Path, customer_with_open_ar: str
):
    calls = [
        ("about_the_data", {}),
        ("get_customer", {"customer_id": customer_with_open_ar}),
        ("query_metric", {"metric": "arr", "from_month": "2026-01"}),
        ("get_customer", {"customer_id": "C-NOPE"}),
    ]
    session = call_over_stdio(published_marts, calls, tmp_path / "server.log")
    lines = [line for line in session.log.splitlines() if " tool=" in line]
    assert len(lines) == len(calls)
    for line, (name, arguments) in zip(lines, calls, strict=True):
        assert f"tool={name} " in line
        for key, value in arguments.items():
            assert json.dumps(key) in line and json.dumps(value) in line
    assert "outcome=error" in lines[-1] and "outcome=ok" in lines[0]
    everything = (
        session.log
        + json.dumps([a.data for a in session.answers])
        + "".join(a.text for a in session.answers)
    )
    assert PLANTED_SECRET not in everything
    assert "ORDWAY_API_KEY" not in everything


def test_the_servers_own_connection_refuses_to_write_the_published_marts(
    published_marts: PublishedMarts, unchanged_file: None
):
    for statement in (
        "CREATE TABLE marts.agent_notes AS SELECT 1 AS a",
        "DELETE FROM marts.fct_ar_aging",
        "UPDATE marts.dim_customers SET open_balance_amount = 0",
    ):
        with connect(published_marts.path) as reader, pytest.raises(duckdb.Error):
            reader.rows(statement)


# ------------------------------------------------------------------------------- HTTP


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_the_http_transport_starts_and_answers_a_tool_call(
    published_marts: PublishedMarts, tmp_path: Path
):
    port = free_port()
    log = (tmp_path / "http.log").open("w", encoding="utf-8")
    process = subprocess.Popen(
        [sys.executable, "-m", "apps.mcp_server", "--transport", "http", "--port", str(port)],
        cwd=REPO_ROOT,
        env={**server_env(published_marts), "PATH": "/usr/bin:/bin"},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, (tmp_path / "http.log").read_text()
            try:
                httpx.get(f"http://127.0.0.1:{port}/mcp", timeout=1)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "the HTTP server did not start in 60 s"
                time.sleep(0.2)

        async def call() -> Any:
            async with Client(f"http://127.0.0.1:{port}/mcp") as client:
                return await client.call_tool("query_metric", {"metric": "open_ar"})

        result = asyncio.run(call())
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()
    assert not result.is_error
    shown = {v["currency"]: v["value"] for v in result.structured_content["values"]}
    expected: dict[str, Decimal] = defaultdict(Decimal)
    for row in published_marts.rows("SELECT currency, balance FROM marts.fct_ar_aging"):
        expected[row["currency"]] += row["balance"]
    assert set(shown) == set(expected)
    for currency, value in expected.items():
        assert_money(shown[currency], value)
    assert "tool=query_metric" in (tmp_path / "http.log").read_text()
