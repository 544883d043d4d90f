"""Every collection of a generated tenant, one by one, through the server's paging, filter,
single-record and sub-resource contract (test_server_api.py writes the rules out by hand on the
tiny tenant; here each collection of the generator is checked against its own records)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from ordway_sandbox.process import SandboxThread
from ordway_sandbox.server import COLLECTION_RULES, DEFAULT_IGNORE_FILTER, parse_timestamp_ms
from ordway_sandbox.tenant import COLLECTIONS
from tests.ordway_sandbox.tenant_checks import STAMP_FIELDS, UNSTAMPED

ARGS = ["--customers", "20", "--seed", "6", "--as-of", "2026-03-31"]


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[dict[str, Any], httpx.Client]]:
    with SandboxThread(ARGS) as sandbox, sandbox.client() as client:
        yield sandbox.get_tenant(), client


def key_of(name: str) -> str:
    rules = COLLECTION_RULES.get(name)
    return rules.key if rules else "id"


def listing(client: httpx.Client, path: str, size: int, **params: str) -> list[dict[str, Any]]:
    """Every page of a listing until the empty page."""
    records, page = [], 1
    while True:
        response = client.get(path, params={**params, "page": page, "size": size})
        assert response.status_code == 200, (path, page, response.text)
        batch = response.json()
        if not batch:
            return records
        assert len(batch) <= size
        records += batch
        page += 1


@pytest.mark.parametrize("name", COLLECTIONS)
def test_each_collection_pages_to_its_records_and_serves_each_by_its_key(served, name) -> None:
    tenant, client = served
    records = tenant[name]
    assert records, name
    key = key_of(name)
    paged = listing(client, f"/{name}", size=7)
    assert sorted(r[key] for r in paged) == sorted(r[key] for r in records), name
    for record in records[:3]:
        assert client.get(f"/{name}/{record[key]}").json() == record


#: Collections whose records carry `updated_date` and whose endpoint honours the filter.
FILTERED = [
    n
    for n in COLLECTIONS
    if n not in DEFAULT_IGNORE_FILTER and n not in UNSTAMPED and n not in STAMP_FIELDS
]


@pytest.mark.parametrize("name", FILTERED)
def test_each_collection_with_updated_date_filters_it_inclusively(served, name) -> None:
    tenant, client = served
    records = tenant[name]
    stamps = sorted(r["updated_date"] for r in records)
    since = stamps[len(stamps) // 2]
    expected = {
        r[key_of(name)]
        for r in records
        if parse_timestamp_ms(r["updated_date"]) >= parse_timestamp_ms(since)
    }
    got = listing(client, f"/{name}", size=50, **{"updated_date>": since})
    assert {r[key_of(name)] for r in got} == expected, name


@pytest.mark.parametrize("name", ["customer_notes", "payment_methods"])
def test_each_customer_sub_resource_serves_exactly_that_customers_records(served, name) -> None:
    tenant, client = served
    by_customer: dict[str, set[str]] = {c["id"]: set() for c in tenant["customers"]}
    for record in tenant[name]:
        customer = record["customer_id"]
        owner = f"C-{customer:05d}" if isinstance(customer, int) else customer
        by_customer[owner].add(record["id"])
    assert any(by_customer.values()), name
    for customer, expected in by_customer.items():
        got = listing(client, f"/customers/{customer}/{name}", size=50)
        assert {r["id"] for r in got} == expected, (name, customer)
