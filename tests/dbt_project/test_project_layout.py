"""The dbt project's layout holds: one yml per model beside its SQL, each mart's grain stated once
(the first sentence of its description, quoted by the README), every mart under an enforced
contract with every column typed and described, every metric documented in the README, and the
line MRR rule in one model.

`dbt parse` (no warehouse) gives the manifest the checks read.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from tests.support.dbt import DBT, PROJECT_DIR
from tests.support.paths import REPO_ROOT

MODELS = PROJECT_DIR / "models"
#: yml files that describe no single model.
SHARED_YML = {"_ordway__sources.yml", "_exposures.yml", "_saved_queries.yml"}
README = REPO_ROOT / "README.md"


@pytest.fixture(scope="module")
def manifest(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    workdir = tmp_path_factory.mktemp("dbt_parse")
    completed = subprocess.run(
        [
            str(DBT),
            "parse",
            "--project-dir",
            str(PROJECT_DIR),
            "--profiles-dir",
            str(PROJECT_DIR),
            "--target-path",
            str(workdir / "target"),
            "--log-path",
            str(workdir / "logs"),
        ],
        env={
            **os.environ,
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
            "DBT_TARGET": "duckdb",
            "DUCKDB_PATH": str(workdir / "ordway.duckdb"),
        },
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout[-3000:]
    yield {
        "manifest": json.loads((workdir / "target" / "manifest.json").read_text()),
        "semantic": json.loads((workdir / "target" / "semantic_manifest.json").read_text()),
    }


def models_of(manifest: dict[str, Any], folder: str = "") -> list[dict[str, Any]]:
    return sorted(
        (
            node
            for node in manifest["manifest"]["nodes"].values()
            if node["resource_type"] == "model" and node["path"].startswith(folder)
        ),
        key=lambda node: node["name"],
    )


def grain(description: str) -> str:
    """The first sentence of a description: the model's grain."""
    match = re.match(r"(.*?\.)(\s|$)", " ".join(description.split()))
    assert match, description
    return match.group(1)


def test_every_model_has_one_yml_beside_its_sql_holding_it_and_only_its_unit_tests() -> None:
    sql = sorted(MODELS.rglob("*.sql"))
    assert len(sql) >= 45
    for path in sql:
        yml = path.with_suffix(".yml")
        assert yml.exists(), f"{path.relative_to(PROJECT_DIR)} has no {yml.name} beside it"
        content = yaml.safe_load(yml.read_text())
        assert [model["name"] for model in content["models"]] == [path.stem], yml.name
        for unit_test in content.get("unit_tests", []):
            assert unit_test["model"] == path.stem, (yml.name, unit_test["name"])
    stray = {
        path.name
        for path in MODELS.rglob("*.yml")
        if not path.with_suffix(".sql").exists() and path.name not in SHARED_YML
    }
    assert stray == set()


def test_no_sql_file_restates_a_grain() -> None:
    restated = [
        str(path.relative_to(PROJECT_DIR))
        for path in MODELS.rglob("*.sql")
        if re.search(r"one row per", path.read_text(), re.IGNORECASE)
    ]
    assert restated == []


def test_every_model_description_starts_with_its_grain(manifest: dict[str, Any]) -> None:
    for node in models_of(manifest):
        assert node["description"].startswith("One row per"), node["name"]


def test_every_mart_has_an_enforced_contract_with_every_column_typed_and_described(
    manifest: dict[str, Any],
) -> None:
    marts = models_of(manifest, "marts/")
    assert len(marts) >= 25
    for node in marts:
        assert node["config"]["contract"]["enforced"] is True, node["name"]
        assert node["columns"], node["name"]
        for name, column in node["columns"].items():
            assert column["data_type"], (node["name"], name)
            assert column["description"].strip(), (node["name"], name)
            assert "{{" not in column["description"], (node["name"], name)  # docs resolved


def test_the_readme_marts_table_links_each_mart_yml_and_quotes_its_grain(
    manifest: dict[str, Any],
) -> None:
    text = README.read_text()
    section = text[text.index("## The finance marts") : text.index("## Metrics (the semantic")]
    rows = {
        name: (link, cell.strip())
        for name, link, cell in re.findall(
            r"^\| \[`(\w+)`\]\(([^)]+)\) \| ([^|]+) \|", section, re.MULTILINE
        )
    }
    listed = {
        node["name"]: node
        for node in models_of(manifest, "marts/")
        if not node["path"].startswith("marts/presentation/")
    }
    assert set(rows) == set(listed)
    for name, (link, quoted) in rows.items():
        node = listed[name]
        assert link == f"dbt_project/models/{node['path'][:-4]}.yml", name
        assert (REPO_ROOT / link).exists(), link
        assert quoted == grain(node["description"]), name
    assert "(dbt_project/models/marts/presentation/)" in section


def test_the_readme_documents_every_metric_and_saved_query(manifest: dict[str, Any]) -> None:
    text = README.read_text()
    section = text[
        text.index("## Metrics (the semantic layer)") : text.index("## The Ordway sandbox")
    ]
    documented = set()
    for first_cell in re.findall(r"^\| ([^|]+) \|", section, re.MULTILINE):
        documented |= set(re.findall(r"`(\w+)`", first_cell))
    metrics = {metric["name"] for metric in manifest["semantic"]["metrics"]}
    assert len(metrics) >= 25
    assert metrics - documented == set()
    for saved_query in manifest["semantic"]["saved_queries"]:
        assert f"`{saved_query['name']}`" in section


def test_line_mrr_is_computed_in_one_model_that_the_mart_and_the_tie_out_read(
    manifest: dict[str, Any],
) -> None:
    computing = [
        str(path.relative_to(MODELS))
        for path in MODELS.rglob("*.sql")
        if "months_per_billing_period(" in path.read_text()
    ]
    assert computing == ["intermediate/finance/int_mrr_lines_monthly.sql"]
    nodes = manifest["manifest"]["nodes"]
    line_mrr = "model.ordway_revenue.int_mrr_lines_monthly"
    assert line_mrr in nodes["model.ordway_revenue.rpt_customer_mrr_tieout"]["depends_on"]["nodes"]
    assert line_mrr in nodes["model.ordway_revenue.int_customer_mrr_monthly"]["depends_on"]["nodes"]
