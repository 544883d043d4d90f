"""Synthetic tenant generator (see ../TENANT.md)."""
