"""`make bench` judges issue 17's goals: each met, not met or not measured, on the right size.
Pure functions of the figures (no timing is asserted anywhere)."""

from __future__ import annotations

from typing import Any

import pytest

from benchmarks.run import goals, job_breakdown


def summary(customers: int, **figures: Any) -> dict[str, Any]:
    """A size's summary with every figure unmeasured unless given."""
    keys = (
        "ceiling_over_full",
        "full_over_tap",
        "full_rss_mb",
        "mid_over_full",
        "nightly_over_full",
        "rate_ratio",
        "rate_429",
        "dbt_s",
        "e2e_overhead_s",
    )
    return {"customers": customers, **dict.fromkeys(keys), **figures}


def by_goal(results: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {r["goal"].split(" (")[0].split(",")[0]: r for r in results}


def test_every_goal_is_not_measured_when_nothing_was_measured() -> None:
    results = goals([summary(1000)])
    assert len(results) == 9
    assert all(r["met"] is None for r in results)


def test_goals_at_the_issue_thresholds_are_met_and_just_past_them_are_not() -> None:
    small = summary(1000, full_over_tap=0.2, full_rss_mb=300.0)
    large = summary(
        10000,
        ceiling_over_full=0.25,
        full_rss_mb=345.0,  # 1.15 x the smaller size's
        mid_over_full=0.0199,
        nightly_over_full=0.0499,
        rate_ratio=0.95,
        rate_429=0,
        dbt_s=29.9,
        e2e_overhead_s=12.0,
    )
    met = {name: r["met"] for name, r in by_goal(goals([small, large])).items()}
    assert len(met) == 9 and set(met.values()) == {True}, met

    worse = summary(
        10000,
        ceiling_over_full=0.249,
        full_rss_mb=400.0,
        mid_over_full=0.02,
        nightly_over_full=0.05,
        rate_ratio=0.99,
        rate_429=1,  # any 429 fails the rate goal
        dbt_s=30.0,
        e2e_overhead_s=12.0,
    )
    results = by_goal(goals([summary(1000, full_over_tap=0.21, full_rss_mb=300.0), worse]))
    failed = {name for name, r in results.items() if r["met"] is False}
    assert failed == set(results) - {"nightly Dagster job's own overhead"}


def test_the_tap_goal_is_judged_at_1000_customers_and_the_others_at_the_largest_size() -> None:
    results = goals(
        [summary(1000, full_over_tap=0.5), summary(10000, full_over_tap=0.1, dbt_s=10.0)]
    )
    named = by_goal(results)
    assert named["full load / tap-ordway wall time"]["customers"] == 1000
    assert named["full load / tap-ordway wall time"]["met"] is False
    assert named["dbt build"]["customers"] == 10000
    assert named["dbt build"]["met"] is True


def test_without_a_1000_customer_run_the_tap_goal_is_not_measured() -> None:
    named = by_goal(goals([summary(200, full_over_tap=0.1)]))
    assert named["full load / tap-ordway wall time"]["met"] is None


def test_flat_memory_needs_two_sizes() -> None:
    named = by_goal(goals([summary(1000, full_rss_mb=300.0)]))
    flat = next(r for name, r in named.items() if name.startswith("full load peak RSS flat"))
    assert flat["met"] is None and flat["value"] is None


def test_the_jobs_overhead_is_its_wall_time_minus_extract_and_the_dbt_command() -> None:
    steps = {
        "run_s": 40.0,
        "steps_s": {"ordway_raw_incremental": 6.0, "ordway_dbt_assets": 25.0},
        "extract_steps_s": 6.0,
        "dbt_step_s": 25.0,
        "dbt_command_s": 19.0,
        "other_steps_s": 3.0,
    }
    breakdown = job_breakdown(50.0, steps)
    assert breakdown["overhead_s"] == pytest.approx(50.0 - 6.0 - 19.0)
    assert breakdown["before_run_s"] == pytest.approx(10.0)
    assert breakdown["dbt_around_s"] == pytest.approx(6.0)
