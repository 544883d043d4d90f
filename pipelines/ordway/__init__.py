"""The Ordway dlt source: extracts Ordway's REST API into the warehouse (see README.md).

The public API, importable from here:

- ``OrdwaySettings`` (``pipelines/config/``): the source's settings, ``OrdwaySettings.from_env()``;
- ``COLLECTIONS`` (``contract.py``): the collection contract;
- ``ordway_source`` (``source.py``): the ``@dlt.source``;
- ``make_pipeline``, ``run_extract``, ``unavailable_collections`` (``pipeline.py``);
- ``OrdwayClient``, ``OrdwayError``, ``OrdwayAPIError`` (``client.py``), ``RecordTypeError``
  (``records.py``), ``ConfigError`` (``pipelines/config/``).
"""

from pipelines.config import ConfigError, OrdwaySettings
from pipelines.ordway.client import OrdwayAPIError, OrdwayClient, OrdwayError
from pipelines.ordway.contract import COLLECTIONS
from pipelines.ordway.pipeline import make_pipeline, run_extract, unavailable_collections
from pipelines.ordway.records import RecordTypeError
from pipelines.ordway.source import ordway_source

__all__ = [
    "COLLECTIONS",
    "ConfigError",
    "OrdwayAPIError",
    "OrdwayClient",
    "OrdwayError",
    "OrdwaySettings",
    "RecordTypeError",
    "make_pipeline",
    "ordway_source",
    "run_extract",
    "unavailable_collections",
]
