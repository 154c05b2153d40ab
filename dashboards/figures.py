"""Plotly figures for the dashboard: plain functions of tables and numbers, testable without a browser.

Per-step charts plot one point per stance with a rolling median over the neighbouring steps; a long run
(a 1-hour run has ~10 000 stances) shows the median of each few consecutive steps instead, so no trace has more
than 600 points. Box plots send their five numbers, not every step; raw signals are reduced to a min/max
envelope. Everything is plain SVG (no WebGL), which draws quickly on laptops and tablets alike. Every axis
carries its unit.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from dashboards.plot import Figure, trace
from dashboards.style import (
    ACCENT,
    BOTH,
    FONT,
    LEFT,
    MUTED,
    RIGHT,
    SIDE_COLOUR,
    SIDE_NAME,
    SKY,
    WARN,
    metric_info,
)
from gait.api import G0 as G
from gait.api import TERRAIN_FIELDS, TERRAINS, palette, route_xy

ROLLING_STEPS = 31  # ~10 s of running
MAX_STEP_POINTS = 600  # per trace: longer runs show a band over each few consecutive steps instead of dots
BAND_STEPS = 10  # at least this many steps per point of the band (~3.5 s of running)
MAX_RAW_POINTS = 1500  # per trace, after the min/max envelope

_AXIS = {"gridcolor": "#ebebeb", "zerolinecolor": "#d0d0d0", "linecolor": "#bbbbbb", "automargin": True}
#: the look of every chart, applied by plotly.js (a small template: plotly's own is large)
TEMPLATE = {
    "layout": {
        "paper_bgcolor": "white",
        "plot_bgcolor": "white",
        "colorway": [LEFT, RIGHT, ACCENT, SKY, WARN, BOTH],
        "xaxis": _AXIS,
        "yaxis": _AXIS,
        "font": {"family": FONT, "size": 12, "color": "#222"},
    }
}


def _layout(fig: Figure, title: str, height: int = 300, subplots: bool = False, **kw: Any) -> Figure:
    """Shared look; figures with subplot titles get room for the legend above them."""
    fig.update_layout(
        template=TEMPLATE,
        title={"text": title, "x": 0.01, "font": {"size": 15}},
        height=height,
        margin={"l": 60, "r": 20, "t": 80 if subplots else 45, "b": 45} | kw.pop("margin", {}),
        legend={"orientation": "h", "y": 1.12 if subplots else 1.02, "x": 1, "xanchor": "right", "yanchor": "bottom"},
        hovermode="closest",
        **kw,
    )
    return fig


def empty(message: str, height: int = 220) -> Figure:
    """A figure that says why there is nothing to show, instead of blank axes."""
    fig = Figure()
    fig.add_annotation(
        text=message, showarrow=False, font={"size": 14, "color": MUTED}, x=0.5, y=0.5, xref="paper", yref="paper"
    )
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return _layout(fig, "", height)


def axis_title(metric: str) -> str:
    m = metric_info(metric)
    return f"{m.label} ({m.unit})"


def running_steps(steps: pd.DataFrame) -> pd.DataFrame:
    """The confident running steps the summary is built from, with per-step cadence."""
    if len(steps) == 0:
        return steps.assign(cadence_spm=pd.Series(dtype=float))
    keep = (steps["activity"] == "run") & ~steps["low_confidence"].astype(bool)
    st = steps.loc[keep].copy()
    st["cadence_spm"] = 60.0 / st["step_time_s"]
    return st


def rolling_median(x: pd.Series, window: int = ROLLING_STEPS) -> np.ndarray:
    return x.rolling(window, center=True, min_periods=max(3, window // 3)).median().to_numpy()


def _every(x: np.ndarray, k: int, how: Any) -> np.ndarray:
    """``how`` (a reduction taking ``axis``) of each run of ``k`` consecutive values; the last run may be shorter.

    Whole runs are reduced in one vectorised call (numpy's NaN-aware percentiles loop in Python per row)."""
    whole = len(x) // k * k
    out = how(x[:whole].reshape(-1, k), axis=1)
    if whole < len(x):
        out = np.append(out, how(x[whole:][None, :], axis=1))
    return out


def _rgba(hex_colour: str, alpha: float) -> str:
    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def box_stats(v: np.ndarray) -> dict[str, list[float]]:
    """Precomputed box (quartiles, whiskers at 1.5 IQR within the data): five numbers instead of every step."""
    v = v[np.isfinite(v)]
    if len(v) == 0:
        return {}
    q1, med, q3 = np.percentile(v, [25, 50, 75])
    iqr = q3 - q1
    lo = float(v[v >= q1 - 1.5 * iqr].min())
    hi = float(v[v <= q3 + 1.5 * iqr].max())
    return {"q1": [q1], "median": [med], "q3": [q3], "lowerfence": [lo], "upperfence": [hi]}


def step_series(steps: pd.DataFrame, metric: str, per_side: bool | None = None) -> Figure:
    """One metric over the run per stance side: every step (or, for long runs, the middle half of each few
    steps) and the rolling median of the 31 steps around each."""
    st = running_steps(steps)
    if metric not in st or st[metric].notna().sum() < 3:
        return empty(f"No {metric_info(metric).label.lower()} values in this run")
    per_side = metric != "cadence_spm" if per_side is None else per_side
    m = metric_info(metric)
    fig = Figure()
    groups = [(s, st[st["side"] == s]) for s in ("L", "R")] if per_side else [("", st)]
    for side, g in groups:
        g = g[g[metric].notna()]
        if len(g) == 0:
            continue
        colour = SIDE_COLOUR.get(side, BOTH)
        name = SIDE_NAME.get(side, "all steps")
        x = g["ic_s"].to_numpy() / 60.0
        y = g[metric].to_numpy()
        smooth = rolling_median(g[metric])
        k = 1 if len(g) <= MAX_STEP_POINTS else max(BAND_STEPS, -(-len(g) // MAX_STEP_POINTS))  # steps per point
        if k == 1:
            fig.add_trace(
                trace(
                    "scatter",
                    x=x,
                    y=y,
                    mode="markers",
                    marker={"size": 3, "color": colour, "opacity": 0.3},
                    name=f"{name}, per step",
                    legendgroup=side,
                    hovertemplate=f"%{{x:.2f}} min<br>%{{y:.{m.digits}f}} {m.unit}<extra></extra>",
                )
            )
        else:  # a long run: the middle half of each k consecutive steps as a band (a path, not 10 000 dots)
            x, smooth = _every(x, k, np.median), smooth[::k]
            for q, fill in ((75, None), (25, "tonexty")):
                fig.add_trace(
                    trace(
                        "scatter",
                        x=x,
                        y=_every(y, k, lambda a, axis, q=q: np.percentile(a, q, axis=axis)),
                        mode="lines",
                        line={"width": 0, "color": colour},
                        fill=fill,
                        fillcolor=_rgba(colour, 0.22),
                        name=f"{name}, middle half of every {k} steps",
                        legendgroup=side,
                        showlegend=fill is not None,
                        hoverinfo="skip",
                    )
                )
        fig.add_trace(
            trace(
                "scatter",
                x=x,
                y=smooth,
                mode="lines",
                line={"color": colour, "width": 2.5},
                name=f"{name}, rolling median",
                legendgroup=side,
                hovertemplate=f"%{{x:.2f}} min<br>%{{y:.{m.digits}f}} {m.unit}<extra></extra>",
            )
        )
    fig.update_xaxes(title_text="Time in the run (min)")
    fig.update_yaxes(title_text=axis_title(metric))
    return _layout(fig, metric_info(metric).label, height=320, margin={"t": 85})


def side_distributions(steps: pd.DataFrame, metrics: Sequence[str]) -> Figure:
    """Left vs right stance: a pair of boxes (quartiles, whiskers at 1.5 IQR) per metric."""
    st = running_steps(steps)
    if len(st) < 6:
        return empty("Too few running steps to compare sides")
    fig = Figure(rows=1, cols=len(metrics), subplot_titles=[axis_title(m) for m in metrics])
    for j, m in enumerate(metrics, start=1):
        for side in ("L", "R"):
            v = st.loc[st["side"] == side, m].to_numpy(dtype=float)
            label = "Left" if side == "L" else "Right"
            fig.add_trace(
                trace(
                    "box",
                    x=[label],
                    **box_stats(v),
                    name=label,
                    marker={"color": SIDE_COLOUR[side]},
                    showlegend=j == 1,
                    legendgroup=side,
                ),
                row=1,
                col=j,
            )
    return _layout(fig, "Left vs right stance", height=340, subplots=True)


def drift_figure(drift: Mapping[str, Any]) -> Figure:
    """Early vs late in the run (first and last fifth of the running), per metric; drop per side."""
    if not drift.get("available"):
        return empty(drift.get("reason") or "Drift needs a longer run")
    metrics = [
        m for m in ("cadence_spm", "contact_time_ms", "pelvic_drop_deg", "braking_dv_mps") if m in drift["metrics"]
    ]
    fig = Figure(rows=1, cols=len(metrics), subplot_titles=[axis_title(m) for m in metrics])
    for j, m in enumerate(metrics, start=1):
        d = drift["metrics"][m]
        fig.add_trace(
            trace(
                "bar",
                x=["early", "late"],
                y=[d["early"], d["late"]],
                marker={"color": [SKY, ACCENT]},
                showlegend=False,
                text=[f"{d['early']:.{metric_info(m).digits}f}", f"{d['late']:.{metric_info(m).digits}f}"],
                textposition="auto",
                hovertemplate=f"%{{x}}: %{{y:.{metric_info(m).digits}f}} {metric_info(m).unit}<extra></extra>",
            ),
            row=1,
            col=j,
        )
        lo, hi = sorted((d["early"], d["late"]))
        pad = max(abs(hi) * 0.15, 1e-3)
        fig.update_yaxes(range=[max(0.0, lo - pad) if lo >= 0 else lo - pad, hi + pad * 0.6], row=1, col=j)
    within = drift.get("within_terrain") or []
    where = f" within like terrain ({', '.join(within)})" if within else ""
    return _layout(fig, f"Drift: first vs last fifth of the running{where}", height=320, subplots=True)


def envelope(t: np.ndarray, y: np.ndarray, max_points: int = MAX_RAW_POINTS) -> tuple[np.ndarray, np.ndarray]:
    """Min and max of each bucket, in time order: keeps every peak (impacts) in at most ``max_points`` points."""
    n = len(t)
    if n <= max_points:
        return t, y
    k = -(-n // (max_points // 2))  # samples per bucket
    rows = -(-n // k)
    padded = np.full(rows * k, np.nan)
    padded[:n] = y
    blocks = padded.reshape(rows, k)
    base = np.arange(rows) * k
    pick = np.unique(np.concatenate((base + np.nanargmin(blocks, axis=1), base + np.nanargmax(blocks, axis=1))))
    return t[pick], y[pick]


def raw_window(
    t: np.ndarray,
    acc: np.ndarray,
    gyr: np.ndarray | None,
    start_s: float,
    length_s: float,
    contacts: Sequence[tuple[float, str]] = (),
) -> Figure:
    """Sensor-frame acceleration (g) and angular rate (deg/s) in a window, with the detected foot contacts."""
    a, b = np.searchsorted(t, [start_s, start_s + length_s])
    if b - a < 2:
        return empty("No samples in this window (a gap, or past the end)")
    rows = 2 if gyr is not None else 1
    fig = Figure(rows=rows, cols=1, shared_xaxes=True, vertical_spacing=0.08)
    colours = (LEFT, RIGHT, ACCENT)
    tw = t[a:b]
    for j, axis in enumerate("xyz"):
        x, y = envelope(tw, acc[a:b, j] / G)
        fig.add_trace(
            trace("scatter", x=x, y=y, mode="lines", line={"width": 1, "color": colours[j]}, name=f"acc {axis}"),
            row=1,
            col=1,
        )
        if gyr is not None:
            x, y = envelope(tw, np.degrees(gyr[a:b, j]))
            fig.add_trace(
                trace(
                    "scatter",
                    x=x,
                    y=y,
                    mode="lines",
                    line={"width": 1, "color": colours[j], "dash": "dot"},
                    name=f"gyro {axis}",
                ),
                row=2,
                col=1,
            )
    acc_g = acc[a:b] / G
    lo, hi = float(np.nanmin(acc_g)), float(np.nanmax(acc_g))
    for side in ("L", "R"):  # one trace of vertical segments per side (shapes per contact are slow to build)
        ics = [ic for ic, sd in contacts if sd == side and start_s <= ic <= start_s + length_s]
        if ics:
            fig.add_trace(
                trace(
                    "scatter",
                    x=np.repeat(ics, 3),
                    y=np.tile([lo, hi, np.nan], len(ics)),
                    mode="lines",
                    line={"color": SIDE_COLOUR[side], "width": 1, "dash": "dash"},
                    name=f"contact, {SIDE_NAME[side]}",
                    hoverinfo="skip",
                ),
                row=1,
                col=1,
            )
    fig.update_yaxes(title_text="Acceleration (g)", row=1, col=1)
    if gyr is not None:
        fig.update_yaxes(title_text="Angular rate (deg/s)", row=2, col=1)
    fig.update_xaxes(title_text="Time (s)", row=rows, col=1)
    title = "Raw signal, sensor frame, with the detected foot contacts"
    return _layout(fig, title, height=260 + 160 * (rows - 1))


def weekly_load(weeks: Sequence[Mapping[str, Any]]) -> Figure:
    """Running minutes per week; a week more than 30 % above the one before is flagged."""
    if not weeks:
        return empty("No dated runs yet")
    x = [w["week_start"] for w in weeks]
    y = [w["running_min"] for w in weeks]
    colours = [WARN if w.get("spike") else SKY for w in weeks]
    text = [f"+{w['change_pct']:.0f} %" if w.get("spike") and w.get("change_pct") is not None else "" for w in weeks]
    fig = Figure().add_trace(
        trace(
            "bar",
            x=x,
            y=y,
            marker={"color": colours},
            text=text,
            textposition="outside",
            customdata=[[w["runs"], w.get("change_pct")] for w in weeks],
            hovertemplate="week of %{x}<br>%{y:.0f} min running in %{customdata[0]} runs"
            "<br>change %{customdata[1]:.0f} %<extra></extra>",
            showlegend=False,
        )
    )
    fig.update_xaxes(title_text="Week starting (Monday)", type="category")
    fig.update_yaxes(title_text="Running time (min)")
    return _layout(fig, "Weekly load (orange-red: > 30 % more than the week before)")


def metric_trend(runs: Sequence[Mapping[str, Any]], metric: str) -> Figure:
    """One run-record field across runs (``runs``: ``day``, ``name``, ``record``), oldest to newest; pelvic drop as
    left and right."""
    dated = sorted((r for r in runs if r.get("day")), key=lambda r: r["day"])
    if not dated:
        return empty("No dated runs yet")
    fig = Figure()
    day = [r["day"] for r in dated]
    names = [r.get("name", "") for r in dated]
    if metric == "pelvic_drop_deg":
        series = [("pelvic_drop_left_deg", "left stance", LEFT), ("pelvic_drop_right_deg", "right stance", RIGHT)]
    else:
        series = [(metric, metric_info(metric).label, BOTH)]
    for key, label, colour in series:
        y = [r["record"].value(key) for r in dated]
        fig.add_trace(
            trace(
                "scatter",
                x=day,
                y=[np.nan if v is None else v for v in y],
                mode="lines+markers",
                name=label,
                line={"color": colour},
                customdata=names,
                hovertemplate=f"%{{x}} %{{customdata}}<br>%{{y:.{metric_info(metric).digits}f}} "
                f"{metric_info(metric).unit}<extra></extra>",
            )
        )
    fig.update_xaxes(title_text="Run date")
    fig.update_yaxes(title_text=axis_title(metric))
    return _layout(fig, f"{metric_info(metric).label} across runs", height=280)


def compare_runs(a: pd.DataFrame, b: pd.DataFrame, name_a: str, name_b: str, metrics: Sequence[str]) -> Figure:
    """Two runs side by side: the per-step distribution of each metric (drop per stance side)."""
    sa, sb = running_steps(a), running_steps(b)
    if len(sa) < 6 or len(sb) < 6:
        return empty("Both runs need running steps to compare")
    fig = Figure(rows=1, cols=len(metrics), subplot_titles=[axis_title(m) for m in metrics])
    for j, m in enumerate(metrics, start=1):
        for st, name, colour in ((sa, name_a, SKY), (sb, name_b, ACCENT)):
            groups = [("left", "L"), ("right", "R")] if m == "pelvic_drop_deg" else [("all steps", None)]
            for label, side in groups:
                v = (st[m] if side is None else st.loc[st["side"] == side, m]).to_numpy(dtype=float)
                fig.add_trace(
                    trace(
                        "box",
                        x=[label],
                        **box_stats(v),
                        name=name,
                        marker={"color": colour},
                        showlegend=j == 1 and side != "R",
                        legendgroup=name,
                        offsetgroup=name,
                    ),
                    row=1,
                    col=j,
                )
    fig.update_layout(boxmode="group")
    fig.update_xaxes(categoryorder="array", categoryarray=["left", "right"])
    return _layout(fig, "Per-step distributions, run A vs run B (drop per stance side)", height=360, subplots=True)


def speed_grade(steps: pd.DataFrame) -> Figure:
    """Speed and grade at each step over the run (their rolling median over 31 steps; long runs thinned to at most
    600 points), the steps coloured by terrain class."""
    st = running_steps(steps)
    if "speed_mps" not in st or not (st["speed_mps"].notna().any() or st["grade_pct"].notna().any()):
        return empty("No speed or grade: the recording has no GPS, barometer, watch or foot pod")
    fig = Figure(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.12)
    k = max(1, -(-len(st) // MAX_STEP_POINTS))
    x = st["ic_s"].to_numpy()[::k] / 60.0
    terrain = st["terrain"].to_numpy()[::k]
    for row, col, label in ((1, "speed_mps", "Speed (m/s)"), (2, "grade_pct", "Grade (%)")):
        y = rolling_median(st[col])[::k]
        for name in (*TERRAINS, "unknown"):
            on = terrain == name
            if not on.any():
                continue
            fig.add_trace(
                trace(
                    "scatter",
                    x=x[on],
                    y=y[on],
                    mode="markers",
                    marker={"size": 4, "color": palette.TERRAIN_COLOUR.get(name, MUTED)},
                    name=name,
                    legendgroup=name,
                    showlegend=row == 1,
                    hovertemplate=f"%{{x:.2f}} min<br>%{{y:.2f}} {label.split('(')[1][:-1]} ({name})<extra></extra>",
                ),
                row=row,
                col=1,
            )
        fig.update_yaxes(title_text=label, row=row, col=1)
    fig.update_xaxes(title_text="Time in the run (min)", row=2, col=1)
    return _layout(fig, "Speed and grade over the run (median of 31 steps)", height=380)


#: what the route can be coloured by: a per-step column (its label and unit from the run record, else the terrain
#: split's field table)
ROUTE_METRICS = ("contact_time_ms", "cadence_spm", "pelvic_drop_deg", "braking_dv_mps", "step_speed_loss_mps",
                 "speed_mps", "grade_pct")  # fmt: skip


def label_of(metric: str) -> tuple[str, str, int]:
    """Label, unit and decimals of a per-step column (grade is the terrain split's: no run-record field)."""
    info = TERRAIN_FIELDS[metric] if metric == "grade_pct" else metric_info(metric)
    return info.label, info.unit, info.digits


def route_figure(track: pd.DataFrame, steps: pd.DataFrame, metric: str) -> Figure:
    """The route as a plain line (metres east and north of the start, equal scales; no map tiles, nothing fetched),
    each step's position coloured by ``metric`` (the median of the 31 steps around it)."""
    if "latitude_deg" not in track or track["latitude_deg"].notna().sum() < 2:
        return empty("No route: the recording has no positions (GPS or a watch)")
    st = running_steps(steps)
    if metric not in st or st[metric].notna().sum() < 3:
        return empty(f"No {label_of(metric)[0].lower()} values to colour the route by")
    t = track["t_s"].to_numpy()
    lat, lon = track["latitude_deg"].to_numpy(), track["longitude_deg"].to_numpy()
    east, north = route_xy(t, lat, lon, t)
    k = max(1, -(-len(st) // MAX_STEP_POINTS))
    x, y = route_xy(t, lat, lon, st["ic_s"].to_numpy()[::k])
    v = rolling_median(st[metric])[::k]
    label, unit, digits = label_of(metric)
    fig = Figure()
    fig.add_trace(trace("scatter", x=east, y=north, mode="lines", line={"color": "#cccccc", "width": 6},
                        hoverinfo="skip", showlegend=False))  # fmt: skip
    fig.add_trace(
        trace(
            "scatter",
            x=x,
            y=y,
            mode="markers",
            marker={
                "size": 6,
                "color": v,
                "colorscale": [[i / (len(palette.SEQUENTIAL) - 1), c] for i, c in enumerate(palette.SEQUENTIAL)],
                "colorbar": {"title": {"text": unit}, "thickness": 12},
            },
            customdata=st["ic_s"].to_numpy()[::k] / 60.0,
            hovertemplate=f"%{{customdata:.1f}} min<br>%{{marker.color:.{digits}f}} {unit}<extra></extra>",
            showlegend=False,
        )
    )
    fig.update_xaxes(title_text="East of the start (m)")
    fig.update_yaxes(title_text="North of the start (m)", scaleanchor="x", scaleratio=1)
    return _layout(fig, f"The route, coloured by {label.lower()} (no map)", height=460)


def live_chart(history: Sequence[Mapping[str, Any]]) -> Figure:
    """The live session so far: cadence and pelvic drop per side, one point per update."""
    if not history:
        return empty("Waiting for the first seconds of running", height=300)
    minutes = history[-1]["elapsed_s"] >= 180.0  # seconds for the first three minutes, then minutes
    t = [h["elapsed_s"] / (60.0 if minutes else 1.0) for h in history]
    fig = Figure(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.1)

    def col(key: str) -> list[float]:
        return [np.nan if h[key] is None else h[key] for h in history]

    fig.add_trace(trace("scatter", x=t, y=col("cadence_spm"), name="cadence", line={"color": BOTH}), row=1, col=1)
    for key, name, colour in (("pelvic_drop_left_deg", "left", LEFT), ("pelvic_drop_right_deg", "right", RIGHT)):
        fig.add_trace(
            trace("scatter", x=t, y=col(key), name=f"drop, {name} stance", line={"color": colour}), row=2, col=1
        )
    fig.update_yaxes(title_text="Cadence (spm)", row=1, col=1)
    fig.update_yaxes(title_text="Pelvic drop (deg)", row=2, col=1)
    fig.update_xaxes(title_text=f"Time in the session ({'min' if minutes else 's'})", row=2, col=1)
    return _layout(fig, "Live: last 30 s window, updated every second", height=380, uirevision="live")
