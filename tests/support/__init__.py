"""Helpers shared by several test suites (imported as ``tests.support.<module>``), so no suite
imports another suite's ``conftest.py``: the sandbox-and-source oracles, the nightly runner,
the mart oracles, the Snowflake emulator and its patches, PostgreSQL for Dagster."""
