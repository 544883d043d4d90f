"""Shared test support: the Snowflake emulator and its patches, PostgreSQL for Dagster."""
