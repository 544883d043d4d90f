"""Helpers shared by several test suites (imported as ``tests.support.<module>``), so no suite
imports another suite's ``conftest.py``."""
