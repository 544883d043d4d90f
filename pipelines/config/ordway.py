"""The settings of the Ordway source (``OrdwaySettings``), read from the ORDWAY_* variables and
the warehouse variables the source needs, and checked together."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import Any, Literal
from urllib.parse import SplitResult, urlsplit

from pipelines.config.variables import ConfigError, Environment, required, timestamp, value
from pipelines.ordway.contract import COLLECTIONS

#: API roots of Ordway's environments (ORDWAY_ENVIRONMENT); ORDWAY_BASE_URL wins over them.
ENVIRONMENT_URLS = {
    "production": "https://api.ordwaylabs.com/api/v1",
    "sandbox": "https://sandbox.ordwaylabs.com/api/v1",
    "staging": "https://staging.ordwaylabs.com/api/v1",
}
#: Defaults of the settings below (the registry holds the same, as text).
DEFAULT_PAGE_SIZE = 50
DEFAULT_PROGRESS_SECONDS = 10.0

#: (variable, attribute) of the four credentials Ordway issues.
CREDENTIALS = (
    ("ORDWAY_API_KEY", "api_key"),
    ("ORDWAY_COMPANY", "company"),
    ("ORDWAY_USER_EMAIL", "user_email"),
    ("ORDWAY_USER_TOKEN", "user_token"),
)


@dataclass(frozen=True)
class OrdwaySettings:
    """Everything the source and the pipeline need. Credentials are kept out of ``repr``."""

    api_key: str = field(repr=False)
    company: str = field(repr=False)
    user_email: str = field(repr=False)
    user_token: str = field(repr=False)
    base_url: str = ENVIRONMENT_URLS["production"]
    page_size: int = DEFAULT_PAGE_SIZE
    lookback_hours: float = 2.0
    max_rps: float = 2.0
    #: Requests in flight at once for one per-customer collection (source.py `_in_order`).
    per_customer_concurrency: int = 4
    #: glibc malloc arenas of the extracting process (pipeline.py `limit_malloc_arenas`).
    malloc_arena_max: int = 2
    timeout_seconds: float = 30.0
    max_retries: int = 6
    max_pages: int = 20000
    start_date: datetime = datetime(2000, 1, 1, tzinfo=UTC)
    warehouse: Literal["duckdb", "snowflake"] = "duckdb"
    duckdb_path: Path = Path("data/ordway.duckdb")
    pipelines_dir: Path = Path("data/dlt")
    #: Cap on a server-sent Retry-After, in seconds.
    max_retry_after_seconds: float = 60.0
    #: Collections this installation extracts (ORDWAY_COLLECTIONS minus
    #: ORDWAY_SKIP_COLLECTIONS), in contract order; empty = every collection.
    collections: tuple[str, ...] = ()
    #: Seconds between two progress reports while extracting (pipelines/ordway/progress.py).
    progress_seconds: float = DEFAULT_PROGRESS_SECONDS

    def __post_init__(self) -> None:
        if not self.collections:
            object.__setattr__(self, "collections", tuple(COLLECTIONS))

    def enabled(self, names: Sequence[str]) -> tuple[str, ...]:
        """`names` that ORDWAY_COLLECTIONS / ORDWAY_SKIP_COLLECTIONS leave in, in their order."""
        return tuple(n for n in names if n in self.collections)

    # ---- the API address (base_url, split once)
    @cached_property
    def _url(self) -> SplitResult:
        return urlsplit(self.base_url)

    @property
    def api_host(self) -> str:
        """The API's host name (lower case, without port)."""
        return (self._url.hostname or "").lower()

    @property
    def api_address(self) -> str:
        """``host:port`` of the API (the port implied by the scheme when none is given)."""
        port = self._url.port or (443 if self._url.scheme == "https" else 80)
        return f"{self._url.hostname}:{port}"

    @property
    def base_path(self) -> str:
        """The API root's path without a trailing slash (``/api/v1``)."""
        return self._url.path.rstrip("/")

    @property
    def company_fingerprint(self) -> str:
        """sha256 of the normalised company name and the API host: identifies the Ordway
        company a warehouse holds without storing the name (a credential)."""
        company = " ".join(self.company.split()).casefold()
        return hashlib.sha256(f"{company}\n{self.api_host}".encode()).hexdigest()

    @property
    def lookback_seconds(self) -> float:
        return self.lookback_hours * 3600.0

    def page_size_for(self, collection: Any) -> int:
        """ORDWAY_PAGE_SIZE, unless the collection's endpoint always uses its own page size
        (revenue_schedules: the API's maximum, 500)."""
        return collection.page_size or self.page_size

    def secrets(self) -> tuple[str, ...]:
        """Credential values, used to prove they never leak into logs or errors."""
        return (self.api_key, self.company, self.user_email, self.user_token)

    @classmethod
    def from_env(cls, env: Environment | None = None) -> OrdwaySettings:
        """Reads the ORDWAY_* variables, WAREHOUSE, DUCKDB_PATH and DLT_PIPELINES_DIR.

        Raises ConfigError naming the variable when one is missing or invalid.
        """
        credentials = {
            attribute: required(name, "required Ordway credential", env)
            for name, attribute in CREDENTIALS
        }
        environment = value("ORDWAY_ENVIRONMENT", env)
        base_url = value("ORDWAY_BASE_URL", env) or ENVIRONMENT_URLS[environment]
        chosen = value("ORDWAY_COLLECTIONS", env)
        skipped = value("ORDWAY_SKIP_COLLECTIONS", env) or ()
        collections = tuple(
            n for n in tuple(COLLECTIONS) if (chosen is None or n in chosen) and n not in skipped
        )
        if not collections:
            raise ConfigError(
                "ORDWAY_COLLECTIONS and ORDWAY_SKIP_COLLECTIONS leave no collection to extract"
            )
        return cls(
            **credentials,
            base_url=base_url,
            page_size=value("ORDWAY_PAGE_SIZE", env),
            lookback_hours=value("ORDWAY_LOOKBACK_HOURS", env),
            max_rps=value("ORDWAY_MAX_RPS", env),
            per_customer_concurrency=value("ORDWAY_PER_CUSTOMER_CONCURRENCY", env),
            malloc_arena_max=value("MALLOC_ARENA_MAX", env),
            timeout_seconds=value("ORDWAY_TIMEOUT_SECONDS", env),
            max_retries=value("ORDWAY_MAX_RETRIES", env),
            max_pages=value("ORDWAY_MAX_PAGES", env),
            start_date=value("ORDWAY_START_DATE", env),
            warehouse=value("WAREHOUSE", env),
            duckdb_path=value("DUCKDB_PATH", env),
            pipelines_dir=value("DLT_PIPELINES_DIR", env),
            collections=collections,
            progress_seconds=value("ORDWAY_PROGRESS_SECONDS", env),
        )


def parse_timestamp(raw: str, what: str = "timestamp") -> datetime:
    """A date or ISO timestamp given on the command line (``--start``), as for
    ORDWAY_START_DATE: an aware UTC datetime; ConfigError naming ``what`` otherwise."""
    return timestamp(what, raw.strip())


__all__ = [
    "DEFAULT_PAGE_SIZE",
    "DEFAULT_PROGRESS_SECONDS",
    "ENVIRONMENT_URLS",
    "OrdwaySettings",
    "parse_timestamp",
]
