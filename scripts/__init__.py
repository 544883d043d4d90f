"""Command-line entry points run by the Makefile (`python -m scripts.<name>`)."""
