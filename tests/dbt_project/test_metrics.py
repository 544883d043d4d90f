"""The semantic layer answers with the marts' numbers: every metric, queried with MetricFlow's own
CLI (`mf query`, as a user or a BI integration would), equals the marts it is defined on.

One sandbox tenant (60 customers, three years of history: every movement class, churn,
reactivation, 12-month cohorts, several currencies) is loaded with the dlt source and built with
`dbt build` in a copy of the dbt project (MetricFlow reads `target/semantic_manifest.json` from the
project directory). The oracles are the marts' rows added up in Python with Decimal, never SQL:
money must be equal to the last decimal, counts exactly, and ratios exactly equal to IEEE-754
division of the exact decimals (what MetricFlow's ratio metrics compute), with the marts' own
ratio columns equal to the exact Decimal quotient rounded half up to 10 decimals.
"""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import subprocess
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from ordway_sandbox.process import SandboxProcess, credentials_env
from pipelines.config import OrdwaySettings
from pipelines.ordway.pipeline import make_pipeline, run_extract
from pipelines.publish import publish_duckdb, wal_path
from tests.support.dbt import DBT, PROJECT_DIR

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("dbt_metrics")]

CUSTOMERS = 60
SEED = 7
AS_OF = date(2026, 6, 30)
MF = DBT.with_name("mf")
#: The written rule for cash (dbt var collected_payment_statuses), typed here independently.
COLLECTED_STATUSES = {"Processed", "Partially refunded", "Refunded"}
TEN_DECIMALS = Decimal("1e-10")

Row = dict[str, Any]


@dataclass
class SemanticLayer:
    """A built warehouse and the copy of the dbt project MetricFlow queries it through."""

    project: Path
    duckdb_path: Path
    env: dict[str, str]

    def mf(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(MF), *args],
            cwd=self.project,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )

    def sql(self, metrics: Iterable[str], group_by: Iterable[str] = ()) -> str:
        """The SQL MetricFlow generates for a metric query (`mf query --explain --quiet`)."""
        args = ["query", "--metrics", ",".join(metrics), "--explain", "--quiet"]
        if group_by:
            args += ["--group-by", ",".join(group_by)]
        completed = self.mf(*args)
        assert completed.returncode == 0, completed.stdout + completed.stderr
        assert completed.stdout.lstrip().upper().startswith(("SELECT", "WITH")), completed.stdout
        return completed.stdout

    def query(self, metrics: Iterable[str], group_by: Iterable[str] = ()) -> list[Row]:
        """A metric query's exact rows: MetricFlow's SQL run on the warehouse (what a BI tool
        running the semantic layer's SQL gets; `mf query` prints the same rows as doubles)."""
        rows = self.marts(self.sql(metrics, group_by))
        return [{k: v.date() if isinstance(v, datetime) else v for k, v in r.items()} for r in rows]

    def cli(self, metrics: Iterable[str], group_by: Iterable[str] = (), *extra: str) -> list[Row]:
        """What `mf query ... --csv` writes (MetricFlow hands numbers over as doubles)."""
        out = self.project / "query.csv"
        out.unlink(missing_ok=True)
        args = ["query", "--metrics", ",".join(metrics), "--csv", str(out), *extra]
        if group_by:
            args += ["--group-by", ",".join(group_by)]
        completed = self.mf(*args)
        assert completed.returncode == 0 and out.exists(), completed.stdout + completed.stderr
        with out.open(newline="") as handle:
            return [{k: _value(k, v) for k, v in row.items()} for row in csv.DictReader(handle)]

    def marts(self, sql: str) -> list[Row]:
        """Rows of a query on the warehouse (read-only, closed before the next `mf` call)."""
        import duckdb

        with duckdb.connect(str(self.duckdb_path), read_only=True) as connection:
            cursor = connection.execute(sql)
            names = [d[0] for d in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _value(column: str, text: str) -> Any:
    if text == "":
        return None
    if column.startswith("metric_time") or column.endswith("_date"):
        return date.fromisoformat(text[:10])
    if re.fullmatch(r"-?\d+(\.\d+)?([eE][-+]?\d+)?", text):
        return Decimal(text)
    return text


@pytest.fixture(scope="module")
def layer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SemanticLayer]:
    workdir = tmp_path_factory.mktemp("dbt_metrics")
    duckdb_path = workdir / "ordway.duckdb"
    args = ["--customers", str(CUSTOMERS), "--seed", str(SEED), "--as-of", AS_OF.isoformat()]
    with SandboxProcess(args) as sandbox:
        settings = OrdwaySettings.from_env(
            {
                **credentials_env(),
                "ORDWAY_BASE_URL": sandbox.base_url,
                "ORDWAY_MAX_RPS": "0",
                "DUCKDB_PATH": str(duckdb_path),
                "DLT_PIPELINES_DIR": str(workdir / "dlt"),
            }
        )
        run_extract(settings, "full", pipeline=make_pipeline(settings))
    project = workdir / "dbt_project"
    shutil.copytree(
        PROJECT_DIR, project, ignore=shutil.ignore_patterns("target", "logs", "dbt_packages")
    )
    env = {
        **os.environ,
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DBT_PROFILES_DIR": str(project),
        "DBT_TARGET": "duckdb",
        "DUCKDB_PATH": str(duckdb_path),
    }
    build = subprocess.run(
        [str(DBT), "build", "--vars", json.dumps({"as_of_date": AS_OF.isoformat()})],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert build.returncode == 0, build.stdout[-4000:]
    yield SemanticLayer(project, duckdb_path, env)


@pytest.fixture(scope="module")
def monthly(layer: SemanticLayer) -> dict[date, Row]:
    """Every metric that is reported per month, in one query, keyed by month."""
    rows = layer.query(MONTHLY_METRICS, ["metric_time__month"])
    return {row["metric_time__month"]: row for row in rows}


MONTHLY_METRICS = [
    "mrr",
    "arr",
    "gross_mrr",
    "discount_mrr",
    "opening_arr",
    "new_arr",
    "expansion_arr",
    "contraction_arr",
    "churn_arr",
    "reactivation_arr",
    "net_new_arr",
    "active_customers",
    "opening_customers",
    "new_customers",
    "churned_customers",
    "reactivated_customers",
    "logo_churn_rate",
    "cohort_arr",
    "cohort_arr_now",
    "cohort_arr_kept",
    "nrr",
    "grr",
    "recognized_revenue",
]
BY_CURRENCY_METRICS = ("billings", "deferred_revenue", "unbilled_revenue")
#: The cash metrics and the fct_cash_monthly column each one sums.
CASH_METRICS = {
    "payments_refunded": "payments_refunded",
    "payments_applied": "payments_applied",
    "credits_issued": "credits_issued",
    "credits_applied": "credits_applied",
    "failed_payment_attempts": "failed_payment_attempts",
    "failed_payment_amount": "failed_payment_amount",
}
TESTED_METRICS = {
    *MONTHLY_METRICS,
    *BY_CURRENCY_METRICS,
    *CASH_METRICS,
    "cash_collected",
    "open_ar",
}


def sums(rows: Iterable[Row], key: Iterable[str], value: str) -> dict[Any, Decimal]:
    """Decimal sum of `value` per `key` columns (a tuple key, or the value for one column)."""
    key = tuple(key)
    totals: dict[Any, Decimal] = defaultdict(Decimal)
    for row in rows:
        k = tuple(row[c] for c in key)
        totals[k[0] if len(k) == 1 else k] += Decimal(row[value])
    return dict(totals)


def ratio(numerator: Decimal, denominator: Decimal) -> float | None:
    """What a MetricFlow ratio metric computes: both sides as IEEE doubles, then divided."""
    return None if denominator == 0 else float(numerator) / float(denominator)


def half_up(numerator: Decimal, denominator: Decimal) -> Decimal | None:
    if denominator == 0:
        return None
    return (Decimal(numerator) / Decimal(denominator)).quantize(TEN_DECIMALS, ROUND_HALF_UP)


def test_every_metric_in_the_semantic_manifest_is_compared_with_the_marts(
    layer: SemanticLayer,
) -> None:
    manifest = json.loads((layer.project / "target" / "semantic_manifest.json").read_text())
    defined = {metric["name"] for metric in manifest["metrics"]}
    assert defined - TESTED_METRICS == set(), "metrics without a comparison with the marts"
    assert TESTED_METRICS - defined == set()
    spines = [
        spine["node_relation"]["alias"]
        for spine in manifest["project_configuration"]["time_spines"]
    ]
    assert spines == ["dim_dates"]


def test_mrr_and_arr_per_month_equal_the_sum_of_fct_mrr(
    layer: SemanticLayer, monthly: dict[date, Row]
) -> None:
    mrr = layer.marts("select month, mrr, arr, gross_mrr, discount_mrr from marts.fct_mrr")
    months = {row["month"] for row in mrr}
    assert len(months) >= 30 and set(monthly) >= months
    for column in ("mrr", "arr", "gross_mrr", "discount_mrr"):
        expected = sums(mrr, ["month"], column)
        assert {m: monthly[m][column] for m in months} == expected, column
        assert all(monthly[m][column] is None for m in set(monthly) - months), column
    latest = max(months)
    assert monthly[latest]["arr"] == 12 * monthly[latest]["mrr"] > 0


def test_arr_movements_per_month_equal_fct_arr_movements_and_bridge_opening_to_arr(
    layer: SemanticLayer, monthly: dict[date, Row]
) -> None:
    bridge = {row["month"]: row for row in layer.marts("select * from marts.fct_arr_movements")}
    assert len(bridge) >= 30 and set(monthly) >= set(bridge)
    movements = ("new_arr", "expansion_arr", "contraction_arr", "churn_arr", "reactivation_arr")
    seen = defaultdict(int)
    for month, mart in bridge.items():
        metric = monthly[month]
        for column in ("opening_arr", *movements):
            assert metric[column] == mart[column], (month, column)
            seen[column] += metric[column] != 0
        assert metric["net_new_arr"] == sum((mart[c] for c in movements), Decimal(0))
        assert metric["opening_arr"] + metric["net_new_arr"] == metric["arr"] == mart["closing_arr"]
    assert all(seen[column] for column in movements), seen  # every class occurs in this tenant


def test_customer_counts_and_logo_churn_per_month_equal_fct_arr_movements(
    layer: SemanticLayer, monthly: dict[date, Row]
) -> None:
    counts = ("active_customers", "opening_customers", "new_customers", "churned_customers")
    churned_months = 0
    previous_active = 0
    for mart in layer.marts("select * from marts.fct_arr_movements order by month"):
        metric = monthly[mart["month"]]
        for column in (*counts, "reactivated_customers"):
            assert metric[column] == mart[column], (mart["month"], column)
        assert mart["opening_customers"] == previous_active  # the previous month-end's actives
        previous_active = mart["active_customers"]
        churned, opening = Decimal(mart["churned_customers"]), Decimal(mart["opening_customers"])
        expected = ratio(churned, opening)
        assert (
            None if metric["logo_churn_rate"] is None else float(metric["logo_churn_rate"])
        ) == (expected), mart["month"]
        assert mart["logo_churn_rate"] == half_up(churned, opening)
        churned_months += churned > 0
    assert churned_months >= 3


def test_nrr_and_grr_per_month_equal_the_cohorts_of_fct_retention(
    layer: SemanticLayer, monthly: dict[date, Row]
) -> None:
    cohorts = layer.marts("select * from marts.fct_retention order by month")
    assert sum(row["cohort_arr"] > 0 for row in cohorts) >= 12
    for mart in cohorts:
        metric = monthly[mart["month"]]
        for column in ("cohort_arr", "cohort_arr_now", "cohort_arr_kept"):
            assert metric[column] == mart[column], (mart["month"], column)
        for name, numerator in (("nrr", "cohort_arr_now"), ("grr", "cohort_arr_kept")):
            value = None if metric[name] is None else float(metric[name])
            assert value == ratio(mart[numerator], mart["cohort_arr"]), (mart["month"], name)
            assert mart[name] == half_up(mart[numerator], mart["cohort_arr"]), (mart["month"], name)


def test_recognized_revenue_per_month_equals_fct_revenue_monthly_in_reporting_currency(
    layer: SemanticLayer, monthly: dict[date, Row]
) -> None:
    revenue = sums(
        layer.marts("select month, recognized_revenue_reporting from marts.fct_revenue_monthly"),
        ["month"],
        "recognized_revenue_reporting",
    )
    assert len(revenue) >= 30
    assert {m: r["recognized_revenue"] for m, r in monthly.items() if m in revenue} == revenue
    assert all(monthly[m]["recognized_revenue"] is None for m in set(monthly) - set(revenue))


def test_billings_deferred_and_unbilled_revenue_per_month_and_currency_equal_the_roll_forward(
    layer: SemanticLayer,
) -> None:
    rows = layer.query(
        BY_CURRENCY_METRICS, ["metric_time__month", "deferred_revenue_row__currency"]
    )
    actual = {(r["metric_time__month"], r["deferred_revenue_row__currency"]): r for r in rows}
    mart = layer.marts("select * from marts.fct_deferred_revenue")
    key = ("month", "currency")
    assert len({row["currency"] for row in mart}) >= 3
    for metric, column in (
        ("billings", "billings"),
        ("deferred_revenue", "closing_deferred"),
        ("unbilled_revenue", "closing_unbilled"),
    ):
        expected = sums(mart, key, column)
        assert {k: actual[k][metric] for k in expected} == expected, metric
    assert set(actual) == set(sums(mart, key, "billings"))


def test_cash_collected_per_month_and_currency_is_the_payments_received(
    layer: SemanticLayer,
) -> None:
    rows = layer.query(["cash_collected"], ["metric_time__month", "payment__currency"])
    actual = {(r["metric_time__month"], r["payment__currency"]): r["cash_collected"] for r in rows}
    payments = layer.marts(
        "select payment_month, currency, payment_status, payment_amount from marts.fct_payments"
    )
    statuses = {row["payment_status"] for row in payments}
    assert "Failed" in statuses and statuses & COLLECTED_STATUSES
    received = [row for row in payments if row["payment_status"] in COLLECTED_STATUSES]
    assert actual == sums(received, ("payment_month", "currency"), "payment_amount")


def test_cash_metrics_per_month_and_currency_equal_fct_cash_monthly(layer: SemanticLayer) -> None:
    rows = layer.query(CASH_METRICS, ["metric_time__month", "cash_row__currency"])
    actual = {(r["metric_time__month"], r["cash_row__currency"]): r for r in rows}
    mart = layer.marts("select * from marts.fct_cash_monthly")
    key = ("month", "currency")
    for metric, column in CASH_METRICS.items():
        expected = sums(mart, key, column)
        assert {k: actual[k][metric] for k in expected} == expected, metric
    assert set(actual) == set(sums(mart, key, "payments_applied"))
    for column in ("payments_applied", "failed_payment_attempts", "credits_issued"):
        assert sum(row[column] for row in mart) > 0, column  # the tenant exercises each
    # payments received in the cash mart are the cash_collected metric
    collected = layer.query(["cash_collected"], ["metric_time__month", "payment__currency"])
    received = sums(mart, key, "payments_received")
    assert {k: v for k, v in received.items() if v} == {
        (r["metric_time__month"], r["payment__currency"]): r["cash_collected"] for r in collected
    }


def test_open_ar_per_aging_bucket_and_currency_equals_fct_ar_aging(layer: SemanticLayer) -> None:
    rows = layer.query(["open_ar"], ["open_invoice__aging_bucket", "open_invoice__currency"])
    actual = {
        (r["open_invoice__aging_bucket"], r["open_invoice__currency"]): r["open_ar"] for r in rows
    }
    aging = layer.marts("select aging_bucket, currency, balance from marts.fct_ar_aging")
    expected = sums(aging, ("aging_bucket", "currency"), "balance")
    assert len({bucket for bucket, _ in expected}) >= 3
    assert actual == expected
    (total,) = layer.query(["open_ar"])
    assert total["open_ar"] == sum(expected.values(), Decimal(0))
    by_type = layer.query(["open_ar"], ["open_invoice__document_type"])
    assert {r["open_invoice__document_type"]: r["open_ar"] for r in by_type} == sums(
        layer.marts("select document_type, balance from marts.fct_ar_aging"),
        ["document_type"],
        "balance",
    )


def test_over_a_quarter_balances_are_its_last_month_and_flows_its_sum(
    layer: SemanticLayer, monthly: dict[date, Row]
) -> None:
    metrics = ("arr", "opening_arr", "new_arr", "churn_arr", "active_customers", "new_customers")
    quarters = {
        r["metric_time__quarter"]: r for r in layer.query(metrics, ["metric_time__quarter"])
    }
    by_quarter: dict[date, list[date]] = defaultdict(list)
    bridge_months = [r["month"] for r in layer.marts("select month from marts.fct_arr_movements")]
    for month in sorted(bridge_months):
        by_quarter[date(month.year, 3 * ((month.month - 1) // 3) + 1, 1)].append(month)
    assert set(quarters) == set(by_quarter)
    for quarter, months in by_quarter.items():
        first, last = monthly[months[0]], monthly[months[-1]]
        row = quarters[quarter]
        assert row["arr"] == last["arr"] and row["active_customers"] == last["active_customers"]
        assert row["opening_arr"] == first["opening_arr"]
        for flow in ("new_arr", "churn_arr", "new_customers"):
            assert row[flow] == sum((monthly[m][flow] for m in months), Decimal(0)), flow


def test_mrr_by_customer_segment_joins_dim_customers_and_adds_up_to_the_total(
    layer: SemanticLayer, monthly: dict[date, Row]
) -> None:
    rows = layer.query(["mrr"], ["metric_time__month", "customer__segment"])
    expected = sums(
        layer.marts(
            "select m.month, c.segment, m.mrr from marts.fct_mrr m "
            "left join marts.dim_customers c using (customer_id)"
        ),
        ("month", "segment"),
        "mrr",
    )
    actual = {(r["metric_time__month"], r["customer__segment"]): r["mrr"] for r in rows}
    assert len({segment for _, segment in expected}) >= 2
    assert actual == expected
    totals = {m: r["mrr"] for m, r in monthly.items() if r["mrr"] is not None}
    assert sums(rows, ["metric_time__month"], "mrr") == totals


def test_the_saved_arr_bridge_query_gives_the_monthly_metrics(
    layer: SemanticLayer, monthly: dict[date, Row]
) -> None:
    out = layer.project / "bridge.csv"
    completed = layer.mf("query", "--saved-query", "arr_bridge", "--csv", str(out))
    assert completed.returncode == 0, completed.stdout + completed.stderr
    with out.open(newline="") as handle:
        rows = [{k: _value(k, v) for k, v in row.items()} for row in csv.DictReader(handle)]
    assert {r["metric_time__month"] for r in rows} == set(monthly)
    for row in rows:
        for name in ("opening_arr", "net_new_arr", "arr"):
            assert cents(row[name]) == cents(monthly[row["metric_time__month"]][name]), name


def cents(value: Decimal | None) -> Decimal | None:
    return None if value is None else Decimal(value).quantize(Decimal("0.01"), ROUND_HALF_UP)


def test_the_mf_cli_prints_every_monthly_metric_equal_to_the_cent(
    layer: SemanticLayer, monthly: dict[date, Row]
) -> None:
    printed = {
        r["metric_time__month"]: r for r in layer.cli(MONTHLY_METRICS, ["metric_time__month"])
    }
    assert set(printed) == set(monthly)
    for month, row in printed.items():
        for name in MONTHLY_METRICS:
            exact = monthly[month][name]
            if isinstance(exact, float):  # ratios: the same double
                assert float(row[name]) == exact, (month, name)
            else:
                assert cents(row[name]) == cents(exact), (month, name)


# ------------------------------------------------------------------ presentation and docs


def presentation_models() -> dict[str, tuple[str, dict[str, str]]]:
    """bi model -> (its mart, column -> contract type), from the presentation ymls."""
    models = {}
    for path in sorted((PROJECT_DIR / "models/marts/presentation").glob("bi_*.yml")):
        (model,) = yaml.safe_load(path.read_text())["models"]
        sql = path.with_suffix(".sql").read_text()
        (mart,) = re.findall(r"ref\('(\w+)'\)", sql)
        models[model["name"]] = (mart, {c["name"]: c["data_type"] for c in model["columns"]})
    return models


def test_presentation_models_are_their_marts_with_money_at_cents_half_away_from_zero(
    layer: SemanticLayer,
) -> None:
    models = presentation_models()
    assert len(models) >= 10
    rounded_somewhere = 0
    for bi, (mart, types) in models.items():
        exact = layer.marts(f"select * from marts.{mart}")
        shown = layer.marts(f"select * from marts.{bi}")
        assert exact and list(shown[0]) == list(exact[0]) == list(types), bi
        scales = {
            c: int(t[-2]) for c, t in types.items() if re.fullmatch(r"numeric\(38, [24]\)", t)
        }
        assert scales, bi

        def presented(row: Row, scales: dict[str, int] = scales) -> tuple[Any, ...]:
            return tuple(
                value.quantize(Decimal(1).scaleb(-scales[c]), ROUND_HALF_UP)
                if c in scales and value is not None
                else value
                for c, value in row.items()
            )

        assert Counter(tuple(r.values()) for r in shown) == Counter(map(presented, exact)), bi
        rounded_somewhere += any(
            row[c] is not None and row[c] != row[c].quantize(Decimal("0.01"))
            for row in exact
            for c in scales
        )
    assert rounded_somewhere >= 3  # the tenant has values beyond cents to round


def test_dbt_docs_generate_builds_the_site_with_every_mart_and_metric(layer: SemanticLayer) -> None:
    completed = subprocess.run(
        [str(DBT), "docs", "generate"],
        cwd=layer.project,
        env=layer.env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout[-4000:]
    target = layer.project / "target"
    assert (target / "index.html").stat().st_size > 100_000
    catalog = json.loads((target / "catalog.json").read_text())["nodes"]
    manifest = json.loads((target / "manifest.json").read_text())
    marts = [
        n
        for n in manifest["nodes"].values()
        if n["resource_type"] == "model" and n["path"].startswith("marts/")
    ]
    assert len(marts) >= 25
    for node in marts:
        built = catalog[node["unique_id"]]["columns"]
        assert set(built) == set(node["columns"]), node["name"]
        assert all(c["description"].strip() for c in node["columns"].values()), node["name"]
    assert {m["name"] for m in manifest["metrics"].values()} == TESTED_METRICS
    assert {e["name"] for e in manifest["exposures"].values()} >= {
        "finance_dashboard",
        "agent_server",
        "bi_tools",
    }


def test_the_published_target_answers_metric_queries_from_the_published_marts_read_only(
    layer: SemanticLayer, monthly: dict[date, Row], tmp_path: Path
) -> None:
    """Publishing (pipelines/publish.py) copies every model under marts/, the time spine and
    the presentation models included, so the semantic layer runs on what BI reads alone."""
    manifest = json.loads((layer.project / "target" / "manifest.json").read_text())
    marts = sorted(
        n["name"]
        for n in manifest["nodes"].values()
        if n["resource_type"] == "model" and n["path"].startswith("marts/")
    )
    assert {"dim_dates", "bi_mrr", "fct_mrr"} <= set(marts)
    published = tmp_path / "ordway_marts.duckdb"
    publication = publish_duckdb(layer.duckdb_path, published, marts)
    assert set(publication.rows) == set(marts)
    project = tmp_path / "dbt_project"
    shutil.copytree(layer.project, project, ignore=shutil.ignore_patterns("target", "logs"))
    env = {**layer.env, "DBT_PROFILES_DIR": str(project), "DBT_TARGET": "published"}
    env.pop("DUCKDB_PATH")
    env["DUCKDB_PUBLISHED_PATH"] = str(published)
    reader = SemanticLayer(project, published, env)
    parse = subprocess.run(
        [str(DBT), "parse"], cwd=project, env=env, capture_output=True, text=True, check=False
    )
    assert parse.returncode == 0, parse.stdout[-3000:]
    sql = reader.sql(["arr", "nrr", "recognized_revenue"], ["metric_time__month"])
    assert '"published"."marts"."fct_mrr"' in sql
    printed = {
        r["metric_time__month"]: r for r in reader.cli(["arr", "nrr"], ["metric_time__month"])
    }
    assert set(printed) == {m for m, r in monthly.items() if r["arr"] is not None}
    for month, row in printed.items():
        assert cents(row["arr"]) == cents(monthly[month]["arr"])
        assert (None if row["nrr"] is None else float(row["nrr"])) == monthly[month]["nrr"]
    assert not wal_path(published).exists()  # attached read-only: nothing was written
