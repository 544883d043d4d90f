"""Collections the account's plan does not include: ``--unavailable COLLECTION:STATUS`` (and the
``unavailable`` option at runtime) make every GET on them answer 403 or 404."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from ordway_sandbox.process import SandboxError, SandboxThread
from ordway_sandbox.server import ServeOptions, SettingsError

TINY = Path(__file__).resolve().parents[1] / "fixtures" / "tiny_tenant.json"
FORBIDDEN = {"errors": {"status": 403, "source": "usages", "details": "Forbidden"}}
NOT_FOUND = {"errors": {"status": 404, "source": "invoices", "details": "Record not found"}}


def test_unavailable_collections_answer_their_status_on_every_get_and_the_rest_is_served() -> None:
    args = ["--unavailable", "usages:403,invoices:404"]
    with SandboxThread(args, tenant=TINY) as process, process.client() as http:
        for path, params in [("/usages", {}), ("/usages", {"page": 2}), ("/usages/U-00001", {})]:
            response = http.get(path, params=params)
            assert (response.status_code, response.json()) == (403, FORBIDDEN), path
        for path in ("/invoices", "/invoices/INV-00001"):
            response = http.get(path)
            assert (response.status_code, response.json()) == (404, NOT_FOUND), path
        assert http.get("/payments").status_code == 200
        assert len(http.get("/customers").json()) == 3
        # authentication is still checked first
        bad = httpx.get(f"{process.base_url}/usages", headers={"X-API-KEY": "wrong"})
        assert bad.status_code == 401


def test_the_unavailable_option_can_be_set_and_cleared_at_runtime() -> None:
    with SandboxThread(tenant=TINY) as process, process.client() as http:
        assert http.get("/customers").status_code == 200
        shown = process.set_options({"unavailable": {"customers": 403}})
        assert shown["unavailable"] == {"customers": 403}
        assert http.get("/customers").status_code == 403
        assert http.get("/customers/C-00001/payment_methods").status_code == 403
        process.set_options({})
        assert http.get("/customers").status_code == 200


@pytest.mark.parametrize("spec", ["usages:500", "usages", ":403", "usages:forbidden"])
def test_an_unavailable_spec_that_is_not_collection_and_403_or_404_is_refused(spec: str) -> None:
    with pytest.raises(SettingsError):
        ServeOptions.from_mapping({"unavailable": spec})


def test_a_bad_unavailable_flag_stops_the_server_with_a_message() -> None:
    with pytest.raises(SandboxError, match="403 or 404"):
        SandboxThread(["--unavailable", "usages:500"], tenant=TINY).start()


def test_a_collection_missing_from_the_tenant_document_already_answers_404() -> None:
    with SandboxThread(tenant=TINY) as process, process.client() as http:
        tenant = process.get_tenant()
        del tenant["journal_entries"]
        process.put_tenant(tenant)
        response = http.get("/journal_entries")
        assert response.status_code == 404
        assert response.json()["errors"]["source"] == "journal_entries"


def test_an_error403_fault_answers_403_on_its_page_only_and_count_times() -> None:
    args = ["--fault", "error403:invoices:2"]
    with SandboxThread(args, tenant=TINY) as process, process.client() as http:
        assert http.get("/invoices", params={"size": 2}).status_code == 200
        second = http.get("/invoices", params={"size": 2, "page": 2})
        assert second.status_code == 403
        assert second.json()["errors"] == {
            "status": 403,
            "source": "invoices",
            "details": "Forbidden",
        }
        assert http.get("/invoices", params={"size": 2, "page": 2}).status_code == 200
