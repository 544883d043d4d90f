"""The finance dashboard (Streamlit): pages in ``pages.py``, charts in ``charts.py``."""
