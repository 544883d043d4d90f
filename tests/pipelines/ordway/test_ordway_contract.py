"""The collection contract (settings.py) against its readers: every raw column a dbt staging model
reads is declared, once, with a type that agrees with the staging model's cast."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pipelines.ordway.contract import COLLECTIONS, KINDS, FieldTypes, _types

STAGING = Path(__file__).resolve().parents[3] / "dbt_project" / "models" / "staging" / "ordway"
RELATION = re.compile(r"set\s+raw_relation\s*=\s*source\(\s*'ordway'\s*,\s*'(\w+)'\s*\)")
FIELD = re.compile(r"ordway_field\(\s*columns\s*,\s*'(\w+)'\s*,\s*('[^']*'|\w+(?:\(\))?)")

#: The staging cast -> the one contract kind it agrees with. Money is cast with money_type();
#: other exact quantities (quantity, discount, exchange_rate) with numeric(p, s); `none` reads
#: the loaded type as is (the audit timestamps).
CASTS = {
    "varchar": "text",
    "date": "dates",
    "money_type()": "money",
    "numeric": "numbers",
    "boolean": "booleans",
    "integer": "integers",
    "bigint": "integers",
    "none": "timestamps",
}


def staging_reads() -> list[tuple[str, str, str, str]]:
    """(model file, raw table, raw column, staging cast) for every `ordway_field` call."""
    reads = []
    for path in sorted(STAGING.glob("*.sql")):
        text = path.read_text(encoding="utf-8")
        relation = RELATION.search(text)
        assert relation, f"{path.name}: no `set raw_relation = source('ordway', ...)`"
        for name, cast in FIELD.findall(text):
            reads.append((path.name, relation.group(1), name, cast.strip().strip("'").lower()))
    return reads


def contract_kind(table: str, column: str) -> str | None:
    collection, *path = table.split("__")
    types = COLLECTIONS[collection].tables.get(tuple(path))
    if types is None:
        return None
    for kind in KINDS:
        if column in {name.replace(".", "__") for name in getattr(types, kind)}:
            return kind
    return None


def cast_kind(cast: str) -> str | None:
    family = re.sub(r"\(.*\)$", "", cast) if cast != "money_type()" else cast
    return CASTS.get(family)


def test_the_staging_models_are_parsed() -> None:
    reads = staging_reads()
    assert len({model for model, *_ in reads}) == len(list(STAGING.glob("*.sql"))) >= 12
    assert len(reads) > 150
    assert all(cast_kind(cast) for *_, cast in reads), {c for *_, c in reads if not cast_kind(c)}


def test_every_column_staging_reads_is_declared_with_the_kind_its_cast_expects() -> None:
    problems = []
    for model, table, column, cast in staging_reads():
        declared = contract_kind(table, column)
        expected = cast_kind(cast)
        if declared != expected:
            problems.append(
                f"{model}: {table}.{column} is cast as {cast} ({expected}) but declared "
                f"{declared or 'nowhere'} in pipelines/ordway/contract.py"
            )
    assert not problems, "\n".join(problems)


def test_the_primary_key_of_every_collection_is_declared_text() -> None:
    for name, collection in COLLECTIONS.items():
        assert contract_kind(name, collection.primary_key) == "text", name


def test_a_column_declared_with_two_kinds_is_refused() -> None:
    with pytest.raises(ValueError, match="'quantity' declared as both numbers and text"):
        _types(numbers="quantity", text="quantity")


def test_every_declared_column_has_exactly_one_kind() -> None:
    for name, collection in COLLECTIONS.items():
        for path, types in collection.tables.items():
            assert isinstance(types, FieldTypes)
            counted = sum(len(getattr(types, kind)) for kind in KINDS)
            assert counted == len(types.names()), (name, path)
