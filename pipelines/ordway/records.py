"""Record coercion: every raw Ordway record is typed here, before dlt sees it.

The rule (pipelines/ordway/README.md, "Types"):

- A **declared** field (contract.py, one kind per column) gets its kind: money and numbers become
  exact `Decimal`s, dates `date`, timestamps aware UTC `datetime`s, integers `int`, booleans
  `bool`, text `str` (a number or boolean arriving in a text field becomes its text). A value that
  cannot be coerced stops the run with `RecordTypeError`, naming collection, record id and field.
- Every **other** scalar, at any depth (nested objects such as `payment_options`, custom fields,
  child rows), is loaded as **text**: numbers in plain decimal notation, booleans as
  `true`/`false`. A field that is a boolean in one record and a number in the next therefore
  lands in one text column and can never fail the load or create a variant column.
- `""` (blank) is null for **every** value, declared or not, text included (an undeclared null
  is left out of the row, which loads the same). `"-"` (Ordway's placeholder for a missing date
  or boolean) is null in declared non-text fields and stays `"-"` in text.
- Custom fields: the `custom_fields` object is kept (flattened by dlt into
  `custom_fields__<name>` text columns) and the top-level copies Ordway adds of its keys (same
  name, same value) are dropped, unless the name is a declared field.
- Secret fields (`Collection.secret_fields`: a webhook's `url` and header values, credentials
  of other systems) are dropped and never loaded.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from pipelines.ordway.client import OrdwayError
from pipelines.ordway.contract import COLLECTIONS, MONEY_SCALE, Collection, FieldTypes

#: Placeholders that mean "no value" in a declared field of a non-text kind.
NULL_MARKERS = ("", "-")
_QUANTUM = Decimal(1).scaleb(-MONEY_SCALE)


class RecordTypeError(OrdwayError):
    """A field value could not be coerced to its declared type."""

    def __init__(self, collection: str, record_id: Any, field_path: str, value: Any, kind: str):
        self.collection = collection
        self.record_id = record_id
        self.field_path = field_path
        super().__init__(
            f"Cannot load {collection} record id={record_id!s}: field {field_path!r} expected "
            f"{kind}, got a {type(value).__name__} value that is not one"
        )


class _Bad(Exception):
    pass


def _decimal(value: Any) -> Decimal:
    if isinstance(value, bool):
        raise _Bad
    if isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, float):
        result = Decimal(repr(value))  # the shortest decimal that is this float: the wire text
    elif isinstance(value, str):
        try:
            result = Decimal(value.strip())
        except InvalidOperation:
            raise _Bad from None
    else:
        raise _Bad
    if not result.is_finite():
        raise _Bad
    return result


def _decimals(value: Decimal) -> int:
    exponent = value.as_tuple().exponent
    return -exponent if isinstance(exponent, int) else 0


def _to_money(value: Any) -> Decimal:
    result = _decimal(value)
    if _decimals(result) > MONEY_SCALE:  # rejected rather than rounded
        raise _Bad
    return result


def _to_number(value: Any) -> Decimal:
    result = _decimal(value)
    if _decimals(result) > MONEY_SCALE:
        result = result.quantize(_QUANTUM, rounding=ROUND_HALF_UP)
    return result


def _to_date(value: Any) -> date:
    if not isinstance(value, str) or len(value) != 10:
        raise _Bad
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise _Bad from None


def _to_timestamp(value: Any) -> datetime:
    if not isinstance(value, str) or "T" not in value:
        raise _Bad
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise _Bad from None
    if parsed.tzinfo is None:
        raise _Bad
    return parsed.astimezone(UTC)


def parse_ordway_timestamp(value: Any) -> datetime | None:
    """An Ordway timestamp (ISO with a zone) as an aware UTC datetime, None if it is not one."""
    try:
        return _to_timestamp(value)
    except _Bad:
        return None


def _to_integer(value: Any) -> int:
    if isinstance(value, bool):
        raise _Bad
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            raise _Bad from None
    raise _Bad


def _to_boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise _Bad


def _to_text(value: Any) -> str:
    """A scalar as text: strings as given, booleans `true`/`false`, numbers in plain notation."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return format(Decimal(repr(value)), "f")
    raise _Bad  # an object or a list where a scalar is declared


#: kind -> (converter, what the error message says was expected)
_CONVERTERS: dict[str, tuple[Callable[[Any], Any], str]] = {
    "money": (_to_money, "a decimal amount"),
    "numbers": (_to_number, "a number"),
    "dates": (_to_date, "a date YYYY-MM-DD"),
    "timestamps": (_to_timestamp, "a timestamp with time zone"),
    "integers": (_to_integer, "an integer"),
    "booleans": (_to_boolean, "a boolean"),
    "text": (_to_text, "text"),
}


@dataclass(frozen=True)
class _Field:
    convert: Callable[[Any], Any]
    expected: str
    is_text: bool


@dataclass(frozen=True)
class _Table:
    """What coercion needs to know about one table: its declared fields (dotted names inside
    objects) and its declared child tables (by list key)."""

    fields: Mapping[str, _Field] = field(default_factory=dict)
    children: Mapping[str, _Table] = field(default_factory=dict)
    secrets: frozenset[str] = frozenset()

    def child(self, key: str) -> _Table:
        return self.children.get(key, _UNDECLARED)


_UNDECLARED = _Table()


def _fields(types: FieldTypes) -> dict[str, _Field]:
    fields = {}
    for kind, (convert, expected) in _CONVERTERS.items():
        for name in getattr(types, kind):
            fields[name] = _Field(convert, expected, kind == "text")
    return fields


def _table_plan(collection: Collection) -> _Table:
    """The collection's tables as a tree of `_Table`s (worked out once per known collection)."""
    if COLLECTIONS.get(collection.name) is collection:
        return _known_plan(collection.name)
    return _build_plan(collection.tables, collection.secret_fields)


@functools.cache
def _known_plan(name: str) -> _Table:
    return _build_plan(COLLECTIONS[name].tables, COLLECTIONS[name].secret_fields)


def _build_plan(
    tables: Mapping[tuple[str, ...], FieldTypes],
    secrets: Mapping[tuple[str, ...], frozenset[str]] | None = None,
) -> _Table:
    secrets = secrets or {}
    paths = set(tables) | set(secrets)

    def build(path: tuple[str, ...]) -> _Table:
        children = {
            child[-1]: build(child)
            for child in paths
            if len(child) == len(path) + 1 and child[: len(path)] == path
        }
        fields = _fields(tables.get(path, FieldTypes()))
        return _Table(fields, children, frozenset(secrets.get(path, ())))

    return build(())


def _blank(value: Any) -> bool:
    return isinstance(value, str) and value.strip() == ""


def _loose(value: Any) -> str | None:
    """An undeclared scalar: blank -> null, anything else its text."""
    if value is None or _blank(value):
        return None
    return _to_text(value)


class _Coercer:
    def __init__(self, collection: str, record_id: Any) -> None:
        self.collection = collection
        self.record_id = record_id

    def row(self, row: dict[str, Any], table: _Table, location: str, prefix: str = "") -> None:
        if not prefix:
            _drop_custom_field_copies(row, table)
        for key in [k for k in row if prefix + k in table.secrets]:
            del row[key]
        nulls = []
        for key, value in row.items():
            name = prefix + key
            declared = table.fields.get(name)
            if declared is not None:
                row[key] = self.declared(value, declared, location + name)
            elif isinstance(value, dict):
                self.row(value, table, location, name + ".")
            elif isinstance(value, list):
                self.items(value, table.child(name), f"{location}{name}")
            else:
                row[key] = _loose(value)
                if row[key] is None:
                    nulls.append(key)
        # An undeclared null loads exactly as an absent key (NULL, or no column yet); leaving
        # it out spares dlt's "column received no data" warning on every run.
        for key in nulls:
            del row[key]

    def items(self, values: list[Any], table: _Table, location: str) -> None:
        for index, item in enumerate(values):
            if isinstance(item, dict):
                self.row(item, table, f"{location}[{index}].")
            elif isinstance(item, list):
                self.items(item, _UNDECLARED, f"{location}[{index}]")
            else:
                values[index] = _loose(item)

    def declared(self, value: Any, declared: _Field, location: str) -> Any:
        if value is None or _blank(value):
            return None
        if not declared.is_text and isinstance(value, str) and value.strip() in NULL_MARKERS:
            return None
        try:
            return declared.convert(value)
        except _Bad:
            raise RecordTypeError(
                self.collection, self.record_id, location, value, declared.expected
            ) from None


def _drop_custom_field_copies(row: dict[str, Any], table: _Table) -> None:
    """Drops the top-level copies of `custom_fields` keys (same name and value; §6)."""
    custom = row.get("custom_fields")
    if not isinstance(custom, dict):
        return
    for key, value in custom.items():
        if key != "custom_fields" and key not in table.fields and key in row and row[key] == value:
            del row[key]


def coerce_record(collection: Collection, record: dict[str, Any]) -> dict[str, Any]:
    """Types one raw record in place (root and child tables) and returns it."""
    record_id = record.get(collection.primary_key)
    if record_id is None or _blank(record_id):
        raise RecordTypeError(
            collection.name, None, collection.primary_key, record_id, "a primary key"
        )
    _Coercer(collection.name, record_id).row(record, _table_plan(collection), "")
    cursor = collection.cursor_field
    if cursor and not isinstance(record.get(cursor), datetime):
        raise RecordTypeError(collection.name, record_id, cursor, record.get(cursor), "a timestamp")
    return record
