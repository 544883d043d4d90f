"""Reporting currency through `dbt build` (tests/dbt_project/shaped_tenants.py::multi_currency):

- a document in another currency without an exchange rate fails the build on a named test
  that lists the document (type, id, currency), and no reporting-currency total is built
  without it;
- a reporting_currency that the documents' exchange rates do not convert into is refused
  before anything is built, naming both currencies; correct setups are accepted.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from tests.dbt_project import shaped_tenants
from tests.dbt_project.examples_tenant import AS_OF as EXAMPLES_AS_OF
from tests.dbt_project.examples_tenant import build_examples_tenant
from tests.dbt_project.raw_loader import load_tenant
from tests.support.dbt import PROJECT_DIR, assert_build_passed, query, run_dbt

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("dbt_reporting_currency")]

AS_OF = shaped_tenants.AS_OF
D = Decimal


def _load(workdir: Path, tenant: dict) -> Path:
    duckdb_path = workdir / "ordway.duckdb"
    load_tenant(tenant, duckdb_path, workdir / "dlt")
    return duckdb_path


@pytest.mark.parametrize(
    ("missing", "failing_test", "expected_row", "unbuilt"),
    [
        (
            "invoice",
            "invoices_in_other_currencies_carry_an_exchange_rate",
            ("invoice", "INV-EUR-2026-05", None, "EUR", None, "USD"),
            ("fct_invoice_lines", "fct_deferred_revenue", "int_invoice_lines_billed"),
        ),
        (
            "revenue line",
            "revenue_schedule_lines_in_other_currencies_carry_an_exchange_rate",
            ("revenue schedule line", "RS-EUR-2026-05", "May 2026", "EUR", None, "USD"),
            ("fct_revenue_monthly", "fct_deferred_revenue", "int_revenue_schedule_lines_dated"),
        ),
        (
            "subscription",
            "subscriptions_in_other_currencies_carry_an_exchange_rate",
            ("subscription", "S-EUR", None, "EUR", None, "USD"),
            ("fct_mrr", "fct_arr_movements", "int_mrr_lines_monthly"),
        ),
    ],
)
def test_a_foreign_document_without_exchange_rate_fails_the_build_naming_it(
    tmp_path: Path,
    missing: str,
    failing_test: str,
    expected_row: tuple,
    unbuilt: tuple[str, ...],
) -> None:
    duckdb_path = _load(tmp_path, shaped_tenants.multi_currency(missing_rate=missing))
    run = run_dbt("build", duckdb_path, tmp_path, AS_OF)
    assert run.returncode == 1
    failures = run.failures()
    assert any(failing_test in failure and "fail" in failure for failure in failures), failures
    assert f'"staging"."{failing_test}"' in run.output  # "See test failures: select * from ..."
    stored = query(duckdb_path, f"select * from staging.{failing_test}")
    assert stored == [expected_row]
    statuses = {r["unique_id"].split(".")[-1]: r["status"] for r in run.results}
    assert {statuses[model] for model in unbuilt} == {"skipped"}
    built = {
        table
        for (table,) in query(
            duckdb_path,
            "select table_name from information_schema.tables where table_schema = 'marts'",
        )
    }
    assert not built & set(unbuilt)


def test_a_reporting_currency_document_without_a_rate_converts_at_one(tmp_path: Path) -> None:
    duckdb_path = _load(tmp_path, shaped_tenants.multi_currency(usd_rate=None))
    run = run_dbt("build", duckdb_path, tmp_path, AS_OF)
    assert_build_passed(run)
    assert query(
        duckdb_path,
        "select customer_id, sum(recognized_revenue), sum(recognized_revenue_reporting) "
        "from marts.fct_revenue_monthly group by 1 order by 1",
    ) == [("C-EUR", D("600.00"), D("660.00")), ("C-USD", D("300.00"), D("300.00"))]
    assert query(
        duckdb_path,
        "select customer_id, mrr from marts.fct_mrr where month = '2026-06-01' order by 1",
    ) == [("C-EUR", D("220")), ("C-USD", D("100"))]


def _marts(duckdb_path: Path) -> dict[str, list[tuple]]:
    tables = [
        table
        for (table,) in query(
            duckdb_path,
            "select table_name from information_schema.tables where table_schema = 'marts' "
            "order by 1",
        )
    ]
    return {
        table: sorted(query(duckdb_path, f"select * from marts.{table}"), key=repr)
        for table in tables
    }


def test_a_reporting_currency_the_rates_do_not_convert_into_is_refused_before_anything_is_built(
    tmp_path: Path,
) -> None:
    duckdb_path = _load(tmp_path, build_examples_tenant())
    first = run_dbt("build", duckdb_path, tmp_path, EXAMPLES_AS_OF)
    assert_build_passed(first)
    with duckdb.connect(str(duckdb_path)) as connection:  # markers a rebuild would drop
        connection.execute("insert into marts.fct_payments (payment_id) values ('MARKER')")
        connection.execute(
            "insert into intermediate.int_deferred_revenue_activity (customer_id) values ('MARKER')"
        )
    before = _marts(duckdb_path)
    marts = {path.stem for path in (PROJECT_DIR / "models" / "marts").rglob("*.sql")}
    assert set(before) == marts and before["fct_mrr"]
    (tmp_path / "dbt" / "target" / "run_results.json").unlink()

    refused = run_dbt(
        "build", duckdb_path, tmp_path, EXAMPLES_AS_OF, dbt_vars={"reporting_currency": "EUR"}
    )
    assert refused.returncode != 0
    assert (
        "reporting_currency EUR is not the company's base currency USD: Ordway's exchange_rate "
        "converts documents into USD" in refused.output
    )
    assert "set REPORTING_CURRENCY=USD" in refused.output
    assert [r for r in refused.results if r["unique_id"].startswith(("model.", "test."))] == []
    assert _marts(duckdb_path) == before
    assert query(
        duckdb_path,
        "select count(*) from intermediate.int_deferred_revenue_activity "
        "where customer_id = 'MARKER'",
    ) == [(1,)]


def test_a_reporting_currency_whose_documents_carry_other_rates_is_refused_naming_the_base(
    tmp_path: Path,
) -> None:
    duckdb_path = _load(tmp_path, shaped_tenants.multi_currency())
    refused = run_dbt(
        "run",
        duckdb_path,
        tmp_path,
        AS_OF,
        "--select",
        "stg_ordway__customers",
        dbt_vars={"reporting_currency": "EUR"},
    )
    assert refused.returncode != 0
    assert "reporting_currency EUR is not the company's base currency USD" in refused.output
    assert "EUR documents carry other rates, e.g. invoice INV-EUR-2026-04 at 1.1" in refused.output
    assert query(
        duckdb_path,
        "select count(*) from information_schema.tables where table_schema = 'staging'",
    ) == [(0,)]


@pytest.mark.parametrize(
    ("tenant", "currency", "extra_vars"),
    [
        pytest.param(shaped_tenants.multi_currency(), "USD", {}, id="usd-base-with-eur"),
        pytest.param({}, "EUR", {}, id="empty-tenant"),
        pytest.param(
            shaped_tenants.multi_currency(eur_rate=1.0, usd_rate=1.0),
            "USD",
            {},
            id="two-currencies-both-at-one",
        ),
        pytest.param(
            shaped_tenants.multi_currency(extra_customers=(("C-BMD", "BMD", 1.0),)),
            "USD",
            {},
            id="a-currency-pegged-at-one-beside-the-base",
        ),
        pytest.param(
            {
                "customers": shaped_tenants.multi_currency()["customers"],
                "invoices": [
                    i for i in shaped_tenants.multi_currency()["invoices"] if i["currency"] == "EUR"
                ],
            },
            "USD",
            {},
            id="usd-base-billing-only-in-eur",
        ),
        pytest.param(
            {
                "customers": shaped_tenants.multi_currency()["customers"],
                "invoices": [
                    {**i, "exchange_rate": 1.0}
                    for i in shaped_tenants.multi_currency()["invoices"]
                    if i["currency"] == "EUR"
                ],
            },
            "EUR",
            {},
            id="eur-company-with-only-eur-documents",
        ),
        pytest.param(
            {
                "customers": shaped_tenants.multi_currency()["customers"],
                "invoices": [
                    {**i, "currency": "BMD"}
                    for i in shaped_tenants.multi_currency()["invoices"]
                    if i["currency"] == "USD"
                ],
            },
            "USD",
            {"check_reporting_currency": False},
            id="only-a-pegged-currency-with-the-check-switched-off",
        ),
    ],
)
def test_a_reporting_currency_the_documents_do_not_contradict_is_accepted(
    tmp_path: Path, tenant: dict, currency: str, extra_vars: dict
) -> None:
    duckdb_path = _load(tmp_path, tenant) if tenant else tmp_path / "ordway.duckdb"
    run = run_dbt(
        "run",
        duckdb_path,
        tmp_path,
        AS_OF,
        "--select",
        "stg_ordway__customers",
        dbt_vars={"reporting_currency": currency, **extra_vars},
    )
    assert run.returncode == 0, run.output[-3000:]
    models = [r["status"] for r in run.results if r["unique_id"].startswith("model.")]
    assert models == ["success"]


def test_only_a_pegged_currency_is_refused_while_the_check_is_on(tmp_path: Path) -> None:
    tenant = {
        "customers": shaped_tenants.multi_currency()["customers"],
        "invoices": [
            {**i, "currency": "BMD"}
            for i in shaped_tenants.multi_currency()["invoices"]
            if i["currency"] == "USD"
        ],
    }
    duckdb_path = _load(tmp_path, tenant)
    run = run_dbt("run", duckdb_path, tmp_path, AS_OF, "--select", "stg_ordway__customers")
    assert run.returncode != 0
    assert "reporting_currency USD is not the company's base currency BMD" in run.output
    assert "set var check_reporting_currency: false" in run.output
