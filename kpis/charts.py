"""Plotly figures of the pages, built in Python from the same `Dataset` the table and CSV show.

Each figure is a Plotly figure dict, handed to the page as JSON; static/js/tandem.js draws every `[data-figure]` with
the plotly.js served from our static files. Colours follow the teams: marketing, sales, joint.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import plotly.io as pio

from kpis.pages.common import Dataset, format_value

COLOURS = {"marketing": "#6d48c8", "sales": "#0d7a5f", "joint": "#2356c7"}
TINTS = {"marketing": "#b9a4ea", "sales": "#7cc4ad", "joint": "#93b1ee"}
INK, MUTED, GRID = "#1b2230", "#5a6476", "#e8ebf0"
FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif'


def _float(value: object) -> float | None:
    if value is None:
        return None
    return float(value) if isinstance(value, Decimal | int | float) else None


def _layout(height: int = 280, **extra: object) -> dict:
    layout = {
        "height": height,
        "margin": {"l": 44, "r": 12, "t": 36, "b": 32},
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
        "font": {"family": FONT, "size": 13, "color": INK},
        "hoverlabel": {"font": {"family": FONT}},
        "showlegend": True,
        "legend": {
            "orientation": "h",
            "y": 1.02,
            "yanchor": "bottom",
            "x": 0,
            "font": {"color": MUTED, "size": 12},
        },
        "xaxis": {"gridcolor": GRID, "linecolor": GRID, "tickfont": {"color": MUTED}},
        "yaxis": {
            "gridcolor": GRID,
            "zerolinecolor": GRID,
            "tickfont": {"color": MUTED},
            "rangemode": "tozero",
        },
        "hovermode": "x unified",
    }
    layout.update(extra)
    return layout


HOVER_FORMAT = {"week": "Week of %-d %b %Y", "month": "%B %Y", "quarter": "Q%q %Y"}


def _x(ds: Dataset) -> tuple[list, dict]:
    """The time axis: period starts on a date axis when known, else the row labels."""
    if ds.x:
        axis = {"type": "date", "hoverformat": HOVER_FORMAT.get(ds.period, "%d %b %Y")}
        if ds.period == "quarter":
            axis["tickformat"] = "Q%q %Y"
        return [d.isoformat() for d in ds.x], axis
    return [row[0] for row in ds.rows], {}


def _axis_format(unit: str) -> dict:
    if unit == "ratio":
        return {"tickformat": ".0%"}
    if unit == "hours":
        return {"ticksuffix": " h"}
    return {"tickformat": "~s"}


def _series_styles(teams: Sequence[str]) -> list[tuple[str, str]]:
    """(colour, dash) per series: a team's second series is its tint, dotted."""
    seen: dict[str, int] = {}
    styles = []
    for team in teams:
        n = seen.get(team, 0)
        seen[team] = n + 1
        colour = COLOURS.get(team, COLOURS["joint"]) if n == 0 else TINTS.get(team, MUTED)
        styles.append((colour, "solid" if n == 0 else "dot"))
    return styles


def _lines(ds: Dataset) -> dict:
    x, xaxis = _x(ds)
    units = {c.unit for c in ds.columns[1:]}
    styles = _series_styles(ds.teams)
    # An SLA panel mixes rates and hours: draw the rates only, the table holds the hours.
    only_rates = "ratio" in units and len(units) > 1
    traces = []
    for i, column in enumerate(ds.columns[1:]):
        if only_rates and column.unit != "ratio":
            continue
        colour, dash = styles[i] if i < len(styles) else (MUTED, "solid")
        traces.append(
            {
                "type": "scatter",
                "x": x,
                "y": [_float(row[i + 1]) for row in ds.rows],
                "name": column.label,
                "mode": "lines+markers",
                "line": {"color": colour, "width": 2.5, "dash": dash, "shape": "linear"},
                "marker": {"size": 5},
                "connectgaps": False,
                "hovertemplate": {
                    "ratio": "%{y:.1%}<extra></extra>",
                    "per_week": "%{y:.2f} a week<extra></extra>",
                }.get(column.unit, "%{y:,.1f}<extra></extra>"),
            }
        )
    if ds.partial and len(x) > 1:
        traces = [part for trace in traces for part in _so_far_leg(trace)]
    if only_rates or units == {"ratio"}:
        unit = "ratio"
    else:
        unit = next(iter(units)) if len(units) == 1 else "count"
    layout = _layout()
    layout["yaxis"].update(_axis_format(unit))
    layout["xaxis"].update(xaxis)
    _benchmark_lines(layout, ds)
    return {"data": traces, "layout": layout}


def _benchmark_lines(layout: dict, ds: Dataset) -> None:
    """Level lines across the chart (a published benchmark), labelled at the right end, and
    a y axis from zero that shows them however low the data are."""
    if not ds.benchmarks:
        return
    top = max([v for _, v in ds.benchmarks] + [_float(r[1]) or 0 for r in ds.rows]) * 1.15
    layout["yaxis"].update({"range": [0, top], "tickformat": ".2~f"})
    layout["shapes"] = [
        {
            "type": "line", "xref": "paper", "x0": 0, "x1": 1, "yref": "y", "y0": v, "y1": v,
            "line": {"color": MUTED if n else COLOURS["joint"], "width": 1.5, "dash": "dash"},
        }
        for n, (_, v) in enumerate(ds.benchmarks)
    ]  # fmt: skip
    layout["annotations"] = [
        {
            "xref": "paper", "x": 1, "xanchor": "right", "yref": "y", "y": v, "yanchor": "bottom",
            "text": label, "showarrow": False, "font": {"size": 11, "color": MUTED},
        }
        for label, v in ds.benchmarks
    ]  # fmt: skip


def _so_far_leg(trace: dict) -> list[dict]:
    """A line whose last period is in progress: solid up to the one before, a dotted leg to
    the last point (drawn open, named "so far"), out of the legend."""
    *done, last = trace["y"]
    leg = {
        **trace,
        "x": trace["x"][-2:],
        "y": [done[-1], last],
        "mode": "lines",
        "line": {**trace["line"], "dash": "dot"},
        "showlegend": False,
        "hoverinfo": "skip",
    }
    leg.pop("hovertemplate", None)
    point = {
        **trace,
        "x": trace["x"][-1:],
        "y": [last],
        "mode": "markers",
        "marker": {"size": 7, "symbol": "circle-open", "color": trace["line"]["color"]},
        "name": f"{trace['name']} (so far)",
        "showlegend": False,
    }
    return [{**trace, "y": [*done, None]}, leg, point]


def _revenue(ds: Dataset) -> dict:
    x, xaxis = _x(ds)
    traces = []
    for i, column in enumerate(ds.columns[1:]):
        y = [_float(row[i + 1]) for row in ds.rows]
        if i == 0:
            trace = {"type": "bar", "marker": {"color": COLOURS["sales"]}}
            if ds.partial:  # the period in progress: a faded bar
                trace["marker"]["opacity"] = [1.0] * (len(y) - 1) + [0.45]
        else:
            trace = {
                "type": "scatter",
                "mode": "lines",
                "line": {"color": TINTS["sales"], "width": 2.5, "dash": "dot"},
            }
        trace.update(x=x, y=y, name=column.label, hovertemplate="%{y:,.0f}<extra></extra>")
        traces.append(trace)
    layout = _layout(bargap=0.35)
    layout["yaxis"].update(_axis_format("currency"))
    layout["xaxis"].update(xaxis)
    return {"data": traces, "layout": layout}


def _funnel(ds: Dataset) -> dict:
    labels = [row[0] for row in ds.rows]
    counts = [_float(row[1]) or 0 for row in ds.rows]
    trace = {
        "type": "funnel",
        "y": labels,
        "x": counts,
        "texttemplate": ["%{value:,}"]
        + ["%{value:,} · %{percentPrevious:.0%}"] * (len(counts) - 1),
        "textposition": "outside",
        "outsidetextfont": {"color": INK, "size": 13},
        "marker": {"color": [COLOURS.get(t, COLOURS["joint"]) for t in ds.teams]},
        "connector": {"fillcolor": "#eef0f4", "line": {"width": 0}},
        "cliponaxis": False,
        "hovertemplate": "%{label}: %{value:,}<br>%{percentPrevious:.1%} of the previous stage"
        "<extra></extra>",
    }
    layout = _layout(height=300, showlegend=False, hovermode="closest")
    layout["margin"] = {"l": 100, "r": 90, "t": 4, "b": 4}
    layout["yaxis"] = {"tickfont": {"color": INK, "size": 13}}
    return {"data": [trace], "layout": layout}


def _hbar_text(ds: Dataset, row: tuple) -> str:
    """A bar's own value, then the next column named: '78.3k · ROI 60.2 %', '12 · Share 30.0 %'."""
    text = format_value(row[1], ds.columns[1].unit)
    if len(ds.columns) > 2 and row[2] is not None:
        text += f" · {ds.columns[2].label} {format_value(row[2], ds.columns[2].unit)}"
    return text


def _hbar(ds: Dataset) -> dict:
    rows = list(reversed(ds.rows))
    trace = {
        "type": "bar",
        "y": [row[0] for row in rows],
        "x": [_float(row[1]) for row in rows],
        "orientation": "h",
        "marker": {"color": COLOURS.get(ds.teams[0] if ds.teams else "joint", COLOURS["joint"])},
        "text": [_hbar_text(ds, row) for row in rows],
        "textposition": "outside",
        "cliponaxis": False,
        "hovertemplate": f"%{{y}}: %{{text}}<extra>{ds.columns[1].label}</extra>",
    }
    layout = _layout(
        height=max(180, 34 * len(rows) + 40), showlegend=False, hovermode="closest", bargap=0.3
    )
    layout["margin"] = {"l": 150, "r": 130, "t": 4, "b": 28}  # room for '78.3k · ROI 60.2 %'
    layout["xaxis"].update({"tickformat": "~s", "rangemode": "tozero"})
    layout["yaxis"] = {"tickfont": {"color": INK}, "automargin": True}
    return {"data": [trace], "layout": layout}


_BUILDERS = {"lines": _lines, "revenue": _revenue, "funnel": _funnel, "hbar": _hbar}


def figure(ds: Dataset) -> dict | None:
    """The dataset's Plotly figure (a figure dict: data and layout), None without a chart."""
    builder = _BUILDERS.get(ds.chart)
    if builder is None or ds.is_empty:
        return None
    return builder(ds)


def figure_json(ds: Dataset) -> str:
    """The figure as Plotly JSON for plotly.js, or "" when the dataset draws no chart.

    Built as plain dicts and serialised without validation: building `plotly.graph_objects`
    validates every property and costs ~25 ms a figure. The tests validate every figure with
    `go.Figure(figure(ds))` instead.
    """
    fig = figure(ds)
    return "" if fig is None else pio.to_json(fig, validate=False)


# --- the scorecard's payout curve and the forecasts' accuracy ------------------------------


def payout_curve_figure(
    curve: object,
    *,
    attainment: Decimal | None,
    payout: Decimal,
    projected: Decimal | None = None,
    projected_payout: Decimal | None = None,
) -> dict:
    """The payout curve (`alignment.scorecard.PayoutCurve`): nothing below the threshold, then
    linear to 100 % at target and to the cap's payout, flat beyond; the scorecard attainment
    marked on it (and where the period would end at the current pace)."""
    threshold, target, cap = float(curve.threshold), float(curve.target), float(curve.cap)
    points = [a for a in (attainment, projected) if a is not None]
    end = max([cap + 0.5, *(float(a) + 0.2 for a in points)])
    traces = [
        {
            "type": "scatter",
            "mode": "lines",
            "name": "Payout curve",
            "x": [0, threshold, threshold, target, cap, end],
            "y": [0, 0, float(curve.threshold_payout), 1, float(curve.cap_payout),
                  float(curve.cap_payout)],
            "line": {"color": COLOURS["joint"], "width": 3},
            "hovertemplate": "Attainment %{x:.0%} → payout %{y:.0%}<extra></extra>",
        }
    ]  # fmt: skip
    if attainment is not None:
        traces.append(
            {
                "type": "scatter",
                "mode": "markers+text",
                "name": "Today",
                "x": [float(attainment)],
                "y": [float(payout)],
                "text": [f"Today: {float(payout):.0%}"],
                "textposition": "top left",
                "marker": {"size": 13, "color": INK, "line": {"color": "#fff", "width": 2}},
                "hovertemplate": "Today: attainment %{x:.1%} → payout %{y:.1%}<extra></extra>",
            }
        )
    if projected is not None and projected_payout is not None:
        traces.append(
            {
                "type": "scatter",
                "mode": "markers+text",
                "name": "At the current pace, by the period's end",
                "x": [float(projected)],
                "y": [float(projected_payout)],
                "text": [f"At pace: {float(projected_payout):.0%}"],
                "textposition": "bottom right",
                "marker": {
                    "size": 13,
                    "symbol": "circle-open",
                    "color": INK,
                    "line": {"width": 2.5},
                },
                "hovertemplate": "At pace: attainment %{x:.1%} → payout %{y:.1%}<extra></extra>",
            }
        )
    layout = _layout(height=300, hovermode="closest")
    layout["xaxis"].update(
        {"tickformat": ".0%", "range": [0, end], "title": {"text": "Scorecard attainment"}}
    )
    layout["yaxis"].update(
        {"tickformat": ".0%", "title": {"text": "Payout"},
         "range": [0, float(curve.cap_payout) * 1.15]}
    )  # fmt: skip
    layout["margin"] = {"l": 56, "r": 16, "t": 36, "b": 48}
    return {"data": traces, "layout": layout}


def payout_curve_figure_json(curve: object, **marks: Decimal | None) -> str:
    return pio.to_json(payout_curve_figure(curve, **marks), validate=False)


def forecast_accuracy_figure(points: Sequence[tuple[str, float, str]]) -> dict | None:
    """Forecast accuracy by period, oldest first: (period label, accuracy, period kind)."""
    if not points:
        return None
    trace = {
        "type": "bar",
        "x": [label for label, _, _ in points],
        "y": [accuracy for _, accuracy, _ in points],
        "marker": {"color": COLOURS["joint"]},
        "text": [f"{accuracy:.0%}" for _, accuracy, _ in points],
        "textposition": "auto",
        "cliponaxis": False,
        "hovertemplate": "%{x}: %{y:.1%} accurate<extra></extra>",
    }
    layout = _layout(height=240, showlegend=False, hovermode="closest", bargap=0.4)
    layout["xaxis"].update({"type": "category"})
    low = min(0.0, *trace["y"])  # a forecast off by more than the actual is below 0
    layout["yaxis"].update({"tickformat": ".0%", "range": [low * 1.1, 1.15]})
    layout["yaxis"].pop("rangemode", None)
    return {"data": [trace], "layout": layout}


def forecast_accuracy_figure_json(points: Sequence[tuple[str, float, str]]) -> str:
    fig = forecast_accuracy_figure(points)
    return "" if fig is None else pio.to_json(fig, validate=False)
