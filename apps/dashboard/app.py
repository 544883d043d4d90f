"""The Streamlit script (``streamlit run apps/dashboard/app.py``; ``make dashboard`` starts it
through ``python -m apps.dashboard``)."""

import streamlit as st

from apps.dashboard.pages import PAGES

st.set_page_config(page_title="Finance dashboard", layout="wide")
navigation = st.navigation(
    [
        st.Page(function, title=title, url_path=path, default=index == 0)
        for index, (function, title, path) in enumerate(PAGES)
    ]
)
navigation.run()
