"""Extraction code: the Ordway dlt source and the local Ordway sandbox."""
