"""The sandbox server's API contract (ordway-api.md §2-6, §14) over real loopback HTTP.

The server runs in a thread of the test process (``SandboxThread``, configured by the same CLI
code as ``serve``); test_server_process.py starts the real process. Every expectation is written
out by hand from tests/fixtures/tiny_tenant.json.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from ordway_sandbox.process import SandboxThread, credentials_env
from ordway_sandbox.server import COLLECTION_RULES, CollectionRules, Parent

TINY = Path(__file__).resolve().parents[1] / "fixtures" / "tiny_tenant.json"
BODY_401 = '{"error":{"status":401,"title":"Invalid Email/Token combination."}}'
ALL_INVOICES = [f"INV-0000{n}" for n in range(1, 8)]


def tiny_tenant() -> dict[str, Any]:
    return json.loads(TINY.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxThread]:
    with SandboxThread(tenant=TINY) as process:
        yield process


@pytest.fixture(scope="module")
def client(sandbox: SandboxThread) -> Iterator[httpx.Client]:
    with sandbox.client() as http:
        yield http


def ids(response: httpx.Response, key: str = "id") -> list[str]:
    assert response.status_code == 200, response.text
    return [record[key] for record in response.json()]


# ---------------------------------------------------------------- paging and order


def test_pages_follow_each_other_and_end_with_an_empty_array(client: httpx.Client) -> None:
    pages = [client.get("/invoices", params={"size": 3, "page": n}) for n in (1, 2, 3, 4, 5)]
    assert [ids(p) for p in pages] == [
        ["INV-00007", "INV-00006", "INV-00005"],
        ["INV-00004", "INV-00003", "INV-00002"],
        ["INV-00001"],
        [],
        [],
    ]
    assert pages[3].text == "[]"


def test_list_is_a_bare_array_of_the_records_as_stored(client: httpx.Client) -> None:
    body = client.get("/invoices", params={"size": 50}).json()
    assert isinstance(body, list)
    stored = {r["id"]: r for r in tiny_tenant()["invoices"]}
    assert {r["id"]: r for r in body} == stored


def test_default_page_size_is_20() -> None:
    tenant = {"usages": [{"id": f"U-{n:05d}", "quantity": 1.0} for n in range(1, 26)]}
    with SandboxThread(tenant=tenant) as process, process.client() as http:
        assert ids(http.get("/usages")) == [f"U-{n:05d}" for n in range(25, 5, -1)]
        assert ids(http.get("/usages", params={"page": 2})) == [
            f"U-{n:05d}" for n in range(5, 0, -1)
        ]


def test_page_size_is_clamped_to_50_and_to_500_for_revenue_schedules() -> None:
    tenant = {
        "usages": [{"id": f"U-{n:05d}"} for n in range(1, 121)],
        "revenue_schedules": [{"id": f"RS-{n:05d}"} for n in range(1, 521)],
    }
    with SandboxThread(tenant=tenant) as process, process.client() as http:
        assert len(ids(http.get("/usages", params={"size": 1000}))) == 50
        assert len(ids(http.get("/usages", params={"size": 1000, "page": 3}))) == 20
        schedules = ids(http.get("/revenue_schedules", params={"size": 1000}))
        assert len(schedules) == 500
        assert schedules[0] == "RS-00520"
        assert ids(http.get("/revenue_schedules", params={"size": 1000, "page": 2})) == [
            "RS-00020",
            "RS-00019",
        ] + [f"RS-{n:05d}" for n in range(18, 0, -1)]


def test_no_sort_means_descending_id(client: httpx.Client) -> None:
    assert ids(client.get("/invoices")) == ALL_INVOICES[::-1]
    assert ids(client.get("/chart_of_accounts"), "code") == ["4000", "2000", "1200", "1000"]


def test_sort_without_direction_is_ascending(client: httpx.Client) -> None:
    response = client.get("/invoices", params={"sort": "updated_date,id"})
    assert ids(response) == [
        "INV-00001",
        "INV-00006",
        "INV-00007",
        "INV-00003",
        "INV-00002",  # INV-00002 and INV-00004 share updated_date: id breaks the tie
        "INV-00004",
        "INV-00005",
    ]


def test_sort_desc_suffix_applies_to_every_field(client: httpx.Client) -> None:
    response = client.get("/invoices", params={"sort": "updated_date,id desc"})
    assert ids(response) == [
        "INV-00005",
        "INV-00004",
        "INV-00002",
        "INV-00003",
        "INV-00007",
        "INV-00006",
        "INV-00001",
    ]


def test_multi_field_sort_orders_by_the_first_field_then_the_next(client: httpx.Client) -> None:
    ascending = client.get("/invoices", params={"sort": "customer_id,invoice_date asc"})
    assert ids(ascending) == [
        "INV-00001",
        "INV-00003",
        "INV-00006",
        "INV-00002",
        "INV-00005",
        "INV-00004",
        "INV-00007",
    ]
    descending = client.get("/invoices", params={"sort": "customer_id,invoice_date desc"})
    assert ids(descending) == [
        "INV-00007",
        "INV-00004",
        "INV-00005",
        "INV-00002",
        "INV-00006",
        "INV-00003",
        "INV-00001",
    ]


def test_missing_sort_field_sorts_as_empty(client: httpx.Client) -> None:
    # Only INV-00005 has reversed_on; the others tie at "" and keep stored order.
    response = client.get("/invoices", params={"sort": "reversed_on"})
    assert ids(response) == [*ALL_INVOICES[:4], "INV-00006", "INV-00007", "INV-00005"]


def test_sort_naming_no_field_is_rejected_with_422(client: httpx.Client) -> None:
    response = client.get("/invoices", params={"sort": " desc"})
    assert response.status_code == 422
    assert "sort" in response.json()["errors"]["details"]["message"]


# ---------------------------------------------------------------- filters


def test_equality_filters_combine(client: httpx.Client) -> None:
    assert ids(client.get("/invoices", params={"customer_id": "C-00001"})) == [
        "INV-00006",
        "INV-00003",
        "INV-00001",
    ]
    both = client.get("/invoices", params={"customer_id": "C-00001", "status": "Paid"})
    assert ids(both) == ["INV-00003", "INV-00001"]
    assert ids(client.get("/invoices", params={"status": "Partially paid"})) == ["INV-00004"]


def test_equality_filter_on_numbers_and_booleans(client: httpx.Client) -> None:
    assert ids(client.get("/usages", params={"invoiced": "true"})) == ["U-00002"]
    assert ids(client.get("/usages", params={"quantity": "80.5"})) == ["U-00002"]


def test_filter_naming_an_unknown_field_is_ignored(client: httpx.Client) -> None:
    assert ids(client.get("/invoices", params={"no_such_field": "x"})) == ALL_INVOICES[::-1]


@pytest.mark.parametrize(
    ("since", "expected"),
    [
        # a record exactly at the boundary is returned, one 1 ms earlier is not
        ("2024-03-05T12:00:00.500000Z", ["INV-00002", "INV-00004", "INV-00005"]),
        ("2024-03-05T12:00:00.500Z", ["INV-00002", "INV-00004", "INV-00005"]),
        # microseconds are truncated to the millisecond (ordway-api.md §5.3.1)
        ("2024-03-05T12:00:00.500999Z", ["INV-00002", "INV-00004", "INV-00005"]),
        ("2024-03-05T12:00:00.501000Z", ["INV-00005"]),
        ("2024-03-05T12:00:00.499Z", ["INV-00003", "INV-00002", "INV-00004", "INV-00005"]),
        ("2024-03-05T00:00:00Z", ["INV-00007", "INV-00003", "INV-00002", "INV-00004", "INV-00005"]),
        ("2024-03-05", ["INV-00007", "INV-00003", "INV-00002", "INV-00004", "INV-00005"]),
        ("2030-01-01", []),
    ],
)
def test_updated_date_filter_is_inclusive_at_millisecond_precision(
    client: httpx.Client, since: str, expected: list[str]
) -> None:
    response = client.get("/invoices", params={"sort": "updated_date,id", "updated_date>": since})
    assert ids(response) == expected


def test_updated_date_filter_is_sent_url_encoded_on_the_wire(sandbox: SandboxThread) -> None:
    with sandbox.client() as http:
        response = http.get("/invoices?sort=updated_date,id&updated_date%3E=2024-03-06T00:00:00Z")
    assert ids(response) == ["INV-00005"]


@pytest.mark.parametrize("value", ["yesterday", "2024-13-01", "2024-03-05T25:00:00Z", ""])
def test_malformed_updated_date_is_rejected_with_422(client: httpx.Client, value: str) -> None:
    response = client.get("/invoices", params={"updated_date>": value})
    assert response.status_code == 422
    body = response.json()
    assert set(body) == {"errors"}
    assert "updated_date>" in body["errors"]["details"]["message"]


def test_billing_schedules_ignore_sort_and_come_in_ascending_id(client: httpx.Client) -> None:
    expected = ["BS-00001", "BS-00002", "BS-00003"]
    assert ids(client.get("/billing_schedules")) == expected
    assert ids(client.get("/billing_schedules", params={"sort": "id desc"})) == expected


def test_revenue_rules_ignore_sort_and_updated_date_filter(client: httpx.Client) -> None:
    # sort=name would give PR-00002, PR-00003, PR-00001; the filter would give nothing.
    params = {"sort": "name", "updated_date>": "2099-01-01T00:00:00.000Z"}
    assert ids(client.get("/revenue_rules", params=params)) == ["PR-00003", "PR-00002", "PR-00001"]


def test_ignore_switches_can_be_overridden_on_the_command_line() -> None:
    args = ["--ignore-sort", "invoices", "--ignore-filter", "none"]
    with SandboxThread(args, tenant=TINY) as process, process.client() as http:
        sorted_rules = http.get("/revenue_rules", params={"sort": "name"})
        assert ids(sorted_rules) == ["PR-00002", "PR-00003", "PR-00001"]
        since = {"updated_date>": "2023-06-01"}
        assert ids(http.get("/revenue_rules", params=since)) == ["PR-00003", "PR-00002"]
        assert ids(http.get("/billing_schedules", params={"sort": "id desc"})) == [
            "BS-00003",
            "BS-00002",
            "BS-00001",
        ]
        assert ids(http.get("/invoices", params={"sort": "id"})) == ALL_INVOICES[::-1]


# ---------------------------------------------------------------- single records and 404


def test_single_record_is_returned_as_the_bare_object(client: httpx.Client) -> None:
    stored = next(c for c in tiny_tenant()["customers"] if c["id"] == "C-00002")
    response = client.get("/customers/C-00002")
    assert response.status_code == 200
    assert response.json() == stored
    assert response.json()["name"] == "Zürich Bücher GmbH"


def test_chart_of_accounts_is_keyed_by_code(client: httpx.Client) -> None:
    assert client.get("/chart_of_accounts/2000").json()["name"] == "Deferred Revenue"


@pytest.mark.parametrize(
    ("path", "source"),
    [
        ("/invoices/INV-09999", "invoices"),
        ("/quotes", "quotes"),
        ("/webhooks/W-1", "webhooks"),
        ("/customers/C-09999/payment_methods", "customers"),
    ],
)
def test_unknown_collection_or_id_is_404_with_the_errors_envelope(
    client: httpx.Client, path: str, source: str
) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert response.json() == {
        "errors": {"status": 404, "source": source, "details": "Record not found"}
    }


def test_customer_payment_methods_and_notes(client: httpx.Client) -> None:
    assert ids(client.get("/customers/C-00001/payment_methods")) == ["PM-00002", "PM-00001"]
    assert ids(client.get("/customers/C-00003/payment_methods")) == []
    assert ids(client.get("/customers/C-00001/customer_notes")) == ["CN-00001"]  # number 1
    assert ids(client.get("/customers/C-00003/customer_notes")) == []


def test_one_rules_entry_gives_a_collection_its_key_field_or_a_customer_sub_resource(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # webhooks are keyed by name (ordway-api.md §10); customer_files is a made-up sub-resource.
    monkeypatch.setitem(COLLECTION_RULES, "webhooks", CollectionRules(key="name"))
    files = CollectionRules(parent=Parent("customers", "customer_id"))
    monkeypatch.setitem(COLLECTION_RULES, "customer_files", files)
    tenant = {
        "customers": [{"id": "C-1"}, {"id": "C-2"}],
        "webhooks": [{"name": "invoice-sync", "url": "https://hooks.invalid/a"}],
        "customer_files": [
            {"id": "F-1", "customer_id": "C-2"},
            {"id": "F-2", "customer_id": "C-1"},
            {"id": "F-3", "customer_id": "C-2"},
        ],
    }
    with SandboxThread(tenant=tenant) as process, process.client() as http:
        assert http.get("/webhooks/invoice-sync").json()["url"] == "https://hooks.invalid/a"
        assert ids(http.get("/webhooks"), "name") == ["invoice-sync"]
        assert ids(http.get("/customers/C-2/customer_files")) == ["F-3", "F-1"]
        assert ids(http.get("/customers/C-2/customer_files", params={"sort": "id"})) == [
            "F-1",
            "F-3",
        ]
        assert http.get("/customers/C-9/customer_files").status_code == 404
        assert http.get("/customers/C-1/webhooks").status_code == 404  # not a sub-resource


def test_the_rules_of_the_collections_issue_14_added() -> None:
    """Webhooks keyed by name; statements ignore sort (§5.3.3); a customer's notes carry its
    internal number (§11.4); sub-resource requests count as their collection; a sub-resource's
    module can be unavailable on its own."""
    tenant = {
        "customers": [{"id": "C-00001"}, {"id": "C-00012"}, {"id": "ACME"}],
        "webhooks": [{"name": "Finance", "url": "https://hooks.invalid/f"}],
        "statements": [
            {"id": "STM-00001", "updated_date": "2024-01-02T00:00:00.000Z"},
            {"id": "STM-00002", "updated_date": "2024-01-01T00:00:00.000Z"},
        ],
        "customer_notes": [
            {"id": "CN-1", "customer_id": 12},
            {"id": "CN-2", "customer_id": 1},
            {"id": "CN-3", "customer_id": 12},
        ],
        "payment_methods": [{"id": "PM-1", "customer_id": "C-00012"}],
    }
    with SandboxThread(tenant=tenant) as process, process.client() as http:
        assert http.get("/webhooks/Finance").json()["url"] == "https://hooks.invalid/f"
        by_date = {"sort": "updated_date,statement_id"}
        assert ids(http.get("/statements", params=by_date)) == ["STM-00002", "STM-00001"]
        assert ids(http.get("/customers/C-00012/customer_notes")) == ["CN-3", "CN-1"]
        assert ids(http.get("/customers/C-00001/customer_notes")) == ["CN-2"]
        assert ids(http.get("/customers/ACME/customer_notes")) == []  # no number, no notes
        process.reset_stats()
        assert ids(http.get("/customers/C-00012/payment_methods")) == ["PM-1"]
        http.get("/customers/C-00012/payment_methods", params={"page": 2})
        assert process.stats()["requests"] == {"payment_methods": 2}
        process.set_options({"unavailable": "payment_methods:403"})
        forbidden = http.get("/customers/C-00012/payment_methods")
        assert forbidden.status_code == 403
        assert forbidden.json()["errors"]["source"] == "payment_methods"
        assert ids(http.get("/customers/C-00012/customer_notes")) == ["CN-3", "CN-1"]
        assert http.get("/customers/C-00012").status_code == 200


def test_responses_are_utf8_json_with_a_request_id(client: httpx.Client) -> None:
    for response in (client.get("/invoices"), client.get("/invoices/nope")):
        assert response.headers["content-type"] == "application/json; charset=utf-8"
        assert response.headers["x-request-id"]
    first, second = client.get("/invoices"), client.get("/invoices")
    assert first.headers["x-request-id"] != second.headers["x-request-id"]


# ---------------------------------------------------------------- auth


@pytest.mark.parametrize("header", ["X-API-KEY", "X-User-Company", "X-User-Email", "X-User-Token"])
def test_each_missing_or_wrong_auth_header_gives_401(sandbox: SandboxThread, header: str) -> None:
    missing = {k: v for k, v in sandbox.headers.items() if k != header}
    wrong = {**sandbox.headers, header: sandbox.headers[header] + "x"}
    for headers in (missing, wrong):
        response = httpx.get(sandbox.base_url + "/invoices", headers=headers)
        assert response.status_code == 401
        assert response.text == BODY_401
        assert response.headers["content-type"] == "application/json; charset=utf-8"


def test_auth_header_names_are_case_insensitive(sandbox: SandboxThread) -> None:
    headers = {k.lower(): v for k, v in sandbox.headers.items()}
    assert httpx.get(sandbox.base_url + "/invoices", headers=headers).status_code == 200


def test_credentials_come_from_the_environment_and_are_never_echoed() -> None:
    secret = {"ORDWAY_API_KEY": "sk-live-5ecret-key", "ORDWAY_USER_TOKEN": "tok-5ecret-token"}
    with SandboxThread(tenant=TINY, env=secret) as process:
        demo = httpx.get(
            process.base_url + "/invoices",
            headers=process.headers | {"X-API-KEY": credentials_env()["ORDWAY_API_KEY"]},
        )
        assert demo.status_code == 401
        good = httpx.get(process.base_url + "/invoices/INV-00001", headers=process.headers)
        assert good.status_code == 200
        bad = httpx.get(
            process.base_url + "/invoices", headers=process.headers | {"X-User-Token": "guess"}
        )
        exposed = [bad.text, str(bad.headers), json.dumps(process.stats())]
    exposed.append(process.stderr())
    for text in exposed:
        for value in (*secret.values(), "guess"):
            assert value not in text


def test_demo_credentials_are_used_when_the_environment_has_none() -> None:
    blank = dict.fromkeys(credentials_env(), "")
    with SandboxThread(tenant=TINY, env=blank) as process:
        demo = {
            "X-API-KEY": "demo-api-key",
            "X-User-Company": "Demo Company",
            "X-User-Email": "demo@example.com",
            "X-User-Token": "demo-user-token",
        }
        assert httpx.get(process.base_url + "/invoices", headers=demo).status_code == 200
        assert "ORDWAY_API_KEY" in process.stderr()


def test_admin_api_needs_no_auth(sandbox: SandboxThread) -> None:
    response = httpx.get(sandbox.admin_url + "/health")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


# ---------------------------------------------------------------- changes


def test_delete_removes_the_record_from_lists_and_single_gets() -> None:
    with SandboxThread(tenant=TINY) as process, process.client() as http:
        assert ids(http.get("/invoices", params={"sort": "id"}))[:3] == ALL_INVOICES[:3]
        response = http.delete("/invoices/INV-00002")
        assert response.status_code == 204
        assert http.get("/invoices/INV-00002").status_code == 404
        expected = [i for i in ALL_INVOICES if i != "INV-00002"]
        assert ids(http.get("/invoices", params={"sort": "id"})) == expected
        assert http.delete("/invoices/INV-00002").status_code == 404
        assert [r["id"] for r in process.get_tenant()["invoices"]] == expected


def test_put_tenant_replaces_everything_and_get_tenant_returns_it() -> None:
    with SandboxThread(tenant=TINY) as process, process.client() as http:
        original = process.get_tenant()
        assert original == tiny_tenant()
        replacement = {"_sandbox": {"note": "v2"}, "invoices": [{"id": "INV-00042"}]}
        assert process.put_tenant(replacement) == {"records": 1}
        assert ids(http.get("/invoices")) == ["INV-00042"]
        assert http.get("/customers").status_code == 404
        assert process.get_tenant() == replacement
        assert process.health()["records"] == 1


def test_put_tenant_rejects_records_without_their_key() -> None:
    with SandboxThread(tenant=TINY) as process:
        response = httpx.put(
            process.admin_url + "/tenant", json={"chart_of_accounts": [{"id": "1000"}]}
        )
        assert response.status_code == 400
        assert "chart_of_accounts[0]" in response.json()["errors"]["details"]["message"]


def test_advance_is_refused_for_a_tenant_served_from_a_file(sandbox: SandboxThread) -> None:
    response = httpx.post(sandbox.admin_url + "/advance", params={"days": 1})
    assert response.status_code == 409
    assert "generated tenant" in response.json()["errors"]["details"]


def test_wrap_usages_returns_the_page_under_the_collection_name_with_the_total() -> None:
    with SandboxThread(["--wrap-usages"], tenant=TINY) as process, process.client() as http:
        body = http.get("/usages", params={"size": 2}).json()
        assert body == {
            "usages": [
                tiny_tenant()["usages"][2],
                tiny_tenant()["usages"][1],
            ],
            "total": 3,
        }
        assert http.get("/usages", params={"page": 9}).json() == {"usages": [], "total": 3}
        assert isinstance(http.get("/invoices").json(), list)


def test_options_can_be_changed_at_runtime() -> None:
    with SandboxThread(tenant=TINY) as process, process.client() as http:
        assert isinstance(http.get("/usages").json(), list)
        process.set_options({"wrap_usages": True, "ignore_sort": []})
        assert http.get("/usages").json()["total"] == 3
        bs = http.get("/billing_schedules", params={"sort": "id desc"})
        assert ids(bs) == ["BS-00003", "BS-00002", "BS-00001"]
        process.set_options({})
        assert isinstance(http.get("/usages").json(), list)


# ---------------------------------------------------------------- stats and determinism


def test_stats_count_api_requests_per_collection_and_status() -> None:
    with SandboxThread(tenant=TINY) as process, process.client() as http:
        http.get("/invoices", params={"page": 2})
        http.get("/invoices/INV-00001")
        http.get("/invoices/INV-09999")
        httpx.get(process.base_url + "/customers")
        process.health()
        stats = process.stats()
        assert stats["requests"] == {"invoices": 3, "customers": 1}
        assert stats["statuses"] == {"200": 2, "404": 1, "401": 1}
        assert stats["log"][0] == {
            "method": "GET",
            "path": "/api/v1/invoices",
            "query": "page=2",
            "status": 200,
        }
        assert [e["status"] for e in stats["log"]] == [200, 200, 404, 401]
        process.reset_stats()
        assert process.stats() == {"requests": {}, "statuses": {}, "log": []}


def test_served_bytes_are_identical_across_servers_and_requests(client: httpx.Client) -> None:
    paths = [
        "/invoices?sort=updated_date,id&size=2&page=2",
        "/customers/C-00002",
        "/invoices?updated_date%3E=2024-03-05",
    ]
    first = [client.get(p).content for p in paths]
    with SandboxThread(tenant=TINY) as other, other.client() as http:
        second = [http.get(p).content for p in paths]
    assert first == second
    assert first == [client.get(p).content for p in paths]
    assert first[1] == json.dumps(
        next(c for c in tiny_tenant()["customers"] if c["id"] == "C-00002"),
        separators=(",", ":"),
        ensure_ascii=False,
    ).encode("utf-8")
