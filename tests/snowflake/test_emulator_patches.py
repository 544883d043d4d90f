"""The emulator's own behaviour the end-to-end tests rely on (tests/support/): an unhandled
exception fails the statement at once and is reported, a multi-statement request runs statement
by statement and stops at the first failure, a NULL timestamp reads back as NULL."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator

import pytest
import snowflake.connector
from snowflake.connector.errors import ProgrammingError

from tests.support.fakesnow_patches import split_statements
from tests.support.snowflake_emulator import (
    EMULATOR_ACCOUNT,
    EMULATOR_PASSWORD,
    EMULATOR_USER,
    EmulatorError,
    EmulatorProcess,
)

pytestmark = [pytest.mark.snowflake, pytest.mark.xdist_group("snowflake")]


def test_a_batch_is_split_at_semicolons_outside_literals_and_comments() -> None:
    sql = "create table a (x varchar);\n insert into a values ('x;y'); -- a; comment\n select 1;"
    assert split_statements(sql) == [
        "create table a (x varchar)",
        "insert into a values ('x;y')",
        "-- a; comment\n select 1",
    ]
    assert split_statements("select 1") == ["select 1"]
    assert split_statements(" ; ") == []


@pytest.fixture(scope="module")
def emulator() -> Iterator[EmulatorProcess]:
    with EmulatorProcess() as process:
        yield process


@pytest.fixture
def cursor(emulator: EmulatorProcess) -> Iterator[snowflake.connector.cursor.SnowflakeCursor]:
    env = emulator.env
    connection = snowflake.connector.connect(
        account=EMULATOR_ACCOUNT,
        user=EMULATOR_USER,
        password=EMULATOR_PASSWORD,
        database=env["SNOWFLAKE_DATABASE"],
        schema="PUBLIC",
        host=env["SNOWFLAKE_HOST"],
        port=int(env["SNOWFLAKE_PORT"]),
        protocol="http",
        network_timeout=120,
        session_parameters={"CLIENT_OUT_OF_BAND_TELEMETRY_ENABLED": False},
    )
    with contextlib.closing(connection):
        yield connection.cursor()


def test_an_unhandled_exception_fails_the_statement_and_is_reported_naming_it(
    emulator: EmulatorProcess, cursor
) -> None:
    cursor.execute("create or replace table loaded (x number(38,0))")
    # SIZE_LIMIT is a real COPY option that fakesnow does not know: an unhandled ValueError,
    # which stock fakesnow answers with an HTTP 500 the connector retries until its timeout
    with pytest.raises(ProgrammingError) as raised:
        cursor.execute("copy into loaded from @%loaded size_limit = 5")
    assert raised.value.errno == 999999 and raised.value.sqlstate == "XX000"
    assert "size_limit" in raised.value.msg
    # the emulator prints the statement before it answers; our reader thread may see it later
    deadline = time.monotonic() + 10
    while not emulator.fatal and time.monotonic() < deadline:
        time.sleep(0.05)
    with pytest.raises(EmulatorError, match="size_limit"):
        emulator.check()
    emulator.fatal.clear()


def test_a_multi_statement_request_runs_in_order_and_stops_at_the_first_failure(cursor) -> None:
    rows = cursor.execute(
        "create or replace table batch (x number(38,0)); insert into batch values (1), (2);"
        " select sum(x) from batch",
        num_statements=0,
    ).fetchall()
    assert rows == [(3,)]
    with pytest.raises(ProgrammingError):
        cursor.execute(
            "insert into batch values (10); insert into no_such_table values (1);"
            " insert into batch values (100)",
            num_statements=0,
        )
    assert cursor.execute("select x from batch order by x").fetchall() == [(1,), (2,), (10,)]


def test_a_null_timestamp_reads_back_as_null_over_the_server(cursor) -> None:
    cursor.execute("create or replace table stamps (id number(38,0), stamped timestamp_tz)")
    cursor.execute(
        "insert into stamps values (1, '2026-06-30 12:00:00 +00:00'::timestamp_tz), (2, null)"
    )
    rows = dict(cursor.execute("select id, stamped from stamps").fetchall())
    assert rows[2] is None
    assert rows[1].isoformat().startswith("2026-06-30T12:00:00")
