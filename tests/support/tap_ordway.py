"""Singer's tap-ordway, a public client written against the real Ordway API, in a virtual
environment of its own (never the project's): installed from PyPI on first use under
``.cache/tap-ordway-<version>/`` (git-ignored) and reused afterwards, so only the first run needs
the network. Used by tests/ordway_sandbox/test_tap_ordway_fidelity.py.
"""

from __future__ import annotations

import fcntl
import json
import subprocess
import sys
from collections import defaultdict
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tests.support.paths import REPO_ROOT

TAP_VERSION = "0.4.6"
CACHE_DIR = REPO_ROOT / ".cache"
#: Runs the tap's console entry point with the environment's own interpreter.
_ENTRY = "import sys, tap_ordway; sys.exit(tap_ordway.main())"

#: Tap stream -> (our collection, the child path within it); the tap's primary key is its
#: first key property (``<singular>_id``, or ``code`` / ``name``).
STREAMS: dict[str, tuple[str, tuple[str, ...]]] = {
    "billing_runs": ("billing_runs", ()),
    "billing_schedules": ("billing_schedules", ()),
    "charges": ("plans", ("charges",)),
    "chart_of_accounts": ("chart_of_accounts", ()),
    "contacts": ("customers", ("contacts",)),
    "coupons": ("coupons", ()),
    "credits": ("credits", ()),
    "customer_notes": ("customer_notes", ()),
    "customers": ("customers", ()),
    "debit_memo": ("debit_memos", ()),
    "invoices": ("invoices", ()),
    "journal_entries": ("journal_entries", ()),
    "orders": ("orders", ()),
    "payment_methods": ("payment_methods", ()),
    "payment_runs": ("payment_runs", ()),
    "payments": ("payments", ()),
    "plans": ("plans", ()),
    "products": ("products", ()),
    "refunds": ("refunds", ()),
    "revenue_rules": ("revenue_rules", ()),
    "revenue_schedules": ("revenue_schedules", ()),
    "statements": ("statements", ()),
    "subscriptions": ("subscriptions", ()),
    "usages": ("usages", ()),
    "webhooks": ("webhooks", ()),
}


class TapError(AssertionError):
    """The tap could not be installed or did not finish cleanly (the message has its stderr)."""


def tap_environment(version: str = TAP_VERSION) -> Path:
    """The interpreter of a virtual environment holding ``tap-ordway==version`` (created with
    ``python -m venv`` and pip on first use, under a file lock so parallel tests install once)."""
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


def run_tap(
    python: Path, config: Mapping[str, Any], workdir: Path
) -> tuple[dict[str, list[str]], str]:
    """Discover, select every stream, sync. Returns (the primary keys of the RECORD messages by
    stream, the tap's stderr); raises TapError when a step exits non-zero."""
    config_path = workdir / "config.json"
    config_path.write_text(json.dumps(config))
    discovered = _tap(python, ["--config", str(config_path), "--discover"])
    catalog = select_all(json.loads(discovered.stdout))
    keys = {s["tap_stream_id"]: s["key_properties"][0] for s in catalog["streams"]}
    catalog_path = workdir / "catalog.json"
    catalog_path.write_text(json.dumps(catalog))
    synced = _tap(python, ["--config", str(config_path), "--catalog", str(catalog_path)])
    records: dict[str, list[str]] = defaultdict(list)
    for line in synced.stdout.splitlines():
        message = json.loads(line)
        if message.get("type") == "RECORD":
            stream = message["stream"]
            records[stream].append(str(message["record"][keys[stream]]))
    return dict(records), synced.stderr


def _tap(python: Path, args: list[str]) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [str(python), "-c", _ENTRY, *args],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    if done.returncode != 0:
        step = "discovery" if "--discover" in args else "sync"
        raise TapError(f"tap-ordway {step} exited {done.returncode}:\n{done.stderr[-4000:]}")
    return done
