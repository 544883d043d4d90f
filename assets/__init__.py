"""The Dagster code location of the Ordway revenue platform (entry module: assets.definitions)."""
