"""Shared configuration of the code location: environment settings, the dbt project (and its
manifest preparer), the dbt CLI resource, and the one small helper every check and sensor uses
to read the warehouse.

Nothing here needs Ordway credentials: definitions load with no ``ORDWAY_*`` variable set. The
asset bodies read the credentials at run time (``OrdwaySettings.from_env()``).
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from dagster_dbt import DbtCliResource, DbtProject
from filelock import FileLock

REPO_ROOT = Path(__file__).resolve().parents[1]
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"

#: Pool every step that writes or reads the warehouse declares (dagster.yaml limits it to 1).
WAREHOUSE_POOL = "ordway_warehouse"
#: Run tag the run queue limits to one run at a time (dagster.yaml tag_concurrency_limits).
WAREHOUSE_TAG = "ordway/warehouse"
#: Run tag that chooses the extraction mode: incremental | full | sweep | backfill.
MODE_TAG = "ordway/mode"

RAW_DATASET = "ordway_raw"
RAW_GROUP = "ordway_raw"


class SettingError(ValueError):
    """An orchestration variable (cron, threshold, date) is invalid; names the variable."""


def env_str(name: str, default: str) -> str:
    """A variable's value, stripped; the default when unset or empty."""
    value = os.environ.get(name, "").strip()
    return value or default


def env_float(name: str, default: float, *, minimum: float = 0.0) -> float:
    """A numeric variable (>= minimum); names the variable when it is not a number."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingError(f"{name}={raw!r} is not a number") from None
    if value < minimum:
        raise SettingError(f"{name}={raw!r} must be >= {minimum:g}")
    return value


def env_date(name: str, default: str) -> date:
    raw = env_str(name, default)
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise SettingError(f"{name}={raw!r} is not a date YYYY-MM-DD") from None


# ------------------------------------------------------------------------------------ dbt

DBT_PROJECT = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)

#: What a change to invalidates the manifest (everything `dbt parse` reads from the project).
MANIFEST_INPUTS = ("models", "macros", "tests", "analyses", "dbt_project.yml")


def manifest_is_stale(project: DbtProject = DBT_PROJECT) -> bool:
    """True when ``target/manifest.json`` is missing or older than any project file."""
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


def prepare_dbt_manifest(*, force: bool = False, project: DbtProject = DBT_PROJECT) -> bool:
    """Runs ``dbt parse`` when the manifest is missing or stale (or ``force``).

    The manifest is a build artifact, never committed. Called when the definitions load and by
    ``python -m scripts.dbt_prepare``; concurrent callers (pytest workers, dagster processes) are
    serialised by a file lock next to the manifest, and a caller that waited skips the parse
    another one just did. Returns whether this call parsed.
    """
    if not force and not manifest_is_stale(project):
        return False
    project.manifest_path.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(project.manifest_path.parent / "manifest.lock"), timeout=300):
        if not force and not manifest_is_stale(project):
            return False  # another process parsed while this one waited
        with absolute_duckdb_path():
            dbt_resource().cli(["parse", "--quiet"], target_path=project.target_path).wait()
    return True


#: dagster-dbt gives every `dbt` invocation its own directory under the target path
#: (`<op name>-<run id[:7]>-<uuid[:7]>`, or `<uuid[:7]>` outside a run) with a full copy of the
#: manifest, run results, compiled SQL and dbt.log: about 9 MB a run. The newest ones are kept
#: for debugging, older ones are removed after each build (`prune_dbt_run_targets`).
DBT_RUN_TARGETS_KEPT = 5
_DBT_RUN_TARGET = re.compile(r"^(?:[A-Za-z0-9_]+-[0-9a-f]{7}-)?[0-9a-f]{7}$")


def dbt_run_targets_dir(project: DbtProject = DBT_PROJECT) -> Path:
    """Where dagster-dbt puts the invocation directories: DBT_TARGET_PATH, else `target`,
    relative to the project directory."""
    path = Path(os.environ.get("DBT_TARGET_PATH") or "target")
    return path if path.is_absolute() else project.project_dir / path


def prune_dbt_run_targets(
    keep: int = DBT_RUN_TARGETS_KEPT, project: DbtProject = DBT_PROJECT
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


def dbt_resource() -> DbtCliResource:
    """dbt with the target of WAREHOUSE (profiles.yml reads the same SNOWFLAKE_* variables)."""
    return DbtCliResource(
        project_dir=DBT_PROJECT,
        profiles_dir=str(DBT_PROJECT_DIR),
        dbt_executable=dbt_executable(),
        target="snowflake" if warehouse_kind() == "snowflake" else "duckdb",
    )


def dbt_vars() -> dict[str, str]:
    """``--vars`` for dbt from AS_OF_DATE / REPORTING_CURRENCY (unset = dbt's defaults)."""
    result: dict[str, str] = {}
    as_of = os.environ.get("AS_OF_DATE", "").strip()
    if as_of:
        try:
            date.fromisoformat(as_of)
        except ValueError:
            raise SettingError(f"AS_OF_DATE={as_of!r} is not a date YYYY-MM-DD") from None
        result["as_of_date"] = as_of
    currency = os.environ.get("REPORTING_CURRENCY", "").strip()
    if currency:
        result["reporting_currency"] = currency.upper()
    return result


def duckdb_path() -> Path:
    """DUCKDB_PATH as an absolute path (relative paths are relative to the working directory,
    as for the dlt source; dbt runs from dbt_project/ so it must get the absolute one)."""
    return Path(env_str("DUCKDB_PATH", "data/ordway.duckdb")).expanduser().resolve()


@contextmanager
def absolute_duckdb_path() -> Iterator[Path]:
    """Sets DUCKDB_PATH to its absolute form for the block (dbt subprocesses inherit it)."""
    previous = os.environ.get("DUCKDB_PATH")
    path = duckdb_path()
    os.environ["DUCKDB_PATH"] = str(path)
    try:
        yield path
    finally:
        if previous is None:
            os.environ.pop("DUCKDB_PATH", None)
        else:
            os.environ["DUCKDB_PATH"] = previous


def warehouse_kind() -> str:
    """``duckdb`` or ``snowflake`` (env WAREHOUSE)."""
    kind = env_str("WAREHOUSE", "duckdb").lower()
    if kind not in ("duckdb", "snowflake"):
        raise SettingError(f"WAREHOUSE={kind!r} must be 'duckdb' or 'snowflake'")
    return kind


# ------------------------------------------------------------------------ warehouse reads


class WarehouseUnavailableError(RuntimeError):
    """The warehouse cannot be read (file missing, relation missing); names what is missing."""


def published_duckdb_path() -> Path:
    """The DuckDB file BI reads: ``DUCKDB_PUBLISHED_PATH``, default next to ``DUCKDB_PATH``
    (validated in ``pipelines/publish.py``)."""
    from pipelines.publish import published_duckdb_path as resolve

    return resolve(duckdb_path())


def working_marts_schema() -> str:
    """Where dbt builds and tests the marts before they are published: schema ``marts`` of the
    working DuckDB file, or ``MARTS_BUILD`` on Snowflake. Checks that audit a build read this."""
    from pipelines.warehouse import MARTS_BUILD_SCHEMA

    return MARTS_BUILD_SCHEMA.lower() if warehouse_kind() == "snowflake" else "marts"


def query(sql: str, params: Sequence[Any] = (), *, published: bool = False) -> list[dict[str, Any]]:
    """Runs one read-only query and returns rows as dicts (column names lowercased).

    DuckDB: a read-only connection to DUCKDB_PATH, or with ``published=True`` to the published
    file BI reads (``published_duckdb_path()``). Snowflake: the dlt pipeline's sql_client with
    the project's SNOWFLAKE_* settings (``pipelines/warehouse.py``); there ``marts.<table>`` is
    the published schema and ``working_marts_schema()`` the build. Tables are named
    ``<schema>.<table>`` (``ordway_raw``, ``marts``); parameters use ``?`` placeholders.
    Callers that read the working file and may overlap a writer hold ``warehouse_lock()``
    around it; the published file is never written in place, so its readers need no lock.
    """
    if warehouse_kind() == "duckdb":
        import duckdb

        path = published_duckdb_path() if published else duckdb_path()
        if not path.exists():
            what = "published marts file" if published else "DuckDB warehouse"
            raise WarehouseUnavailableError(
                f"{what} {path} does not exist yet; run the nightly job first"
            )
        with duckdb.connect(str(path), read_only=True) as connection:
            try:
                cursor = connection.execute(sql, list(params))
            except duckdb.CatalogException as exc:
                raise WarehouseUnavailableError(f"{path}: {exc}".splitlines()[0]) from None
            columns = [d[0].lower() for d in cursor.description or []]
            return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
    with (
        snowflake_sql_client() as client,
        client.execute_query(sql.replace("?", "%s"), *params) as cursor,
    ):
        columns = [d[0].lower() for d in cursor.description or []]
        return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


@contextmanager
def snowflake_sql_client() -> Iterator[Any]:
    """dlt's Snowflake sql_client for the project's validated SNOWFLAKE_* settings."""
    import dlt

    from pipelines.config import snowflake_settings_from_env
    from pipelines.ordway.contract import PIPELINE_NAME
    from pipelines.warehouse import dlt_snowflake_destination

    pipeline = dlt.pipeline(
        pipeline_name=PIPELINE_NAME,
        destination=dlt_snowflake_destination(snowflake_settings_from_env()),
        dataset_name=RAW_DATASET,
        pipelines_dir=env_str("DLT_PIPELINES_DIR", "data/dlt"),
    )
    with pipeline.sql_client() as client:
        yield client


def now_utc() -> datetime:
    return datetime.now(UTC)


def markdown_table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> str:
    """A small markdown table for asset metadata (None shown as empty)."""
    header = "| " + " | ".join(columns) + " |"
    rule = "|" + "|".join("---" for _ in columns) + "|"
    body = [
        "| " + " | ".join("" if row.get(c) is None else str(row.get(c)) for c in columns) + " |"
        for row in rows
    ]
    return "\n".join([header, rule, *body])
