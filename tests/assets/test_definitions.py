"""The code location loads without credentials and its asset graph is the documented one."""

from __future__ import annotations

import ast
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from dagster import AssetKey, BackfillPolicy, MonthlyPartitionsDefinition

from assets.definitions import build_definitions, defs
from assets.jobs import WAREHOUSE_JOB_NAMES
from pipelines.ordway.contract import INCREMENTAL_COLLECTIONS
from tests.support.paths import REPO_ROOT

RAW_COLLECTIONS = {
    "invoices",
    "payments",
    "credits",
    "refunds",
    "debit_memos",
    "products",
    "subscriptions",
    "usages",
    "revenue_schedules",
    "journal_entries",
    "billing_schedules",
    "customers",
    "plans",
    "revenue_rules",
    "chart_of_accounts",
    # issue 14: every collection the public clients read
    "orders",
    "statements",
    "customer_notes",
    "payment_methods",
    "billing_runs",
    "payment_runs",
    "coupons",
    "webhooks",
}
STAGING_DIR = REPO_ROOT / "dbt_project" / "models" / "staging" / "ordway"
SOURCE_CALL = re.compile(r"source\(\s*'ordway'\s*,\s*'([a-z_]+)'\s*\)")


def graph():
    return defs.resolve_asset_graph()


def test_definitions_build_with_no_ordway_variables(clean_env):
    # clean_env: no ORDWAY_* variable at all; every definition is built by a function, so this
    # build reads the environment as it is now (nothing cached from an earlier import)
    built = build_definitions()
    keys = built.resolve_asset_graph().get_all_asset_keys()
    assert AssetKey(["ordway_raw", "invoices"]) in keys
    assert AssetKey(["published", "marts"]) in keys
    assert {job.name for job in built.jobs} == set(WAREHOUSE_JOB_NAMES)
    assert {s.name for s in built.schedules} == {
        "ordway_nightly_schedule",
        "ordway_delete_sweep_schedule",
    }


#: Functions that read the environment or build from it.
SETTING_READERS = re.compile(
    r"^(value|raw|required|from_env|warehouse_kind|duckdb_path|published_duckdb_path"
    r"|pipelines_dir|lock_timeout_seconds|monthly_partitions|dbt_project|dbt_vars|build_\w+)$"
)


def calls_at_import(tree: ast.Module) -> set[str]:
    """Names of the functions a module calls when it is imported: its top-level statements,
    class bodies, decorators and default values, but not the bodies of its functions."""
    called: set[str] = set()
    pending: list[ast.AST] = list(tree.body)
    while pending:
        node = pending.pop()
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            defaults = [d for d in node.args.kw_defaults if d is not None]
            pending += [*node.decorator_list, *node.args.defaults, *defaults]
            continue
        if isinstance(node, ast.Lambda):
            continue
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            called.add(name)
        pending += [child for child in ast.iter_child_nodes(node) if child is not None]
    return called


def test_the_scan_of_import_time_calls_skips_function_bodies():
    tree = ast.parse(
        "X = value('A')\n@schedule(cron=value('B'))\ndef f(d=raw('C')):\n    return dbt_project()\n"
    )
    assert calls_at_import(tree) == {"value", "schedule", "raw"}


def test_importing_the_code_location_modules_reads_no_setting():
    # Only functions read the environment (pipelines/config/) or build from it; no module of
    # the code location calls one at import, except the code location itself (definitions.py:
    # defs = build_definitions()).
    for path in sorted((REPO_ROOT / "assets").glob("*.py")):
        if path.name == "definitions.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        readers = sorted(n for n in calls_at_import(tree) if SETTING_READERS.match(n))
        assert readers == [], path


def test_every_raw_collection_is_one_dlt_asset_in_group_ordway_raw():
    raw = {k for k in graph().get_all_asset_keys() if k.path[0] == "ordway_raw"}
    assert raw == {AssetKey(["ordway_raw", c]) for c in RAW_COLLECTIONS} | {
        AssetKey(["ordway_raw", "_ordway_deletions"])
    }
    for key in raw:
        node = graph().get(key)
        assert node.group_name == "ordway_raw"
        assert {"dlt", "duckdb"} <= set(node.kinds)
        assert not node.parent_keys, f"{key} must have no upstream asset"


def test_each_raw_collection_feeds_the_staging_models_that_read_it():
    # oracle: the source() calls in the staging SQL files themselves
    readers: dict[str, set[AssetKey]] = {}
    for path in sorted(STAGING_DIR.glob("stg_ordway__*.sql")):
        for table in SOURCE_CALL.findall(path.read_text(encoding="utf-8")):
            collection = table.split("__")[0]
            readers.setdefault(collection, set()).add(AssetKey(["staging", path.stem]))
    assert readers, "no staging model reads a source"
    for collection, models in readers.items():
        children = graph().get(AssetKey(["ordway_raw", collection])).child_keys
        assert models <= set(children), collection


def test_models_are_grouped_by_folder_and_marts_hang_off_the_raw_graph():
    for key in graph().get_all_asset_keys():
        if key.path[0] in ("staging", "intermediate", "marts"):
            assert graph().get(key).group_name == key.path[0], key
    ancestors = graph().get(AssetKey(["marts", "fct_arr_movements"]))
    seen, todo = set(), [ancestors.key]
    while todo:
        current = todo.pop()
        for parent in graph().get(current).parent_keys:
            if parent not in seen:
                seen.add(parent)
                todo.append(parent)
    assert AssetKey(["ordway_raw", "billing_schedules"]) in seen
    assert AssetKey(["ordway_raw", "subscriptions"]) in seen


def test_dbt_tests_and_custom_checks_are_asset_checks():
    checks = {(c.asset_key.to_user_string(), c.name) for c in graph().asset_check_keys}
    assert (
        "marts/fct_ar_aging",
        "unique_combination_of_columns_fct_ar_aging_invoice_id__document_type",
    ) in checks
    assert ("marts/fct_ar_aging", "assert_no_draft_invoice_counts_in_a_mart") in checks
    assert ("ordway_raw/_ordway_deletions", "dlt_load_freshness") in checks
    for collection in RAW_COLLECTIONS:
        assert (f"ordway_raw/{collection}", "row_count_cliff") in checks
    assert ("marts/rpt_customer_mrr_tieout", "mrr_ties_out_to_ordway_cmrr") in checks
    assert (
        "marts/rpt_revenue_schedule_tieout",
        "recognized_revenue_ties_out_to_posted_lines",
    ) in checks


def test_only_the_incremental_raw_collections_carry_monthly_partitions():
    partitioned = {
        key for key in graph().get_all_asset_keys() if graph().get(key).partitions_def is not None
    }
    assert partitioned == {AssetKey(["ordway_raw", c]) for c in INCREMENTAL_COLLECTIONS}
    months = graph().get(AssetKey(["ordway_raw", "invoices"])).partitions_def
    assert isinstance(months, MonthlyPartitionsDefinition)
    assert months.get_first_partition_key() == "2020-01-01"
    assert (months.timezone, months.end_offset) == ("UTC", 1)
    # the current month is a partition (re-marked every night until it ends)
    keys = months.get_partition_keys(current_time=datetime(2026, 3, 10, tzinfo=UTC))
    assert keys[-1] == "2026-03-01"
    for key in (["ordway_raw", "customers"], ["ordway_raw", "_ordway_deletions"]):
        assert graph().get(AssetKey(key)).partitions_def is None
    assert graph().get(AssetKey(["marts", "fct_arr_movements"])).partitions_def is None


def test_raw_assets_backfill_in_one_run_and_every_step_uses_the_warehouse_pool():
    names = {assets_def.node_def.name: assets_def for assets_def in defs.assets}
    assert set(names) == {
        "ordway_raw_incremental",
        "ordway_raw_full_refresh",
        "ordway_dbt_assets",
        "published__marts",
    }
    assert names["ordway_raw_incremental"].backfill_policy == BackfillPolicy.single_run()
    for assets_def in defs.assets:
        assert assets_def.op.pool == "ordway_warehouse"


def test_the_code_location_imports_no_private_dagster_module():
    private = re.compile(r"^\s*(from|import)\s+dagster\w*\._", re.MULTILINE)
    for folder in ("assets", "scripts", "tests/assets", "tests/reliability", "tests/support"):
        for path in sorted((REPO_ROOT / folder).glob("*.py")):
            assert not private.search(path.read_text(encoding="utf-8")), path


@pytest.mark.parametrize(
    ("job", "mode"),
    [
        ("ordway_nightly", "incremental"),
        ("ordway_full_refresh", "full"),
        ("ordway_delete_sweep", "sweep"),
    ],
)
def test_jobs_select_every_asset_and_carry_mode_and_warehouse_tags(job, mode):
    definition = defs.resolve_job_def(job)
    assert definition.tags["ordway/mode"] == mode
    assert definition.tags["ordway/warehouse"] == "1"
    assert set(WAREHOUSE_JOB_NAMES) == {
        "ordway_nightly",
        "ordway_full_refresh",
        "ordway_delete_sweep",
    }
    selected = definition.asset_layer.selected_asset_keys
    assert AssetKey(["ordway_raw", "invoices"]) in selected
    assert AssetKey(["marts", "fct_mrr"]) in selected


def test_dagster_yaml_queues_warehouse_runs_one_at_a_time():
    config = yaml.safe_load(Path(REPO_ROOT / "dagster_home" / "dagster.yaml").read_text())
    assert config["run_coordinator"]["class"] == "QueuedRunCoordinator"
    assert {"key": "ordway/warehouse", "limit": 1} in config["concurrency"]["runs"][
        "tag_concurrency_limits"
    ]
    assert config["concurrency"]["pools"]["default_limit"] == 1
    # runs from the asset graph (UI backfills, __ASSET_JOB) queue on the pool like the jobs
    assert config["concurrency"]["pools"]["granularity"] == "run"
    assert config["telemetry"]["enabled"] is False


def test_the_published_marts_depend_on_every_mart_model_so_any_blocking_check_gates_them():
    # oracle: the model files under dbt_project/models/marts/
    marts = {p.stem for p in (REPO_ROOT / "dbt_project" / "models" / "marts").rglob("*.sql")}
    published = graph().get(AssetKey(["published", "marts"]))
    assert set(published.parent_keys) == {AssetKey(["marts", m]) for m in marts}
    assert published.group_name == "published"
    assert not published.child_keys
