"""Altair (Vega-Lite) charts of the dashboard. Money is drawn from floats (geometry only); every
figure a person reads (labels, tooltips, tables) is the exact Decimal rounded to cents.

Charts render as SVG (``usermeta.embedOptions``), so they stay sharp in screenshots and PDFs
and their marks are countable in the page (the dashboard test fails on a chart without marks).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

import altair as alt
import pandas as pd

from apps.marts import cents, percent

SVG = {"embedOptions": {"renderer": "svg", "actions": False}}
UP, DOWN, TOTAL, LINE = "#2e7d32", "#c62828", "#455a64", "#1565c0"
MONTH_AXIS = alt.Axis(format="%b %Y", labelAngle=-45, title=None)
#: Months as bands, so bars and the line over them share one x position per month.
MONTH_BANDS = alt.Axis(labelAngle=-45, title=None)


def _chart(chart: alt.Chart | alt.LayerChart, height: int = 320) -> alt.Chart | alt.LayerChart:
    return chart.properties(height=height, usermeta=SVG)


def _months(values: Sequence[date]) -> list[pd.Timestamp]:
    return [pd.Timestamp(value) for value in values]


def money_axis(currency: str) -> alt.Axis:
    return alt.Axis(format=",.0f", title=currency)


def waterfall(steps: Sequence[tuple[str, Decimal]], currency: str) -> alt.LayerChart:
    """The ARR bridge: opening and closing as totals, each movement floating from the running
    total (rises green, falls red)."""
    rows, running = [], Decimal(0)
    for position, (label, value) in enumerate(steps):
        total = label in ("Opening", "Closing")
        start = Decimal(0) if total else running
        end = value if total else running + value
        running = end
        rows.append(
            {
                "position": position,
                "step": label,
                "start": float(start),
                "end": float(end),
                "amount": f"{currency} {cents(value)}",
                "kind": "total" if total else ("rise" if value >= 0 else "fall"),
            }
        )
    data = pd.DataFrame(rows)
    order = [row["step"] for row in rows]
    base = alt.Chart(data).encode(
        x=alt.X("step:N", sort=order, title=None, axis=alt.Axis(labelAngle=0))
    )
    bars = base.mark_bar().encode(
        y=alt.Y("start:Q", axis=money_axis(currency)),
        y2="end:Q",
        color=alt.Color(
            "kind:N",
            scale=alt.Scale(domain=["total", "rise", "fall"], range=[TOTAL, UP, DOWN]),
            legend=None,
        ),
        tooltip=[alt.Tooltip("step:N"), alt.Tooltip("amount:N", title="ARR")],
    )
    labels = (
        base.mark_text(dy=-8)
        .encode(y=alt.Y("max_end:Q"), text="amount:N")
        .transform_calculate(max_end="max(datum.start, datum.end)")
    )
    return _chart(alt.layer(bars, labels), height=360)


def movements_and_closing(movements: Sequence[dict[str, Any]], currency: str) -> alt.LayerChart:
    """Monthly ARR movements as stacked bars (falls below zero) and closing ARR as a line."""
    columns = {
        "new_arr": "New",
        "expansion_arr": "Expansion",
        "reactivation_arr": "Reactivation",
        "contraction_arr": "Contraction",
        "churn_arr": "Churn",
    }
    bars = pd.DataFrame(
        [
            {
                "month": pd.Timestamp(row["month"]),
                "movement": label,
                "arr": float(row[column]),
                "amount": f"{currency} {cents(row[column])}",
            }
            for row in movements
            for column, label in columns.items()
            if row[column] != 0
        ],
        columns=["month", "movement", "arr", "amount"],
    )
    line = pd.DataFrame(
        {
            "month": _months([row["month"] for row in movements]),
            "closing": [float(row["closing_arr"]) for row in movements],
            "amount": [f"{currency} {cents(row['closing_arr'])}" for row in movements],
        }
    )
    colors = alt.Scale(
        domain=list(columns.values()),
        range=["#43a047", "#81c784", "#26a69a", "#ef9a9a", "#c62828"],
    )
    stacked = (
        alt.Chart(bars)
        .mark_bar()
        .encode(
            x=alt.X("yearmonth(month):O", axis=MONTH_BANDS),
            y=alt.Y("sum(arr):Q", axis=money_axis(currency), title=currency),
            color=alt.Color("movement:N", scale=colors, title="Movement"),
            tooltip=["yearmonth(month):O", "movement:N", alt.Tooltip("amount:N", title="ARR")],
        )
    )
    closing = (
        alt.Chart(line)
        .mark_line(point=True, color=LINE)
        .encode(
            x=alt.X("yearmonth(month):O", axis=MONTH_BANDS),
            y=alt.Y("closing:Q", axis=money_axis(f"Closing ARR ({currency})")),
            tooltip=["yearmonth(month):O", alt.Tooltip("amount:N", title="Closing ARR")],
        )
    )
    return _chart(alt.layer(stacked, closing).resolve_scale(y="independent"))


def trend(
    months: Sequence[date],
    series: dict[str, Sequence[Decimal | int | None]],
    *,
    unit: str,
    kind: str = "money",
) -> alt.Chart:
    """One line per series by month: money (``unit`` = currency) at cents, ratios as
    percentages, or counts."""

    def label(value: Decimal | int | None) -> str:
        if kind == "ratio":
            return percent(value)
        if kind == "count":
            return str(value)
        return f"{unit} {cents(value)}"

    rows = [
        {
            "month": pd.Timestamp(month),
            "series": name,
            "value": None if value is None else float(value),
            "label": label(value),
        }
        for name, values in series.items()
        for month, value in zip(months, values, strict=True)
    ]
    data = pd.DataFrame(rows, columns=["month", "series", "value", "label"]).dropna(
        subset=["value"]
    )
    axis = {
        "ratio": alt.Axis(format=".0%", title=None),
        "count": alt.Axis(format="d", title=unit),
    }.get(kind, money_axis(unit))
    return _chart(
        alt.Chart(data)
        .mark_line(point=True)
        .encode(
            x=alt.X("yearmonth(month):T", axis=MONTH_AXIS),
            y=alt.Y("value:Q", axis=axis, scale=alt.Scale(zero=kind != "ratio")),
            color=alt.Color("series:N", title=None),
            tooltip=["yearmonth(month):T", "series:N", alt.Tooltip("label:N", title="value")],
        )
    )


def grouped_bars(
    months: Sequence[date], series: dict[str, Sequence[Decimal]], currency: str
) -> alt.Chart:
    """Side-by-side bars per month (billings vs cash, billings vs recognized)."""
    rows = [
        {
            "month": pd.Timestamp(month),
            "series": name,
            "value": float(value),
            "label": f"{currency} {cents(value)}",
        }
        for name, values in series.items()
        for month, value in zip(months, values, strict=True)
    ]
    data = pd.DataFrame(rows, columns=["month", "series", "value", "label"])
    return _chart(
        alt.Chart(data)
        .mark_bar()
        .encode(
            x=alt.X("yearmonth(month):O", axis=MONTH_BANDS),
            xOffset="series:N",
            y=alt.Y("value:Q", axis=money_axis(currency)),
            color=alt.Color("series:N", title=None),
            tooltip=["yearmonth(month):O", "series:N", alt.Tooltip("label:N", title="amount")],
        )
    )


def bars(labels: Sequence[str], values: Sequence[Decimal], currency: str, title: str) -> alt.Chart:
    """Horizontal bars in the given order (aging buckets, top customers)."""
    data = pd.DataFrame(
        {
            "label": list(labels),
            "value": [float(v) for v in values],
            "amount": [f"{currency} {cents(v)}" for v in values],
        }
    )
    return _chart(
        alt.Chart(data)
        .mark_bar(color=LINE)
        .encode(
            y=alt.Y("label:N", sort=list(labels), title=title),
            x=alt.X("value:Q", axis=money_axis(currency)),
            tooltip=[alt.Tooltip("label:N", title=title), alt.Tooltip("amount:N", title="amount")],
        ),
        height=max(200, 40 * len(labels)),
    )
