"""The `decimal_divide` macro on DuckDB (dbt_project/macros/money.sql): compiled once by dbt and
evaluated on thousands of numerator/denominator pairs up to its documented bounds (numerator
below 1e26 with 12 decimals, denominator below 1e23 with 10 decimals, quotient below 1e25),
against Python's Decimal with ROUND_HALF_UP at 120 significant digits."""

from __future__ import annotations

import random
from decimal import ROUND_HALF_UP, Decimal, localcontext
from pathlib import Path

import duckdb

from tests.support.dbt import invoke_dbt

SCALES = (10, 2, 0)
EDGE_CASES = [
    ("1", "8"),  # 0.125 -> 0.13 at 2 decimals (half away from zero)
    ("-1", "8"),  # -0.125 -> -0.13
    ("30999999999999999.69", "365"),  # 999,999,999,999,999.99 x 31 days / 365
    ("99999999999999999999999999.999999999999", "3"),  # largest numerator
    ("-99999999999999999999999999.999999999999", "99999999999999999999999.9999999999"),
    ("1", "99999999999999999999999.9999999999"),  # largest denominator
    ("0.000000000005", "1"),  # half at the 11th decimal
    ("0.000000000015", "-3"),  # a negative denominator
    ("1000", "3"),
    ("2000", "3"),
]


def _cases() -> list[tuple[Decimal, Decimal]]:
    generator = random.Random(12)
    cases = [(Decimal(n), Decimal(d)) for n, d in EDGE_CASES]
    with localcontext() as context:
        context.prec = 120
        while len(cases) < 3000:
            digits = generator.randint(1, 38)
            n = Decimal(generator.randint(-(10**digits), 10**digits)).scaleb(-12)
            if abs(n) >= Decimal("1e26"):
                n = n.scaleb(-generator.randint(1, 13)).quantize(Decimal("1e-12"))
            if generator.random() < 0.3:
                d = Decimal(generator.randint(1, 40000))  # day and month counts
            else:
                d = Decimal(generator.randint(1, 10 ** generator.randint(1, 33))).scaleb(-10)
            if generator.random() < 0.1:
                d = -d
            if abs(n / d) < Decimal("1e25"):
                cases.append((n, d))
    return cases


def _expected(n: Decimal, d: Decimal, scale: int) -> Decimal:
    with localcontext() as context:
        context.prec = 120
        return (n / d).quantize(Decimal(1).scaleb(-scale), rounding=ROUND_HALF_UP)


def test_decimal_divide_is_exact_and_rounds_half_away_from_zero_up_to_its_bounds(
    tmp_path: Path,
) -> None:
    columns = ", ".join(
        f"{{{{ decimal_divide('n', 'd', {scale}) }}}} as q{scale}" for scale in SCALES
    )
    compiled = invoke_dbt(
        "compile",
        tmp_path,
        {"DBT_TARGET": "lint"},
        {},
        "--quiet",
        "--inline",
        f"select id, {columns} from cases",
    )
    assert compiled.returncode == 0, compiled.output[-2000:]
    cases = _cases()
    with duckdb.connect() as connection:
        connection.execute("create table cases (id integer, n decimal(38, 12), d decimal(38, 10))")
        connection.executemany(
            "insert into cases values (?, ?, ?)",
            [(i, str(n), str(d)) for i, (n, d) in enumerate(cases)],
        )
        actual = {row[0]: row[1:] for row in connection.execute(compiled.output).fetchall()}
        zero = connection.execute(
            compiled.output.replace("from cases", "from (select 1 as id, 7 as n, 0 as d)")
        ).fetchall()
    expected = {i: tuple(_expected(n, d, s) for s in SCALES) for i, (n, d) in enumerate(cases)}
    assert actual == expected
    assert zero == [(1, None, None, None)]
    assert expected[0] == (Decimal("0.1250000000"), Decimal("0.13"), Decimal("0"))
