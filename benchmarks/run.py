"""`make bench`: the extraction, transform and orchestration benchmark (see benchmarks/README.md).

    python -m benchmarks.run                      # 1,000 and 10,000 customers (~45 min, 2 cores)
    BENCH_QUICK=1 python -m benchmarks.run        # 200 customers, 1 repeat (~2 min)
    BENCH_SIZES=1000 BENCH_REPEATS=2 python -m benchmarks.run

For each tenant size it generates the tenant as of D and D+1 once (cached by arguments under
BENCH_TENANT_DIR), serves it from the sandbox over loopback and measures, each in its own child
process so that peak RSS is the step's own (`wait4`):

1. ceiling: every page of every collection with plain concurrent httpx, bodies discarded;
2. full load: `run_extract(mode="full")` into a fresh DuckDB; then, on tenants of up to 1,000
   customers (the goal's size), Singer's tap-ordway 0.4.6 (its own virtualenv under .cache/,
   every stream selected, output to /dev/null) on the same served tenant;
3. nightly, twice: mid-month (the full load reads the tenant as of M = D - 15 days, the sandbox
   then serves M+1) and month start (one catch-up run brings that warehouse to D, the sandbox
   then serves D+1); each `run_extract(mode="incremental")` on a copy of the warehouse;
4. rate-limited: the D+1 sandbox limits to R req/s, the source runs with ORDWAY_MAX_RPS=R
   (incremental collections, changes of the last N days, fresh warehouse);
5. transform: `dbt build` on a copy of the full load;
6. end to end: `python -m scripts.run_nightly` (the Dagster nightly job) on a copy of the full
   load against the D+1 sandbox; before it, the job's start-up in a child of its own (imports,
   `dbt parse`, definitions). The job's own overhead is its wall time minus its extract steps
   and its `dbt build` command (from the run's Dagster event log).

`goals()` judges the goals of issue 17 (each met / not met / not measured).

Each figure is the median of BENCH_REPEATS runs (default 3 for tenants up to 1,000 customers, 2
above; the end-to-end job, which repeats the nightly and dbt build, runs BENCH_E2E_REPEATS=1).
Prints one table and writes benchmarks/results/latest.json and latest.md; a complete run (the
default sizes, nothing skipped, not quick) also rewrites benchmarks/RESULTS.md.

Knobs (environment): BENCH_SIZES, BENCH_REPEATS, BENCH_QUICK, BENCH_SEED (42), BENCH_AS_OF
(2026-06-30), BENCH_MID_MONTH (BENCH_AS_OF - 15 days), BENCH_RATE (10), BENCH_RATE_DAYS (auto:
about BENCH_RATE_REQUESTS=150 requests), BENCH_E2E_REPEATS (1), BENCH_CEILING_THREADS (4),
BENCH_SKIP
(comma list of ceiling,full,tap,nightly,ratelimited,dbt,e2e), BENCH_TENANT_DIR
(data/bench/tenants), BENCH_WORK_DIR (data/bench/work).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks import webhook_latency
from ordway_sandbox.process import SandboxProcess, credentials_env
from ordway_sandbox.tenant import GENERATOR_VERSION, default_start
from pipelines.ordway.contract import COLLECTIONS, INCREMENTAL_COLLECTIONS

REPO_ROOT = Path(__file__).resolve().parents[1]
RESULTS_DIR = REPO_ROOT / "benchmarks" / "results"
RESULTS_MD = REPO_ROOT / "benchmarks" / "RESULTS.md"
#: The sizes of a complete run (the only one that rewrites RESULTS.md).
DEFAULT_SIZES = (1000, 10000)
#: Issue 17's tenant size for the comparison with tap-ordway; the tap runs on tenants up to it
#: (at 10,000 customers it would add several minutes a repeat and judge nothing).
TAP_GOAL_CUSTOMERS = 1000
STEPS = ("ceiling", "full", "tap", "nightly", "ratelimited", "dbt", "e2e")
ONE_DAY = dt.timedelta(days=1)


class BenchError(RuntimeError):
    """A measured step failed; names the step, the size and where its log is."""


@dataclass(frozen=True)
class Config:
    sizes: tuple[int, ...]
    repeats: int | None
    seed: int
    as_of: dt.date
    rate: float
    rate_days: int
    rate_requests: int
    e2e_repeats: int
    ceiling_threads: int
    skip: frozenset[str]
    mid_month: dt.date
    tenant_dir: Path
    work_dir: Path
    quick: bool

    @classmethod
    def from_env(cls, env: dict[str, str] | os._Environ[str] = os.environ) -> Config:
        quick = env.get("BENCH_QUICK", "") not in ("", "0", "false")
        default = ",".join(str(n) for n in DEFAULT_SIZES)
        sizes = env.get("BENCH_SIZES") or ("200" if quick else default)
        repeats = env.get("BENCH_REPEATS") or ("1" if quick else "")
        skip = frozenset(s for s in env.get("BENCH_SKIP", "").split(",") if s)
        unknown = skip - set(STEPS)
        if unknown:
            raise SystemExit(f"BENCH_SKIP: unknown steps {sorted(unknown)}; known: {STEPS}")
        as_of = dt.date.fromisoformat(env.get("BENCH_AS_OF", "2026-06-30"))
        mid = env.get("BENCH_MID_MONTH") or (as_of - dt.timedelta(days=15)).isoformat()
        return cls(
            sizes=tuple(int(s) for s in sizes.split(",") if s.strip()),
            repeats=int(repeats) if repeats else None,
            seed=int(env.get("BENCH_SEED", "42")),
            as_of=as_of,
            rate=float(env.get("BENCH_RATE", "10")),
            rate_days=int(env.get("BENCH_RATE_DAYS", "0")),
            rate_requests=int(env.get("BENCH_RATE_REQUESTS", "150")),
            e2e_repeats=int(env.get("BENCH_E2E_REPEATS", "1")),
            ceiling_threads=int(env.get("BENCH_CEILING_THREADS", "4")),
            skip=skip,
            mid_month=dt.date.fromisoformat(mid),
            tenant_dir=Path(env.get("BENCH_TENANT_DIR", REPO_ROOT / "data/bench/tenants")),
            work_dir=Path(env.get("BENCH_WORK_DIR", REPO_ROOT / "data/bench/work")),
            quick=quick,
        )

    def repeats_for(self, customers: int) -> int:
        if self.repeats is not None:
            return self.repeats
        return 3 if customers <= 1000 else 2


# ------------------------------------------------------------------------ child processes


@dataclass
class Child:
    """A finished child process: its last JSON line, wall time, peak RSS and exit code."""

    result: dict[str, Any]
    wall_s: float
    max_rss_mb: float
    returncode: int
    log: Path
    load_avg: tuple[float, float, float] = (0.0, 0.0, 0.0)


def run_child(command: list[str], env: dict[str, str], log: Path, what: str) -> Child:
    """Runs `command` from the repo root; peak RSS from `wait4` (this child and the descendants
    it waited for). stderr goes to `log`; raises BenchError naming `what` on failure."""
    full_env = {**os.environ, **env, "PYTHONPATH": str(REPO_ROOT), "PYTHONUNBUFFERED": "1"}
    log.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    with log.open("w", encoding="utf-8") as stderr:
        process = subprocess.Popen(
            command,
            cwd=REPO_ROOT,
            env=full_env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )
        assert process.stdout is not None
        stdout = process.stdout.read()
        process.stdout.close()
        _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    returncode = os.waitstatus_to_exitcode(status)
    process.returncode = returncode  # reaped by wait4; keep Popen from waiting again
    lines = [line for line in stdout.splitlines() if line.strip()]
    result: dict[str, Any] = {}
    if lines:
        try:
            result = json.loads(lines[-1])
        except ValueError:
            result = {"stdout_tail": lines[-1][:500]}
    child = Child(result, wall, usage.ru_maxrss / 1024, returncode, log, os.getloadavg())
    if returncode != 0:
        tail = log.read_text(encoding="utf-8", errors="replace")[-1500:]
        raise BenchError(f"{what} exited with {returncode}; log {log}:\n{tail}")
    return child


def python_step(*args: str) -> list[str]:
    return [sys.executable, "-m", "benchmarks.steps", *args]


# ------------------------------------------------------------------------------- tenants


def tenant_file(config: Config, customers: int, as_of: dt.date) -> Path:
    """The tenant JSON for these arguments, generated once (in a child process) and cached."""
    start = default_start(config.as_of)  # fixed for D and D+1, so D+1 is D advanced a day
    name = f"tenant_v{GENERATOR_VERSION}_c{customers}_s{config.seed}_{start}_{as_of}.json"
    path = config.tenant_dir / name
    if path.exists():
        return path
    print(f"  generating {customers} customers as of {as_of} ...", flush=True)
    partial = path.with_suffix(".partial")
    command = [sys.executable, "-m", "ordway_sandbox", "generate"]
    command += ["--customers", str(customers), "--seed", str(config.seed)]
    command += ["--as-of", as_of.isoformat(), "--start", start.isoformat(), "--out", str(partial)]
    child = run_child(command, {}, config.work_dir / "logs" / f"{name}.log", "tenant generation")
    partial.rename(path)
    print(f"  generated in {child.wall_s:.0f} s (peak {child.max_rss_mb:.0f} MB)", flush=True)
    return path


# ------------------------------------------------------------------------------ the steps


@dataclass
class SizeResult:
    customers: int
    runs: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def add(self, step: str, run: dict[str, Any]) -> None:
        self.runs.setdefault(step, []).append(run)

    def median(self, step: str, key: str) -> float | None:
        values = [r[key] for r in self.runs.get(step, []) if r.get(key) is not None]
        return statistics.median(values) if values else None


def source_env(sandbox: SandboxProcess, workdir: Path, **extra: str) -> dict[str, str]:
    return {
        **credentials_env(),
        "ORDWAY_BASE_URL": sandbox.base_url,
        "ORDWAY_MAX_RPS": "0",
        "DUCKDB_PATH": str(workdir / "ordway.duckdb"),
        "DLT_PIPELINES_DIR": str(workdir / "dlt"),
        "RUNTIME__LOG_LEVEL": "WARNING",
        **extra,
    }


def request_counts(sandbox: SandboxProcess) -> dict[str, Any]:
    """Requests of the last step by status and collection. The customers' sub-resources
    (`/customers/<id>/customer_notes`, `.../payment_methods`) count under their own name in the
    sandbox's stats; the customers listings the source reads to choose whose to read count under
    `customers`."""
    stats = sandbox.stats()
    statuses = {str(k): int(v) for k, v in stats.get("statuses", {}).items()}
    by_collection = stats.get("requests", {})
    per_customer = [name for name, c in COLLECTIONS.items() if c.parent]
    return {
        "requests": sum(statuses.values()),
        "requests_ok": statuses.get("200", 0),
        "status_429": statuses.get("429", 0),
        "requests_by_collection": by_collection,
        "per_customer_requests": sum(int(by_collection.get(n, 0)) for n in per_customer),
    }


def fresh_dir(path: Path) -> Path:
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


def measure_ceiling(config: Config, sandbox: SandboxProcess, size: SizeResult, logs: Path) -> None:
    for repeat in range(config.repeats_for(size.customers)):
        sandbox.reset_stats()
        args = ["ceiling", "--base-url", sandbox.base_url]
        args += ["--threads", str(config.ceiling_threads)]
        child = run_child(python_step(*args), {}, logs / f"ceiling-{repeat}.log", "ceiling")
        run = {**child.result, "max_rss_mb": child.max_rss_mb, "load_avg": child.load_avg}
        size.add("ceiling", run)
        print(f"  ceiling #{repeat + 1}: {run['wall_s']:.1f} s, {run['pages']} pages", flush=True)


def measure_full(
    config: Config, sandbox: SandboxProcess, size: SizeResult, work: Path, logs: Path
) -> Path:
    """Full loads into fresh directories; returns the directory of the last one (the baseline
    that nightly, dbt and e2e copy)."""
    baseline = work / "baseline"
    for repeat in range(config.repeats_for(size.customers)):
        target = fresh_dir(work / "full")
        sandbox.reset_stats()
        env = source_env(sandbox, target)
        child = run_child(python_step("extract", "--mode", "full"), env, logs / "full.log", "full")
        run = {**child.result, **request_counts(sandbox), "max_rss_mb": child.max_rss_mb}
        run["records_per_s"] = run["records"] / run["wall_s"]
        run["load_avg"] = child.load_avg
        size.add("full", run)
        print(
            f"  full load #{repeat + 1}: {run['wall_s']:.1f} s, {run['records']} records, "
            f"{run['max_rss_mb']:.0f} MB, steps {_fmt_steps(run['steps_s'])}",
            flush=True,
        )
        shutil.rmtree(baseline, ignore_errors=True)
        target.rename(baseline)
    return baseline


def measure_tap(
    config: Config, sandbox: SandboxProcess, size: SizeResult, work: Path, logs: Path
) -> None:
    """Singer's tap-ordway on the tenant the full load read: discovery, then a sync of every
    stream to /dev/null (timed). Installed on first use (PyPI), before the clock starts."""
    for repeat in range(config.repeats_for(size.customers)):
        target = fresh_dir(work / "tap")
        sandbox.reset_stats()
        args = ["tap", "--base-url", sandbox.base_url, "--workdir", str(target)]
        child = run_child(python_step(*args), {}, logs / "tap.log", "tap-ordway")
        run = {**child.result, **request_counts(sandbox), "max_rss_mb": child.max_rss_mb}
        run["load_avg"] = child.load_avg
        size.add("tap", run)
        print(
            f"  tap-ordway #{repeat + 1}: {run['wall_s']:.1f} s, {run['requests']} requests, "
            f"{run['max_rss_mb']:.0f} MB",
            flush=True,
        )
        shutil.rmtree(target, ignore_errors=True)


def rate_limited_selection(config: Config, size: SizeResult) -> tuple[int, list[str]]:
    """Days of changes and collections for the rate-limited run, sized for about
    BENCH_RATE_REQUESTS requests from the month-start nightly's requests per collection.

    The incremental collections read page by page; the per-customer ones (one listing per
    changed customer, ~650 requests on a month start at 1,000 customers) are left out. Days:
    BENCH_RATE_DAYS if set, else enough for that many requests (at least one). When one day
    alone is well over it (a month start at 10,000 customers), that day for the smallest
    collections that together reach it."""
    candidates = [n for n in INCREMENTAL_COLLECTIONS if not COLLECTIONS[n].parent]
    if config.rate_days:
        return config.rate_days, candidates
    nightly = size.runs.get("nightly", [])
    by_collection = nightly[0].get("requests_by_collection", {}) if nightly else {}
    # one request per collection is the closing empty page, whatever the window
    per_day = {name: max(int(by_collection.get(name, 0)) - 1, 0) for name in candidates}
    total = sum(per_day.values())
    if total <= 1.5 * config.rate_requests:
        return max(1, min(365, round(config.rate_requests / max(total, 1)))), candidates
    chosen: list[str] = []
    requests = 0
    for name in sorted(candidates, key=lambda n: (per_day[n], n)):
        if requests >= config.rate_requests:
            break
        chosen.append(name)
        requests += per_day[name] + 1
    return 1, chosen


def measure_ratelimited(
    config: Config, sandbox: SandboxProcess, size: SizeResult, work: Path, logs: Path
) -> None:
    """Runs on the D+1 sandbox: changes of the last N days into a fresh warehouse, rate-limited
    on both sides. Achieved rate = successful requests / dlt's extract step time."""
    days, resources = rate_limited_selection(config, size)
    start = config.as_of + dt.timedelta(days=1) - dt.timedelta(days=days)
    sandbox.set_faults({"rate_limit": config.rate, "burst": 2})
    try:
        for repeat in range(config.repeats_for(size.customers)):
            target = fresh_dir(work / "ratelimited")
            sandbox.reset_stats()
            env = source_env(
                sandbox, target, ORDWAY_MAX_RPS=f"{config.rate:g}", ORDWAY_START_DATE=str(start)
            )
            args = ["extract", "--mode", "incremental"]
            args += ["--resources", ",".join(resources)]
            child = run_child(python_step(*args), env, logs / "ratelimited.log", "rate-limited")
            run = {**child.result, **request_counts(sandbox), "max_rss_mb": child.max_rss_mb}
            extract_s = run["steps_s"]["extract"]
            run["achieved_rps"] = run["requests_ok"] / extract_s
            run["achieved_ratio"] = run["achieved_rps"] / config.rate
            run["window_days"] = days
            run["collections"] = resources
            run["load_avg"] = child.load_avg
            size.add("ratelimited", run)
            print(
                f"  rate-limited #{repeat + 1}: {run['requests_ok']} requests in "
                f"{extract_s:.1f} s = {run['achieved_rps']:.2f}/s of {config.rate:g}, "
                f"{run['status_429']} x 429",
                flush=True,
            )
            shutil.rmtree(target, ignore_errors=True)
    finally:
        sandbox.set_faults({})


def measure_nightly(
    config: Config,
    sandbox: SandboxProcess,
    size: SizeResult,
    baseline: Path,
    work: Path,
    logs: Path,
    step: str = "nightly",
) -> None:
    """Incremental runs on copies of `baseline` against the sandbox's next day."""
    for repeat in range(config.repeats_for(size.customers)):
        target = work / step
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(baseline, target)
        sandbox.reset_stats()
        env = source_env(sandbox, target)
        args = ["extract", "--mode", "incremental"]
        child = run_child(python_step(*args), env, logs / f"{step}.log", step)
        run = {**child.result, **request_counts(sandbox), "max_rss_mb": child.max_rss_mb}
        run["load_avg"] = child.load_avg
        size.add(step, run)
        print(
            f"  {step} #{repeat + 1}: {run['wall_s']:.1f} s, {run['requests']} requests "
            f"({run['per_customer_requests']} of them customers' notes and payment methods), "
            f"{run['records']} records changed, {run['max_rss_mb']:.0f} MB, "
            f"steps {_fmt_steps(run['steps_s'])}",
            flush=True,
        )
        shutil.rmtree(target, ignore_errors=True)


def catch_up(sandbox: SandboxProcess, size: SizeResult, baseline: Path, logs: Path) -> None:
    """Brings `baseline` (loaded as of the mid-month day) to D with one incremental run: the
    warehouse every D+1 step starts from. Timed, not part of any goal."""
    env = source_env(sandbox, baseline)
    child = run_child(
        python_step("extract", "--mode", "incremental"), env, logs / "catchup.log", "catch-up"
    )
    size.add("catchup", {**child.result, "max_rss_mb": child.max_rss_mb})
    print(f"  catch-up to D: {child.result['wall_s']:.1f} s, {child.result['records']} records")


def measure_dbt(config: Config, size: SizeResult, baseline: Path, work: Path, logs: Path) -> None:
    dbt = str(Path(sys.executable).with_name("dbt"))
    project = REPO_ROOT / "dbt_project"
    for repeat in range(config.repeats_for(size.customers)):
        target = fresh_dir(work / "dbt")
        shutil.copy2(baseline / "ordway.duckdb", target / "ordway.duckdb")
        env = {
            "DUCKDB_PATH": str(target / "ordway.duckdb"),
            "DBT_TARGET": "duckdb",
            "DBT_PROFILES_DIR": str(project),
        }
        command = [dbt, "build", "--project-dir", str(project), "--profiles-dir", str(project)]
        command += ["--target-path", str(target / "target"), "--log-path", str(target / "logs")]
        command += ["--vars", json.dumps({"as_of_date": config.as_of.isoformat()})]
        try:
            child = run_child(command, env, logs / "dbt.log", "dbt build")
            ok = True
        except BenchError as exc:
            print(f"  dbt build failed: {str(exc)[:400]}", flush=True)
            ok = False
            child = None
        run = {
            "ok": ok,
            "wall_s": child.wall_s if child else None,
            "max_rss_mb": child.max_rss_mb if child else None,
            "load_avg": child.load_avg if child else None,
            "summary": child.result.get("stdout_tail") if child else None,  # dbt's "Done." line
        }
        size.add("dbt", run)
        if child:
            print(
                f"  dbt build #{repeat + 1}: {child.wall_s:.1f} s, {child.max_rss_mb:.0f} MB",
                flush=True,
            )
        shutil.rmtree(target, ignore_errors=True)


def measure_e2e(
    config: Config, sandbox: SandboxProcess, size: SizeResult, baseline: Path, work: Path, logs
) -> None:
    partition = (config.as_of + dt.timedelta(days=1)).isoformat()
    with tempfile.TemporaryDirectory(prefix="bench-dagster-") as home:
        env = source_env(sandbox, work / "overhead", DAGSTER_HOME=home, AS_OF_DATE=partition)
        child = run_child(
            python_step("dagster-overhead"), env, logs / "overhead.log", "Dagster start-up"
        )
        run = {**child.result, "wall_s": child.wall_s, "max_rss_mb": child.max_rss_mb}
        run["start_s"] = child.wall_s - child.result["in_process_s"]
        size.add("overhead", run)
        print(
            f"  nightly job start-up: {child.wall_s:.1f} s (interpreter {run['start_s']:.1f}, "
            f"imports {run['imports_s']:.1f}, dbt parse {run['dbt_parse_s']:.1f}, definitions "
            f"{run['definitions_s']:.1f})",
            flush=True,
        )
    for repeat in range(config.e2e_repeats):
        target = work / "e2e"
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(baseline, target)
        with tempfile.TemporaryDirectory(prefix="bench-dagster-") as home:
            env = source_env(sandbox, target, DAGSTER_HOME=home, AS_OF_DATE=partition)
            command = [sys.executable, "-m", "scripts.run_nightly", "--partition", partition]
            try:
                child = run_child(command, env, logs / "e2e.log", "nightly Dagster job")
                run = {"ok": True, "wall_s": child.wall_s, "max_rss_mb": child.max_rss_mb}
                run["load_avg"] = child.load_avg
                print(f"  e2e nightly job #{repeat + 1}: {child.wall_s:.1f} s", flush=True)
            except BenchError as exc:
                print(f"  e2e nightly job failed: {str(exc)[-600:]}", flush=True)
                run = {"ok": False, "wall_s": None, "max_rss_mb": None}
            if run["ok"]:
                try:
                    steps = run_child(
                        python_step("dagster-steps"), env, logs / "e2e-steps.log", "event log"
                    ).result
                except BenchError as exc:  # the job's figures stand; only the split is missing
                    print(f"  its event log could not be read: {str(exc)[-600:]}", flush=True)
                else:
                    run.update(job_breakdown(run["wall_s"], steps))
                    print(
                        f"    of which extract {run['extract_s']:.1f}, dbt command "
                        f"{run['dbt_command_s']:.1f}; overhead {run['overhead_s']:.1f} (before "
                        f"the run {run['before_run_s']:.1f}, around the dbt command "
                        f"{run['dbt_around_s']:.1f}, other steps {run['other_steps_s']:.1f})",
                        flush=True,
                    )
        size.add("e2e", run)
        shutil.rmtree(target, ignore_errors=True)
        if not run["ok"]:
            break


def job_breakdown(wall_s: float, steps: dict[str, Any]) -> dict[str, Any]:
    """The nightly job's own overhead: its wall time minus the work the benchmark measures on
    its own (the extract steps, the `dbt build` command), and where that overhead went."""
    run_s = steps.get("run_s") or 0.0
    extract = steps["extract_steps_s"]
    command = steps.get("dbt_command_s")
    if command is None:  # no dbt messages found: count the whole dbt step as work
        command = steps.get("dbt_step_s") or 0.0
    return {
        "job_steps": steps,
        "extract_s": extract,
        "dbt_command_s": command,
        "overhead_s": wall_s - extract - command,
        "before_run_s": wall_s - run_s,
        "dbt_around_s": (steps.get("dbt_step_s") or 0.0) - command,
        "other_steps_s": steps["other_steps_s"],
    }


def _fmt_steps(steps: dict[str, float]) -> str:
    return " ".join(f"{k}={v:.1f}" for k, v in steps.items() if k != "run")


def bench_size(config: Config, customers: int) -> SizeResult:
    size = SizeResult(customers)
    print(f"== {customers} customers", flush=True)
    mid = config.mid_month
    tenants = [tenant_file(config, customers, day) for day in (mid, mid + ONE_DAY)]
    day0, day1 = (
        tenant_file(config, customers, day) for day in (config.as_of, config.as_of + ONE_DAY)
    )
    work = fresh_dir(config.work_dir / str(customers))
    logs = work / "logs"
    baseline: Path | None = None
    # The full load reads the tenant as of the mid-month day; the mid-month night runs on it,
    # then one incremental run catches the warehouse up to D for the month-start night.
    with SandboxProcess([], tenant=tenants[0], startup_timeout=900) as sandbox:
        if "ceiling" not in config.skip:
            measure_ceiling(config, sandbox, size, logs)
        if "full" not in config.skip:
            baseline = measure_full(config, sandbox, size, work, logs)
        if "tap" not in config.skip and customers <= TAP_GOAL_CUSTOMERS:
            measure_tap(config, sandbox, size, work, logs)
    if baseline is None:
        return size
    if "nightly" not in config.skip:
        with SandboxProcess([], tenant=tenants[1], startup_timeout=900) as sandbox:
            measure_nightly(config, sandbox, size, baseline, work, logs, step="nightly_mid")
    with SandboxProcess([], tenant=day0, startup_timeout=900) as sandbox:
        catch_up(sandbox, size, baseline, logs)
    if not {"nightly", "ratelimited", "e2e"} <= config.skip:
        with SandboxProcess([], tenant=day1, startup_timeout=900) as sandbox:
            if "nightly" not in config.skip:
                measure_nightly(config, sandbox, size, baseline, work, logs)
            if "ratelimited" not in config.skip:
                measure_ratelimited(config, sandbox, size, work, logs)
            if "e2e" not in config.skip:
                measure_e2e(config, sandbox, size, baseline, work, logs)
    if "dbt" not in config.skip:
        measure_dbt(config, size, baseline, work, logs)
    shutil.rmtree(baseline, ignore_errors=True)
    return size


# ------------------------------------------------------------------------------ reporting


def machine() -> dict[str, Any]:
    mem_kb = 0
    with open("/proc/meminfo", encoding="utf-8") as meminfo:
        for line in meminfo:
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "ram_gb": round(mem_kb / 1024 / 1024, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def summarize(size: SizeResult) -> dict[str, Any]:
    """Medians (and the ratios of medians) of one size."""
    m = size.median
    full = m("full", "wall_s")
    ceiling = m("ceiling", "wall_s")
    nightly = m("nightly", "wall_s")
    mid = m("nightly_mid", "wall_s")
    tap = m("tap", "wall_s")
    return {
        "customers": size.customers,
        "records": m("full", "records"),
        "rows": m("full", "rows"),
        "pages": m("ceiling", "pages"),
        "ceiling_s": ceiling,
        "full_s": full,
        "full_extract_s": _median_step(size, "full", "extract"),
        "full_normalize_s": _median_step(size, "full", "normalize"),
        "full_load_s": _median_step(size, "full", "load"),
        "full_records_per_s": m("full", "records_per_s"),
        "full_requests": m("full", "requests"),
        "full_rss_mb": m("full", "max_rss_mb"),
        "ceiling_over_full": ceiling / full if ceiling and full else None,
        "tap_s": tap,
        "tap_requests": m("tap", "requests"),
        "tap_rss_mb": m("tap", "max_rss_mb"),
        "full_over_tap": full / tap if full and tap else None,
        "nightly_s": nightly,
        "nightly_requests": m("nightly", "requests"),
        "nightly_fan_out": m("nightly", "per_customer_requests"),
        "nightly_records": m("nightly", "records"),
        "nightly_rss_mb": m("nightly", "max_rss_mb"),
        "nightly_over_full": nightly / full if nightly and full else None,
        "mid_s": mid,
        "mid_requests": m("nightly_mid", "requests"),
        "mid_fan_out": m("nightly_mid", "per_customer_requests"),
        "mid_records": m("nightly_mid", "records"),
        "mid_rss_mb": m("nightly_mid", "max_rss_mb"),
        "mid_over_full": mid / full if mid and full else None,
        "catchup_s": m("catchup", "wall_s"),
        "rate_achieved_rps": m("ratelimited", "achieved_rps"),
        "rate_ratio": m("ratelimited", "achieved_ratio"),
        "rate_429": m("ratelimited", "status_429"),
        "rate_requests": m("ratelimited", "requests_ok"),
        "dbt_s": m("dbt", "wall_s"),
        "dbt_rss_mb": m("dbt", "max_rss_mb"),
        "dbt_ok": all(r.get("ok") for r in size.runs.get("dbt", [])) or None,
        "e2e_s": m("e2e", "wall_s"),
        "e2e_ok": all(r.get("ok") for r in size.runs.get("e2e", [])) or None,
        "e2e_extract_s": m("e2e", "extract_s"),
        "e2e_dbt_command_s": m("e2e", "dbt_command_s"),
        "e2e_overhead_s": m("e2e", "overhead_s"),
        "e2e_before_run_s": m("e2e", "before_run_s"),
        "e2e_dbt_around_s": m("e2e", "dbt_around_s"),
        "e2e_other_steps_s": m("e2e", "other_steps_s"),
        "startup_s": m("overhead", "wall_s"),
        "startup_interpreter_s": m("overhead", "start_s"),
        "startup_imports_s": m("overhead", "imports_s"),
        "startup_dbt_parse_s": m("overhead", "dbt_parse_s"),
        "startup_definitions_s": m("overhead", "definitions_s"),
        "repeats": {step: len(runs) for step, runs in size.runs.items()},
        "load_avg": [r.get("load_avg") for runs in size.runs.values() for r in runs],
    }


def _median_step(size: SizeResult, step: str, name: str) -> float | None:
    values = [r["steps_s"][name] for r in size.runs.get(step, []) if name in r.get("steps_s", {})]
    return statistics.median(values) if values else None


ROWS: list[tuple[str, str, str]] = [
    # (label, key, format)
    ("records (API objects) / rows loaded", "records_rows", ""),
    ("pages (every collection)", "pages", "{:,.0f}"),
    ("1. ceiling: plain concurrent httpx, s", "ceiling_s", "{:.1f}"),
    ("2. full load: extract + normalize + load, s", "full_s", "{:.1f}"),
    ("   of which extract / normalize / load, s", "full_steps", ""),
    ("   records per second", "full_records_per_s", "{:,.0f}"),
    ("   peak RSS, MB", "full_rss_mb", "{:,.0f}"),
    ("   ratio ceiling / full load (goal >= 0.25)", "ceiling_over_full", "{:.2f}"),
    ("   tap-ordway 0.4.6, every stream to /dev/null, s", "tap_s", "{:.1f}"),
    ("   tap-ordway requests, peak RSS MB", "tap_counts", ""),
    ("   ratio full load / tap-ordway (goal <= 0.2)", "full_over_tap", "{:.2f}"),
    ("3a. nightly, month start (D -> D+1): requests", "nightly_requests", "{:,.0f}"),
    ("   of which customers' notes and payment methods", "nightly_fan_out", "{:,.0f}"),
    ("   records changed and loaded", "nightly_records", "{:,.0f}"),
    ("   time, s", "nightly_s", "{:.1f}"),
    ("   peak RSS, MB", "nightly_rss_mb", "{:,.0f}"),
    ("   ratio nightly / full load (goal < 0.05)", "nightly_over_full", "{:.3f}"),
    ("   (before it: one catch-up run M -> D, s)", "catchup_s", "{:.1f}"),
    ("3b. nightly, mid-month (M -> M+1): requests", "mid_requests", "{:,.0f}"),
    ("   of which customers' notes and payment methods", "mid_fan_out", "{:,.0f}"),
    ("   records changed and loaded", "mid_records", "{:,.0f}"),
    ("   time, s", "mid_s", "{:.1f}"),
    ("   peak RSS, MB", "mid_rss_mb", "{:,.0f}"),
    ("   ratio nightly / full load (goal < 0.02)", "mid_over_full", "{:.3f}"),
    ("4. rate-limited: achieved / allowed rate (goal >= 0.95, no 429)", "rate_ratio", "{:.2f}"),
    ("   requests, 429s received", "rate_counts", ""),
    ("5. dbt build, s (goal < 30)", "dbt_s", "{:.1f}"),
    ("   peak RSS, MB", "dbt_rss_mb", "{:,.0f}"),
    ("6. end to end: nightly Dagster job, s", "e2e_s", "{:.1f}"),
    ("   of which the work: extract steps / `dbt build` command, s", "e2e_work", ""),
    ("   its own overhead (the rest), s", "e2e_overhead_s", "{:.1f}"),
    ("   of which before the run / around dbt / other steps (checks), s", "e2e_parts", ""),
    ("   start-up alone (child process), s", "startup_s", "{:.1f}"),
    ("   of which interpreter / imports / dbt parse / definitions, s", "startup_parts", ""),
]


def _cell(summary: dict[str, Any], key: str, fmt: str) -> str:
    if key == "records_rows":
        records, rows = summary.get("records"), summary.get("rows")
        return f"{records:,.0f} / {rows:,.0f}" if records and rows else "n/a"
    if key == "full_steps":
        parts = [summary.get(f"full_{s}_s") for s in ("extract", "normalize", "load")]
        return " / ".join(f"{p:.1f}" for p in parts) if all(parts) else "n/a"
    if key == "rate_counts":
        requests, errors = summary.get("rate_requests"), summary.get("rate_429")
        return f"{requests:,.0f}, {errors:,.0f}" if requests is not None else "n/a"
    if key == "tap_counts":
        requests, rss = summary.get("tap_requests"), summary.get("tap_rss_mb")
        return f"{requests:,.0f}, {rss:,.0f}" if requests is not None and rss else "n/a"
    if key in ("e2e_work", "e2e_parts"):
        names = (
            ("extract", "dbt_command")
            if key == "e2e_work"
            else ("before_run", "dbt_around", "other_steps")
        )
        parts = [summary.get(f"e2e_{n}_s") for n in names]
        return " / ".join(f"{p:.1f}" for p in parts) if None not in parts else "n/a"
    if key == "startup_parts":
        names = ("interpreter", "imports", "dbt_parse", "definitions")
        parts = [summary.get(f"startup_{n}_s") for n in names]
        return " / ".join(f"{p:.1f}" for p in parts) if None not in parts else "n/a"
    value = summary.get(key)
    if key in ("dbt_s", "e2e_s") and summary.get(key.replace("_s", "_ok")) is False:
        return "failed"
    return fmt.format(value) if value is not None else "n/a"


def table(summaries: list[dict[str, Any]]) -> str:
    header = "| metric (median) | " + " | ".join(f"{s['customers']:,} customers" for s in summaries)
    lines = [header + " |", "|---|" + "---:|" * len(summaries)]
    for label, key, fmt in ROWS:
        cells = " | ".join(_cell(s, key, fmt) for s in summaries)
        lines.append(f"| {label} | {cells} |")
    return "\n".join(lines)


#: "Flat in tenant size": the largest tenant's full-load peak RSS at most this many times the
#: smallest's (10x the customers at the default sizes).
FLAT_RSS_RATIO = 1.15


def goals(summaries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Issue 17's goals, each met (True), not met (False) or not measured (None). Judged on the
    largest size measured (the issue's figures are for 10,000 customers: the `customers`
    column says which size a goal was judged on), the tap-ordway comparison on 1,000
    customers, flatness on the largest against the smallest size."""
    large, small = summaries[-1], summaries[0]
    at_tap_size = next((s for s in summaries if s["customers"] == TAP_GOAL_CUSTOMERS), None)

    def check(
        name: str, summary: dict[str, Any] | None, value: Any, ok: bool | None, target: str
    ) -> dict[str, Any]:
        customers = summary["customers"] if summary else None
        met = None if value is None else ok
        return {"goal": name, "customers": customers, "value": value, "target": target, "met": met}

    def ge(value: float | None, limit: float) -> bool | None:
        return None if value is None else value >= limit

    def le(value: float | None, limit: float) -> bool | None:
        return None if value is None else value <= limit

    def lt(value: float | None, limit: float) -> bool | None:
        return None if value is None else value < limit

    tap_ratio = at_tap_size["full_over_tap"] if at_tap_size else None
    rate, errors = large["rate_ratio"], large["rate_429"]
    flat = None
    if len(summaries) > 1 and large["full_rss_mb"] and small["full_rss_mb"]:
        flat = large["full_rss_mb"] / small["full_rss_mb"]
    overhead = large["e2e_overhead_s"]
    return [
        check(
            "full load: ceiling / full load",
            large,
            large["ceiling_over_full"],
            ge(large["ceiling_over_full"], 0.25),
            ">= 0.25",
        ),
        check(
            "full load / tap-ordway wall time",
            at_tap_size,
            tap_ratio,
            le(tap_ratio, 0.2),
            f"<= 0.2 at {TAP_GOAL_CUSTOMERS:,} customers",
        ),
        check(
            "full load peak RSS, MB",
            large,
            large["full_rss_mb"],
            lt(large["full_rss_mb"], 400),
            "< 400",
        ),
        check(
            f"full load peak RSS flat in size (largest / {small['customers']:,} customers)",
            large,
            flat,
            le(flat, FLAT_RSS_RATIO),
            f"<= {FLAT_RSS_RATIO}",
        ),
        check(
            "nightly mid-month / full load",
            large,
            large["mid_over_full"],
            lt(large["mid_over_full"], 0.02),
            "< 0.02",
        ),
        check(
            "nightly month start / full load",
            large,
            large["nightly_over_full"],
            lt(large["nightly_over_full"], 0.05),
            "< 0.05",
        ),
        check(
            "rate-limited: achieved / allowed rate, 429s",
            large,
            rate,
            None if rate is None else rate >= 0.95 and (errors or 0) == 0,
            ">= 0.95 with no 429",
        ),
        check("dbt build, s", large, large["dbt_s"], lt(large["dbt_s"], 30), "< 30"),
        check(
            "nightly Dagster job's own overhead, s (job - extract - dbt command)",
            large,
            overhead,
            True,
            "measured and reported",
        ),
    ]


def markdown(report: dict[str, Any]) -> str:
    m = report["machine"]
    lines = [
        "# Benchmark results",
        "",
        f"Command: `{report['command']}`  ",
        f"Date: {report['date']}  ",
        f"Machine: {m['nproc']} CPUs ({m['cpu']}), {m['ram_gb']} GB RAM, Python {m['python']}, "
        f"{m['platform']}  ",
        f"Load average at start / end: {report['load_start']} / {report['load_end']} "
        "(a shared machine moves absolute times: compare ratios within a run)  ",
        f"Tenants: seed {report['config']['seed']}, as of {report['config']['as_of']} "
        f"(36 months of history); full load and ceiling on the tenant as of "
        f"M = {report['config']['mid_month']}; nightlies: M -> M+1 (mid-month) and, after one "
        f"catch-up run to D, D -> D+1 (month start).  ",
        f"Repeats (median): {report['repeats']}; rate limit R = {report['config']['rate']:g} "
        "req/s.",
        "",
        report["table"],
        "",
        "| goal | customers | value | target | met |",
        "|---|---:|---:|---|---|",
    ]
    for g in report["goals"]:
        value = g["value"]
        shown = f"{value:.3g}" if isinstance(value, float) else str(value)
        met = {True: "yes", False: "**no**", None: "not measured"}[g["met"]]
        customers = f"{g['customers']:,}" if g["customers"] else "n/a"
        shown = shown if value is not None else "n/a"
        lines.append(f"| {g['goal']} | {customers} | {shown} | {g['target']} | {met} |")
    return "\n".join(lines) + "\n"


def main() -> int:
    config = Config.from_env()
    started = dt.datetime.now(dt.UTC)
    load_start = tuple(round(x, 2) for x in os.getloadavg())
    print(f"benchmark: sizes {config.sizes}, repeats {config.repeats or '3 (<=1000) / 2'}")
    summaries, raw = [], {}
    for customers in config.sizes:
        size = bench_size(config, customers)
        summaries.append(summarize(size))
        raw[str(customers)] = size.runs
    knobs = {k: v for k, v in os.environ.items() if k.startswith("BENCH_")}
    command = " ".join([*(f"{k}={v}" for k, v in sorted(knobs.items())), "make bench"])
    report = {
        "command": command,
        "date": started.strftime("%Y-%m-%d %H:%M UTC"),
        "duration_s": (dt.datetime.now(dt.UTC) - started).total_seconds(),
        "machine": machine(),
        "load_start": load_start,
        "load_end": tuple(round(x, 2) for x in os.getloadavg()),
        "config": {
            "sizes": config.sizes,
            "seed": config.seed,
            "as_of": config.as_of.isoformat(),
            "mid_month": config.mid_month.isoformat(),
            "rate": config.rate,
            "rate_days": config.rate_days or "auto",
            "rate_requests": config.rate_requests,
            "ceiling_threads": config.ceiling_threads,
            "collections": sorted(COLLECTIONS),
        },
        "repeats": {str(s["customers"]): s["repeats"] for s in summaries},
        "summaries": summaries,
        "runs": raw,
    }
    try:  # delivery -> receiver -> sensor -> targeted run -> published mart (small tenant)
        log = config.work_dir / "logs" / "webhook_latency.log"
        command = [sys.executable, "-m", "benchmarks.webhook_latency"]
        report["webhook_latency"] = run_child(command, {}, log, "webhook latency").result
        print(webhook_latency.describe(report["webhook_latency"]), flush=True)
    except RuntimeError as exc:
        print(f"webhook latency failed: {str(exc)[-600:]}", flush=True)
        report["webhook_latency"] = {"error": str(exc)[-600:]}
    report["table"] = table(summaries)
    report["goals"] = goals(summaries)
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    (RESULTS_DIR / "latest.json").write_text(json.dumps(report, indent=2, default=str))
    text = markdown(report)
    (RESULTS_DIR / "latest.md").write_text(text, encoding="utf-8")
    complete = not config.quick and not config.skip and config.sizes == DEFAULT_SIZES
    if complete:
        RESULTS_MD.write_text(text, encoding="utf-8")
    print()
    print(text)
    written = [RESULTS_DIR / "latest.json", RESULTS_DIR / "latest.md"]
    print("wrote " + ", ".join(map(str, [*written, *([RESULTS_MD] if complete else [])])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
