"""The dbt project as Dagster uses it: ``dbt_project()`` (the project, its manifest prepared when
missing or stale), the ``dbt`` CLI resource for the WAREHOUSE's target, ``--vars`` from the
environment, and the pruning of dagster-dbt's per-invocation target directories."""

from __future__ import annotations

import functools
import re
import shutil
import sys
from pathlib import Path

from dagster_dbt import DbtCliResource, DbtProject
from filelock import FileLock

from pipelines.config import Warehouse, value, warehouse_kind

REPO_ROOT = Path(__file__).resolve().parents[1]
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"

#: What a change to invalidates the manifest (everything `dbt parse` reads from the project).
MANIFEST_INPUTS = ("models", "macros", "tests", "analyses", "dbt_project.yml")


def _project() -> DbtProject:
    return DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)


def manifest_is_stale(project: DbtProject | None = None) -> bool:
    """True when ``target/manifest.json`` is missing or older than any project file."""
    project = project or _project()
    manifest = project.manifest_path
    if not manifest.exists():
        return True
    built = manifest.stat().st_mtime
    for name in MANIFEST_INPUTS:
        path = project.project_dir / name
        if not path.exists():
            continue
        files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
        if any(f.stat().st_mtime > built for f in files):
            return True
    return False


def prepare_dbt_manifest(*, force: bool = False, project: DbtProject | None = None) -> bool:
    """Runs ``dbt parse`` when the manifest is missing or stale (or ``force``).

    The manifest is a build artifact, never committed. Called when the definitions are built and
    by ``python -m scripts.dbt_prepare``; concurrent callers (pytest workers, dagster processes)
    are serialised by a file lock next to the manifest, and a caller that waited skips the parse
    another one just did. Returns whether this call parsed.

    Not dagster-dbt's ``DbtProject.prepare_if_dev()``: that parses only under ``dagster dev``,
    while ``make run``, the tests and the daemon need a fresh manifest too, and its preparer runs
    the ``dbt`` on PATH rather than the one next to this interpreter.
    """
    from assets.warehouse import absolute_duckdb_path

    project = project or _project()
    if not force and not manifest_is_stale(project):
        return False
    project.manifest_path.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(project.manifest_path.parent / "manifest.lock"), timeout=300):
        if not force and not manifest_is_stale(project):
            return False  # another process parsed while this one waited
        with absolute_duckdb_path():
            dbt_resource().cli(["parse", "--quiet"], target_path=project.target_path).wait()
    return True


@functools.cache
def dbt_project() -> DbtProject:
    """The project, its manifest prepared (once per process) when missing or stale."""
    project = _project()
    prepare_dbt_manifest(project=project)
    return project


#: dagster-dbt gives every `dbt` invocation its own directory under the target path
#: (`<op name>-<run id[:7]>-<uuid[:7]>`, or `<uuid[:7]>` outside a run) with a full copy of the
#: manifest, run results, compiled SQL and dbt.log: about 9 MB a run. The newest ones are kept
#: for debugging, older ones are removed after each build (`prune_dbt_run_targets`).
DBT_RUN_TARGETS_KEPT = 5
_DBT_RUN_TARGET = re.compile(r"^(?:[A-Za-z0-9_]+-[0-9a-f]{7}-)?[0-9a-f]{7}$")


def dbt_run_targets_dir(project: DbtProject | None = None) -> Path:
    """Where dagster-dbt puts the invocation directories: DBT_TARGET_PATH (default `target`),
    relative to the project directory."""
    path = value("DBT_TARGET_PATH")
    return path if path.is_absolute() else (project or _project()).project_dir / path


def prune_dbt_run_targets(
    keep: int = DBT_RUN_TARGETS_KEPT, project: DbtProject | None = None
) -> list[Path]:
    """Removes all but the `keep` newest invocation directories (by modification time) and
    returns the removed ones. Nothing else in the target directory is touched (the project's
    manifest, partial-parse file, `compiled/`, `run/`)."""
    root = dbt_run_targets_dir(project)
    if not root.is_dir():
        return []
    runs = sorted(
        (p for p in root.iterdir() if p.is_dir() and _DBT_RUN_TARGET.match(p.name)),
        key=lambda p: p.stat().st_mtime,
        reverse=True,
    )
    removed = runs[keep:]
    for path in removed:
        shutil.rmtree(path, ignore_errors=True)
    return removed


def dbt_executable() -> str:
    """The ``dbt`` next to this interpreter (the venv's), else whatever is on PATH."""
    candidate = Path(sys.executable).with_name("dbt")
    return str(candidate) if candidate.exists() else "dbt"


def dbt_resource(warehouse: Warehouse | None = None) -> DbtCliResource:
    """dbt with the target of WAREHOUSE (profiles.yml reads the same SNOWFLAKE_* variables)."""
    return DbtCliResource(
        project_dir=_project(),
        profiles_dir=str(DBT_PROJECT_DIR),
        dbt_executable=dbt_executable(),
        target=warehouse or warehouse_kind(),
    )


def dbt_vars() -> dict[str, str]:
    """``--vars`` for dbt from AS_OF_DATE / REPORTING_CURRENCY (unset = dbt's defaults)."""
    result: dict[str, str] = {}
    as_of = value("AS_OF_DATE")
    if as_of is not None:
        result["as_of_date"] = as_of.isoformat()
    currency = value("REPORTING_CURRENCY")
    if currency:
        result["reporting_currency"] = currency
    return result


__all__ = [
    "DBT_PROJECT_DIR",
    "DBT_RUN_TARGETS_KEPT",
    "REPO_ROOT",
    "dbt_executable",
    "dbt_project",
    "dbt_resource",
    "dbt_run_targets_dir",
    "dbt_vars",
    "manifest_is_stale",
    "prepare_dbt_manifest",
    "prune_dbt_run_targets",
]
