"""The Ordway dlt source: extracts Ordway's REST API into the warehouse (see README.md)."""

from pipelines.ordway.client import OrdwayAPIError, OrdwayClient, OrdwayError
from pipelines.ordway.settings import ConfigError, OrdwaySettings

__all__ = ["ConfigError", "OrdwayAPIError", "OrdwayClient", "OrdwayError", "OrdwaySettings"]
