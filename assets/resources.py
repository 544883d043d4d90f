"""The code location's Dagster resources: ``ordway`` (the source's settings, read when a run
needs them) and ``dbt`` (``assets/dbt_cli.py``).

``OrdwayResource`` is a ``ConfigurableResource`` without fields: the settings come from the
environment through ``pipelines/config/`` (one parser per variable, ConfigError naming it), at run
time, so the definitions load with no ``ORDWAY_*`` set and a run that needs no extraction (dbt,
checks, publish) never needs the credentials. Dagster's ``EnvVar`` fields do not fit here: an
unset ``EnvVar`` fails the whole run at launch, before any step, for every job the resource is
bound to (checked with dagster 1.13), instead of failing the extraction step with the variable
named.
"""

from __future__ import annotations

from dagster import ConfigurableResource, Failure

from pipelines.config import ConfigError, OrdwaySettings


class OrdwayResource(ConfigurableResource):
    """The Ordway source's settings for a run (``OrdwaySettings.from_env()``)."""

    def settings(self) -> OrdwaySettings:
        """The validated settings; a Failure naming the variable before any request."""
        try:
            return OrdwaySettings.from_env()
        except ConfigError as exc:
            raise Failure(
                description=f"Ordway configuration error before any request: {exc}",
                metadata={"variable_error": str(exc)},
            ) from None


__all__ = ["OrdwayResource"]
