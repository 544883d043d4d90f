"""Prepare the dbt project for tools that compile it (sqlfluff's dbt templater in `make lint`).

1. Create the directory of the DuckDB file the `duckdb` target opens (resolved exactly as
   dbt_project/profiles.yml does), because DuckDB creates the file but not its directory.
2. `dbt parse` the project, so a broken project fails here with dbt's own message instead of
   inside the linter.

sqlfluff itself compiles with the in-memory `lint` target (dbt_project/.sqlfluff), so linting
never locks the warehouse file that a running pipeline or demo may hold.

Usage: `python -m scripts.dbt_prepare` (from the repo root; exit status 0 on success).
"""

from __future__ import annotations

import sys
from pathlib import Path

from pipelines.config import raw, value

REPO_ROOT = Path(__file__).resolve().parents[1]
PROJECT_DIR = REPO_ROOT / "dbt_project"


def duckdb_path(environ: dict[str, str] | None = None, cwd: Path | None = None) -> Path:
    """The DuckDB file of the `duckdb` target: DUCKDB_PATH, else <DBT_PROFILES_DIR>/../data/
    ordway.duckdb, else the repo's data/ordway.duckdb; relative paths resolve against the working
    directory, as dbt-duckdb resolves them (dbt_project/profiles.yml's rule, not the pipeline's
    default, which is relative to the working directory)."""
    base = cwd or Path.cwd()
    if raw("DUCKDB_PATH", environ) is not None:
        path = value("DUCKDB_PATH", environ)
    elif value("DBT_PROFILES_DIR", environ) is not None:
        path = value("DBT_PROFILES_DIR", environ) / ".." / "data" / "ordway.duckdb"
    else:
        path = REPO_ROOT / "data" / "ordway.duckdb"
    return (base / path).resolve() if not path.is_absolute() else path.resolve()


def main() -> int:
    from dbt.cli.main import dbtRunner

    path = duckdb_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    result = dbtRunner().invoke(
        ["parse", "--project-dir", str(PROJECT_DIR), "--profiles-dir", str(PROJECT_DIR), "--quiet"]
    )
    if not result.success:
        print(f"dbt parse failed for {PROJECT_DIR}: {result.exception}", file=sys.stderr)
        return 1
    print(f"dbt project parsed; DuckDB directory ready: {path.parent}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
