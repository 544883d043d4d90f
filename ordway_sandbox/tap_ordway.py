"""Singer's tap-ordway, a public client written against the real Ordway API, run against the
sandbox from a virtual environment of its own (never the project's).

The tap is installed from PyPI on first use under ``.cache/tap-ordway-<version>/`` (git-ignored)
and reused afterwards, so only the first run needs the network. Used by the fidelity test
(``tests/ordway_sandbox/test_tap_ordway_fidelity.py``: the tap reads every stream and the same
ids as our source) and by the benchmark (``benchmarks/``: the tap's wall time on the tenant the
full load reads).

    python = tap_environment()
    config = tap_config(sandbox.base_url)
    catalog = discover(python, config, workdir)          # every stream selected
    done = sync(python, config, catalog, workdir, stdout=subprocess.DEVNULL)
"""

from __future__ import annotations

import fcntl
import json
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any

from ordway_sandbox.process import credentials_env

REPO_ROOT = Path(__file__).resolve().parents[1]
TAP_VERSION = "0.4.6"
CACHE_DIR = REPO_ROOT / ".cache"
#: Runs the tap's console entry point with the environment's own interpreter.
_ENTRY = "import sys, tap_ordway; sys.exit(tap_ordway.main())"
#: Longest a discovery or sync may take (a 1,000-customer sync takes about a minute).
TIMEOUT_S = 3600


class TapError(RuntimeError):
    """The tap could not be installed or did not finish cleanly (the message has its stderr)."""


def tap_environment(version: str = TAP_VERSION) -> Path:
    """The interpreter of a virtual environment holding ``tap-ordway==version`` (created with
    ``python -m venv`` and pip on first use, under a file lock so parallel callers install
    once)."""
    home = CACHE_DIR / f"tap-ordway-{version}"
    python = home / "bin" / "python"
    marker = home / ".installed"
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    with (CACHE_DIR / f"tap-ordway-{version}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not marker.exists():
            _run([sys.executable, "-m", "venv", "--clear", str(home)], "create the venv")
            _run(
                [str(python), "-m", "pip", "install", "--quiet", f"tap-ordway=={version}"],
                f"pip install tap-ordway=={version} (needs PyPI once)",
            )
            marker.write_text(version)
    return python


def _run(command: list[str], what: str) -> None:
    done = subprocess.run(command, capture_output=True, text=True, timeout=900, check=False)
    if done.returncode != 0:
        raise TapError(f"could not {what}: exit {done.returncode}\n{done.stderr[-3000:]}")


def tap_config(
    base_url: str,
    credentials: Mapping[str, str] | None = None,
    start_date: str = "2000-01-01T00:00:00Z",
) -> dict[str, Any]:
    """The tap's config for the sandbox at ``base_url`` (default: the demo credentials); no
    ``rate_limit_rps``, so the tap does not throttle itself."""
    env = credentials or credentials_env()
    return {
        "company": env["ORDWAY_COMPANY"],
        "api_key": env["ORDWAY_API_KEY"],
        "user_email": env["ORDWAY_USER_EMAIL"],
        "user_token": env["ORDWAY_USER_TOKEN"],
        "start_date": start_date,
        "api_url": base_url,
    }


def select_all(catalog: Mapping[str, Any]) -> dict[str, Any]:
    """The discovered catalog with every stream selected (Singer: ``selected`` on the stream's
    empty breadcrumb)."""
    selected = json.loads(json.dumps(catalog))
    for stream in selected["streams"]:
        entries = stream.setdefault("metadata", [])
        top = next((m for m in entries if m.get("breadcrumb") == []), None)
        if top is None:
            top = {"breadcrumb": [], "metadata": {}}
            entries.append(top)
        top["metadata"]["selected"] = True
    return selected


def _config_path(config: Mapping[str, Any], workdir: Path) -> Path:
    path = workdir / "config.json"
    path.write_text(json.dumps(config))
    return path


def discover(python: Path, config: Mapping[str, Any], workdir: Path) -> dict[str, Any]:
    """The tap's discovered catalog with every stream selected."""
    config_path = _config_path(config, workdir)
    done = _tap(python, ["--config", str(config_path), "--discover"], subprocess.PIPE)
    return select_all(json.loads(done.stdout))


def sync(
    python: Path,
    config: Mapping[str, Any],
    catalog: Mapping[str, Any],
    workdir: Path,
    stdout: int | IO[str] = subprocess.PIPE,
) -> subprocess.CompletedProcess[str]:
    """One sync of ``catalog``; its Singer messages go to ``stdout`` (captured by default,
    ``subprocess.DEVNULL`` to discard them). Raises TapError when the tap exits non-zero."""
    config_path = _config_path(config, workdir)
    catalog_path = workdir / "catalog.json"
    catalog_path.write_text(json.dumps(catalog))
    return _tap(python, ["--config", str(config_path), "--catalog", str(catalog_path)], stdout)


def _tap(python: Path, args: list[str], stdout: int | IO[str]) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [str(python), "-c", _ENTRY, *args],
        stdout=stdout,
        stderr=subprocess.PIPE,
        text=True,
        timeout=TIMEOUT_S,
        check=False,
    )
    if done.returncode != 0:
        step = "discovery" if "--discover" in args else "sync"
        raise TapError(f"tap-ordway {step} exited {done.returncode}:\n{done.stderr[-4000:]}")
    return done


__all__ = [
    "TAP_VERSION",
    "TapError",
    "discover",
    "select_all",
    "sync",
    "tap_config",
    "tap_environment",
]
