"""dbt_project/target/ stays bounded: dagster-dbt writes a directory of about 9 MB per dbt
invocation; only the newest DBT_RUN_TARGETS_KEPT are kept, and nothing else is touched."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from dagster_dbt import DbtProject

from assets.dbt_cli import DBT_RUN_TARGETS_KEPT, dbt_run_targets_dir, prune_dbt_run_targets


def _project(tmp_path: Path) -> DbtProject:
    (tmp_path / "dbt_project.yml").write_text("name: p\nprofile: p\nversion: '1'\n")
    return DbtProject(project_dir=tmp_path)


def test_only_the_newest_invocation_directories_are_kept_and_nothing_else_is_touched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DBT_TARGET_PATH", raising=False)
    project = _project(tmp_path)
    target = tmp_path / "target"
    runs = [f"ordway_dbt_assets-{i:07x}-abcdef{i % 10}" for i in range(8)] + ["1a2b3c4"]
    for age, name in enumerate(runs):  # runs[0] is the newest
        path = target / name
        path.mkdir(parents=True)
        (path / "run_results.json").write_text("{}")
        stamp = 1_800_000_000 - age * 60
        os.utime(path, (stamp, stamp))
    kept_files = ["manifest.json", "partial_parse.msgpack"]
    for name in kept_files:
        (target / name).write_text("x")
    for name in ("compiled", "run", "not-a-run-dir"):
        (target / name).mkdir()

    removed = prune_dbt_run_targets(keep=DBT_RUN_TARGETS_KEPT, project=project)

    assert sorted(p.name for p in removed) == sorted(runs[DBT_RUN_TARGETS_KEPT:])
    assert sorted(p.name for p in target.iterdir()) == sorted(
        [*runs[:DBT_RUN_TARGETS_KEPT], *kept_files, "compiled", "run", "not-a-run-dir"]
    )


def test_the_target_directory_follows_dbt_target_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = _project(tmp_path)
    monkeypatch.setenv("DBT_TARGET_PATH", str(tmp_path / "elsewhere"))
    assert dbt_run_targets_dir(project) == tmp_path / "elsewhere"
    monkeypatch.setenv("DBT_TARGET_PATH", "relative")
    assert dbt_run_targets_dir(project) == tmp_path / "relative"
    assert prune_dbt_run_targets(project=project) == []  # missing directory: nothing to do
