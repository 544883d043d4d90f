"""The apps' reader of the published marts (``apps/marts.py``), their settings
(``apps/settings.py``) and the ARR bridge (``apps/figures.py``), on small DuckDB files."""

from __future__ import annotations

import hashlib
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from apps.figures import arr_bridge
from apps.marts import MartsUnavailable, QueryTimeout, cents, connect, money_text, percent
from apps.settings import AppSettings
from pipelines.config import ConfigError


@pytest.fixture
def marts_file(tmp_path: Path) -> Path:
    path = tmp_path / "ordway_marts.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE SCHEMA marts")
        con.execute(
            "CREATE TABLE marts.dim_customers (customer_id VARCHAR, balance DECIMAL(38,10))"
        )
        con.execute("INSERT INTO marts.dim_customers VALUES ('C-1', 5224022.5643564496)")
    return path


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_money_is_shown_at_cents_rounded_half_away_from_zero_with_thousands_separators():
    assert cents(Decimal("5224022.5643564496")) == "5,224,022.56"
    assert cents(Decimal("0.125")) == "0.13"  # half-even would give 0.12
    assert cents(Decimal("-0.125")) == "-0.13"
    assert cents(Decimal("1234.005"), grouped=False) == "1234.01"
    assert cents(Decimal("0E-10")) == "0.00"
    assert cents(None) == "n/a"
    assert money_text("EUR", Decimal("-1234567.891")) == "EUR -1,234,567.89"
    assert percent(Decimal("1.1194088098")) == "111.94%"
    assert percent(Decimal("0.91515")) == "91.52%"
    assert percent(None) == "n/a"


def test_the_reader_answers_parameterised_queries_with_exact_decimals(marts_file: Path):
    with connect(marts_file) as reader:
        rows = reader.rows("SELECT * FROM marts.dim_customers WHERE customer_id = ?", ["C-1"])
        injected = reader.rows(
            "SELECT * FROM marts.dim_customers WHERE customer_id = ?", ["x' OR 1=1 --"]
        )
    assert rows == [{"customer_id": "C-1", "balance": Decimal("5224022.5643564496")}]
    assert injected == []


@pytest.mark.parametrize(
    "statement",
    [
        "CREATE TABLE marts.x AS SELECT 1 AS a",
        "INSERT INTO marts.dim_customers VALUES ('C-2', 1)",
        "UPDATE marts.dim_customers SET balance = 0",
        "DROP TABLE marts.dim_customers",
        "ATTACH '{other}' AS other",
        "COPY marts.dim_customers TO '{other}.csv'",
        "SELECT * FROM read_csv('/etc/passwd')",
        "SET enable_external_access = true",
    ],
)
def test_the_reader_cannot_write_the_file_or_touch_any_other(
    marts_file: Path, tmp_path: Path, statement: str
):
    before = digest(marts_file)
    other = tmp_path / "other.duckdb"
    with connect(marts_file) as reader, pytest.raises(duckdb.Error):
        reader.rows(statement.format(other=other))
    assert digest(marts_file) == before
    assert not other.exists() and not Path(f"{other}.csv").exists()
    assert not marts_file.with_name(marts_file.name + ".wal").exists()


def test_a_query_running_past_the_time_limit_is_interrupted(marts_file: Path):
    with connect(marts_file, timeout_seconds=0.3) as reader:
        with pytest.raises(QueryTimeout, match=r"time limit of 0\.3 s"):
            reader.rows("SELECT count(*) FROM range(1000000000000) AS a")
        # the time limit is for everything read through the connection (one tool call)
        with pytest.raises(QueryTimeout, match="time limit"):
            reader.rows("SELECT 1")


def test_no_published_file_is_a_clear_error_naming_the_path_and_what_to_run(tmp_path: Path):
    missing = tmp_path / "nowhere_marts.duckdb"
    with pytest.raises(MartsUnavailable, match="make demo") as raised, connect(missing):
        pass
    assert str(missing) in str(raised.value)
    assert "DUCKDB_PUBLISHED_PATH" in str(raised.value)


def test_the_connection_is_closed_after_each_use_so_a_newly_published_file_is_seen(
    marts_file: Path, tmp_path: Path
):
    with connect(marts_file) as reader:
        assert reader.value("SELECT count(*) FROM marts.dim_customers") == 1
    replacement = tmp_path / "next.duckdb"
    with duckdb.connect(str(replacement)) as con:
        con.execute("CREATE SCHEMA marts")
        con.execute("CREATE TABLE marts.dim_customers AS SELECT 'C-9' AS customer_id")
        con.execute("INSERT INTO marts.dim_customers VALUES ('C-10')")
    replacement.replace(marts_file)  # what publish_duckdb does (os.replace)
    with connect(marts_file) as reader:
        assert reader.value("SELECT count(*) FROM marts.dim_customers") == 2


def test_settings_default_to_the_pipelines_published_file_and_local_addresses(tmp_path: Path):
    working = tmp_path / "ordway.duckdb"
    settings = AppSettings.from_env({"DUCKDB_PATH": str(working)})
    assert settings.published_path == tmp_path / "ordway_marts.duckdb"
    assert settings.reporting_currency == "USD"
    assert (settings.dashboard_host, settings.dashboard_port) == ("127.0.0.1", 8501)
    assert (settings.mcp_http_host, settings.mcp_http_port) == ("127.0.0.1", 8000)
    assert (settings.mcp_max_rows, settings.mcp_query_timeout_seconds) == (500, 10.0)
    explicit = AppSettings.from_env(
        {
            "DUCKDB_PATH": str(working),
            "DUCKDB_PUBLISHED_PATH": str(tmp_path / "bi.duckdb"),
            "REPORTING_CURRENCY": "eur",
            "MCP_MAX_ROWS": "25",
        }
    )
    assert explicit.published_path == tmp_path / "bi.duckdb"
    assert (explicit.reporting_currency, explicit.mcp_max_rows) == ("EUR", 25)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("DASHBOARD_PORT", "eighty", "DASHBOARD_PORT='eighty' is not a number"),
        ("MCP_HTTP_PORT", "70000", "MCP_HTTP_PORT='70000' must be between 1 and 65535"),
        ("MCP_MAX_ROWS", "0", "MCP_MAX_ROWS='0' must be between 1 and 10000"),
        ("MCP_QUERY_TIMEOUT_SECONDS", "-1", "MCP_QUERY_TIMEOUT_SECONDS='-1' must be between"),
        ("REPORTING_CURRENCY", "dollars", "REPORTING_CURRENCY='DOLLARS' is not a 3-letter"),
    ],
)
def test_an_invalid_setting_is_refused_naming_the_variable(
    tmp_path: Path, name: str, value: str, message: str
):
    with pytest.raises(ConfigError, match=message):
        AppSettings.from_env({"DUCKDB_PATH": str(tmp_path / "w.duckdb"), name: value})


def test_the_published_file_cannot_be_the_working_warehouse(tmp_path: Path):
    working = str(tmp_path / "ordway.duckdb")
    with pytest.raises(ConfigError, match="DUCKDB_PUBLISHED_PATH"):
        AppSettings.from_env({"DUCKDB_PATH": working, "DUCKDB_PUBLISHED_PATH": working})


def test_the_arr_bridge_runs_from_the_first_opening_through_summed_movements_to_the_last_closing():
    def month(m: int, opening: str, closing: str, **moves: str) -> dict[str, object]:
        row = {
            "month": date(2026, m, 1),
            "opening_arr": Decimal(opening),
            "closing_arr": Decimal(closing),
        }
        for column in ("new", "expansion", "reactivation", "contraction", "churn"):
            row[f"{column}_arr"] = Decimal(moves.get(column, "0"))
        return row

    movements = [
        month(1, "1000.00", "1300.50", new="300.50"),
        month(2, "1300.50", "1150.50", expansion="49.99", churn="-199.99"),
        month(3, "1150.50", "1100.00", contraction="-100.50", reactivation="50.00"),
    ]
    assert arr_bridge(movements) == [
        ("Opening", Decimal("1000.00")),
        ("New", Decimal("300.50")),
        ("Expansion", Decimal("49.99")),
        ("Reactivation", Decimal("50.00")),
        ("Contraction", Decimal("-100.50")),
        ("Churn", Decimal("-199.99")),
        ("Closing", Decimal("1100.00")),
    ]
    broken = [*movements[:2], month(3, "1150.50", "1100.01")]
    with pytest.raises(ValueError, match="opening \\+ movements != closing"):
        arr_bridge(broken)
