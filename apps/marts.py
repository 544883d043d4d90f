"""Read-only access to the published marts, and money as a person reads it.

Every reader of the dashboard and the MCP server goes through ``connect``:

- the published file only (``AppSettings.published_path``), never the working warehouse;
- ``read_only=True`` and DuckDB's ``enable_external_access=false`` locked in
  (``lock_configuration``): the connection cannot write the file, attach another database, or
  read or write any other file, whatever statement it is given;
- one connection per page render or tool call, closed at once: DuckDB shares one database per
  path inside a process, so a process sees the file the nightly job renamed into place only
  once all its connections to the old one are closed;
- statements with ``?`` parameters only (``Reader.rows`` takes the SQL and its parameters
  apart), and an optional time limit for everything read through one connection (one MCP tool
  call): a statement still running when ``timeout_seconds`` have passed since ``connect`` is
  interrupted (``DuckDBPyConnection.interrupt``) and raises ``QueryTimeout``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import duckdb

SCHEMA = "marts"
CENT = Decimal("0.01")
#: DuckDB settings of every reader (see the module docstring).
READ_ONLY_CONFIG = {"enable_external_access": False, "lock_configuration": True}


class MartsUnavailable(RuntimeError):
    """The published marts cannot be read (no file yet, or not a marts file)."""


class QueryTimeout(RuntimeError):
    """A statement ran longer than the reader's time limit and was interrupted."""


class Reader:
    """One open read-only connection to the published marts."""

    def __init__(self, con: duckdb.DuckDBPyConnection, timeout_seconds: float | None) -> None:
        self._con = con
        self.timeout_seconds = timeout_seconds
        self._deadline = time.monotonic() + timeout_seconds if timeout_seconds else None

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        """The rows of one parameterised statement as dicts (DuckDB's types: Decimal, date)."""
        timer = None
        if self._deadline is not None:
            remaining = self._deadline - time.monotonic()
            if remaining <= 0:
                raise QueryTimeout(f"the time limit of {self.timeout_seconds:g} s was reached")
            timer = threading.Timer(remaining, self._con.interrupt)
            timer.daemon = True
            timer.start()
        try:
            cursor = self._con.execute(sql, list(params))
            columns = [d[0] for d in cursor.description]
            return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
        except duckdb.InterruptException:
            raise QueryTimeout(
                f"the query was stopped at the time limit of {self.timeout_seconds:g} s"
            ) from None
        finally:
            if timer is not None:
                timer.cancel()

    def value(self, sql: str, params: Sequence[Any] = ()) -> Any:
        rows = self.rows(sql, params)
        return next(iter(rows[0].values())) if rows else None


@contextmanager
def connect(path: Path, *, timeout_seconds: float | None = None) -> Iterator[Reader]:
    """A read-only reader of the published marts at ``path``, closed on exit."""
    if not path.is_file():
        raise MartsUnavailable(
            f"no published marts at {path} (DUCKDB_PUBLISHED_PATH): run `make demo` or "
            "`make run` first; the nightly job writes this file once every test passed"
        )
    try:
        con = duckdb.connect(str(path), read_only=True, config=READ_ONLY_CONFIG)
    except duckdb.Error as exc:
        raise MartsUnavailable(f"cannot open {path} read-only: {exc}") from None
    try:
        yield Reader(con, timeout_seconds)
    finally:
        con.close()


# ------------------------------------------------------------------------------- as of


@dataclass(frozen=True)
class AsOf:
    """The date the published figures describe."""

    #: fct_ar_aging.as_of_date (None when no invoice is open: the marts then carry no date).
    as_of_date: date | None
    #: The last month of the marts (the as-of month).
    as_of_month: date | None

    @property
    def label(self) -> str:
        if self.as_of_date is not None:
            return self.as_of_date.isoformat()
        if self.as_of_month is not None:
            return f"{self.as_of_month:%B %Y} (no open invoice, so no as-of date in the marts)"
        return "unknown (the published marts are empty)"


def as_of(reader: Reader) -> AsOf:
    """The as-of date from fct_ar_aging, and the as-of month (the last month of the marts)."""
    day = reader.value(f"SELECT max(as_of_date) FROM {SCHEMA}.fct_ar_aging")
    month = reader.value(
        f"SELECT greatest((SELECT max(month) FROM {SCHEMA}.fct_deferred_revenue), "
        f"(SELECT max(month) FROM {SCHEMA}.fct_arr_movements))"
    )
    if day is not None:
        month = day.replace(day=1)
    return AsOf(as_of_date=day, as_of_month=month)


# ------------------------------------------------------------------------------- money


def to_cents(value: Decimal | int | None) -> Decimal | None:
    """Rounded to cents half away from zero (revenue-rules §1), None stays None."""
    if value is None:
        return None
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def cents(value: Decimal | int | None, *, grouped: bool = True) -> str:
    """``5224022.5643564496`` -> ``5,224,022.56`` (``5224022.56`` ungrouped); None -> ``n/a``."""
    rounded = to_cents(value)
    if rounded is None:
        return "n/a"
    return f"{rounded:,.2f}" if grouped else f"{rounded:.2f}"


def percent(ratio: Decimal | None) -> str:
    """A ratio as a percentage at two decimals (``1.1194088098`` -> ``111.94%``)."""
    if ratio is None:
        return "n/a"
    return f"{(Decimal(ratio) * 100).quantize(CENT, rounding=ROUND_HALF_UP)}%"


def money_text(currency: str, value: Decimal | int | None) -> str:
    """``USD 5,224,022.56``."""
    return f"{currency} {cents(value)}"
