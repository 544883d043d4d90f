"""The Ordway dlt source: extracts Ordway's REST API into the warehouse (see README.md).

The public API, importable from here (each name is imported from its module on first use, so
importing one module of the package, such as the contract, does not import dlt):

- ``OrdwaySettings``, ``ConfigError`` (``pipelines/config/``): the source's settings;
- ``COLLECTIONS`` (``contract.py``): the collection contract;
- ``ordway_source`` (``source.py``): the ``@dlt.source``;
- ``make_pipeline``, ``run_extract``, ``unavailable_collections`` (``pipeline.py``);
- ``OrdwayClient``, ``OrdwayError``, ``OrdwayAPIError`` (``client.py``), ``RecordTypeError``
  (``records.py``).
"""

from __future__ import annotations

import importlib
from typing import Any

_HOMES = {
    "ConfigError": "pipelines.config",
    "OrdwaySettings": "pipelines.config",
    "COLLECTIONS": "pipelines.ordway.contract",
    "OrdwayAPIError": "pipelines.ordway.client",
    "OrdwayClient": "pipelines.ordway.client",
    "OrdwayError": "pipelines.ordway.client",
    "RecordTypeError": "pipelines.ordway.records",
    "ordway_source": "pipelines.ordway.source",
    "make_pipeline": "pipelines.ordway.pipeline",
    "run_extract": "pipelines.ordway.pipeline",
    "unavailable_collections": "pipelines.ordway.pipeline",
}

__all__ = sorted(_HOMES)


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module 'pipelines.ordway' has no attribute {name!r}")
    return getattr(importlib.import_module(_HOMES[name]), name)
