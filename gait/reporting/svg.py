"""Small inline-SVG charts: enough for a report that must open offline without scripts or fonts.

Colours are gait's one palette (``gait.palette``, Okabe-Ito, distinguishable with the common colour-vision
deficiencies): left is blue and right is orange everywhere in gait.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass
from html import escape

import numpy as np

from gait.palette import BOTH as NEUTRAL
from gait.palette import LEFT, RIGHT, SEQUENTIAL

MAX_POINTS = 1200


@dataclass(frozen=True)
class Series:
    name: str
    x: np.ndarray
    y: np.ndarray
    color: str = NEUTRAL
    kind: str = "line"  # line | points


def nice_ticks(lo: float, hi: float, n: int = 5) -> np.ndarray:
    """Round-number ticks covering [lo, hi]."""
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        hi = lo + 1.0
    raw = (hi - lo) / max(1, n - 1)
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    return np.arange(math.floor(lo / step) * step, hi + step * 0.999, step)


def binned_median(x: np.ndarray, y: np.ndarray, width: float) -> tuple[np.ndarray, np.ndarray]:
    """Median of y in consecutive x bins of ``width`` (a readable trend line through noisy per-step values)."""
    ok = np.isfinite(x) & np.isfinite(y)
    x, y = x[ok], y[ok]
    if len(x) == 0:
        return x, y
    idx = ((x - x.min()) // width).astype(int)
    order = np.argsort(idx, kind="stable")
    idx, xs, ys = idx[order], x[order], y[order]
    starts = np.flatnonzero(np.r_[True, idx[1:] != idx[:-1]])
    bounds = np.r_[starts, len(idx)]
    xm = np.array([np.median(xs[a:b]) for a, b in itertools.pairwise(bounds)])
    ym = np.array([np.median(ys[a:b]) for a, b in itertools.pairwise(bounds)])
    return xm, ym


def chart(series: list[Series], title: str, x_label: str, y_label: str, width: int = 660, height: int = 230) -> str:
    """A line/point chart as an SVG string; empty series are left out, no data gives a short note instead."""
    series = [s for s in series if np.isfinite(s.y).any()]
    if not series:
        return f'<p class="nodata">{escape(title)}: no data</p>'
    left, right, top, bottom = 56, 12, 44, 40
    pw, ph = width - left - right, height - top - bottom
    xs = np.concatenate([s.x[np.isfinite(s.y)] for s in series])
    ys = np.concatenate([s.y[np.isfinite(s.y)] for s in series])
    lo, hi = np.percentile(ys, [0.5, 99.5]) if len(ys) > 50 else (ys.min(), ys.max())
    pad = 0.08 * (hi - lo) if hi > lo else 1.0
    yt = nice_ticks(lo - pad, hi + pad)
    x0, x1 = float(xs.min()), float(xs.max())
    if x1 <= x0:
        x1 = x0 + 1.0
    xt = nice_ticks(x0, x1)
    xt = xt[(xt >= x0 - 1e-9) & (xt <= x1 + 1e-9)]
    y0, y1 = yt[0], yt[-1]

    def px(x: np.ndarray) -> np.ndarray:
        return left + (x - x0) / (x1 - x0) * pw

    def py(y: np.ndarray) -> np.ndarray:
        return top + ph - (np.clip(y, y0, y1) - y0) / (y1 - y0) * ph

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(title)}" class="chart"><title>{escape(title)}</title>',
        f'<text x="{left}" y="16" class="ct">{escape(title)}</text>',
    ]
    for v in yt:
        y = py(np.array([v]))[0]
        out.append(f'<line x1="{left}" x2="{left + pw}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>')
        out.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" class="tick">{v:g}</text>')
    for v in xt:
        x = px(np.array([v]))[0]
        out.append(f'<text x="{x:.1f}" y="{top + ph + 16}" text-anchor="middle" class="tick">{v:g}</text>')
    out.append(
        f'<text x="{left + pw / 2}" y="{height - 4}" text-anchor="middle" class="lab">{escape(x_label)}</text>'
        f'<text x="12" y="{top + ph / 2}" text-anchor="middle" class="lab" '
        f'transform="rotate(-90 12 {top + ph / 2})">{escape(y_label)}</text>'
    )
    out += [_draw(s, px, py) for s in reversed(series)]
    out += [_legend([s for s in series if s.kind != "points"], left), "</svg>"]
    return "".join(out)


def _draw(s: Series, px: Callable[[np.ndarray], np.ndarray], py: Callable[[np.ndarray], np.ndarray]) -> str:
    """One series: a thinned cloud of points, or a line."""
    ok = np.isfinite(s.y) & np.isfinite(s.x)
    x, y = s.x[ok], s.y[ok]
    if s.kind != "points":
        pts = " ".join(f"{a:.1f},{b:.1f}" for a, b in zip(px(x), py(y), strict=True))
        return f'<polyline points="{pts}" fill="none" stroke="{s.color}" stroke-width="2"/>'
    if len(x) > MAX_POINTS:
        keep = np.linspace(0, len(x) - 1, MAX_POINTS).astype(int)
        x, y = x[keep], y[keep]
    pts = "".join(f"M{a:.1f} {b:.1f}h0" for a, b in zip(px(x), py(y), strict=True))
    return f'<path d="{pts}" stroke="{s.color}" stroke-width="3" stroke-linecap="round" opacity="0.35"/>'


def _legend(lines: list[Series], left: float) -> str:
    out, lx = [], left
    for s in lines:
        out.append(
            f'<rect x="{lx}" y="23" width="10" height="10" fill="{s.color}"/>'
            f'<text x="{lx + 14}" y="32" class="tick">{escape(s.name)}</text>'
        )
        lx += 14 + 7 * len(s.name) + 16
    return "".join(out)


def bars(
    labels: list[str],
    values: list[float],
    flags: list[bool],
    title: str,
    y_label: str,
    width: int = 660,
    height: int = 210,
) -> str:
    """Vertical bars (weekly load); flagged bars in vermillion with a marker."""
    if not values:
        return f'<p class="nodata">{escape(title)}: no data</p>'
    left, right, top, bottom = 56, 12, 28, 40
    pw, ph = width - left - right, height - top - bottom
    yt = nice_ticks(0.0, max(values) * 1.1 or 1.0)
    y1 = yt[-1]
    bw = pw / len(values)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(title)}" class="chart"><title>{escape(title)}</title>',
        f'<text x="{left}" y="16" class="ct">{escape(title)}</text>',
    ]
    for v in yt:
        y = top + ph - v / y1 * ph
        out.append(f'<line x1="{left}" x2="{left + pw}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>')
        out.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" class="tick">{v:g}</text>')
    for i, (lab, v, f) in enumerate(zip(labels, values, flags, strict=True)):
        h = v / y1 * ph
        x = left + i * bw + 0.15 * bw
        color = RIGHT if f else LEFT
        out.append(
            f'<rect x="{x:.1f}" y="{top + ph - h:.1f}" width="{0.7 * bw:.1f}" height="{h:.1f}" fill="{color}">'
            f"<title>{escape(lab)}: {v:.0f}{' (over 30 % up)' if f else ''}</title></rect>"
        )
        if f:
            out.append(
                f'<text x="{x + 0.35 * bw:.1f}" y="{top + ph - h - 4:.1f}" text-anchor="middle" '
                'class="tick">&#9650;30%</text>'
            )
        out.append(
            f'<text x="{x + 0.35 * bw:.1f}" y="{top + ph + 16}" text-anchor="middle" class="tick">{escape(lab)}</text>'
        )
    out.append(
        f'<text x="12" y="{top + ph / 2}" text-anchor="middle" class="lab" '
        f'transform="rotate(-90 12 {top + ph / 2})">{escape(y_label)}</text></svg>'
    )
    return "".join(out)


def route(east_m: np.ndarray, north_m: np.ndarray, values: np.ndarray, title: str, unit: str, digits: int = 0,
          size: int = 460) -> str:  # fmt: skip
    """The route as a plain line (east/north in metres, north up, equal scales; no map), each stretch coloured by
    ``values`` in five equal-count bands, with a legend of the bands' ranges."""
    ok = np.isfinite(east_m) & np.isfinite(north_m)
    if ok.sum() < 2:
        return f'<p class="nodata">{escape(title)}: no positions</p>'
    x, y, v = east_m[ok], north_m[ok], values[ok]
    span = max(float(np.ptp(x)), float(np.ptp(y)), 1.0)
    pad, top = 12, 30
    k = (size - 2 * pad) / span
    px, py = pad + (x - x.min()) * k, top + (y.max() - y) * k
    height = int(top + np.ptp(y) * k + pad + 24)
    known = v[np.isfinite(v)]
    edges = np.percentile(known, np.linspace(0, 100, len(SEQUENTIAL) + 1)) if len(known) else np.zeros(0)
    band = np.clip(np.searchsorted(edges[1:-1], v), 0, len(SEQUENTIAL) - 1) if len(edges) else np.zeros(len(v), int)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {size} {height}" role="img" '
        f'aria-label="{escape(title)}" class="chart route"><title>{escape(title)}</title>',
        f'<text x="{pad}" y="16" class="ct">{escape(title)}</text>',
    ]
    colours = np.where(np.isfinite(v), band, -1)
    cuts = np.flatnonzero(np.diff(colours)) + 1  # one polyline per run of one colour (joined to the next point)
    for a, b in itertools.pairwise(np.concatenate(([0], cuts, [len(v)]))):
        stop = min(b + 1, len(v))
        colour = SEQUENTIAL[colours[a]] if colours[a] >= 0 else "#bbbbbb"
        pts = " ".join(f"{p:.1f},{q:.1f}" for p, q in zip(px[a:stop], py[a:stop], strict=True))
        out.append(f'<polyline points="{pts}" fill="none" stroke="{colour}" stroke-width="3"/>')
    lx = pad
    for i, colour in enumerate(SEQUENTIAL[: max(len(edges) - 1, 0)]):
        label = f"{edges[i]:.{digits}f}-{edges[i + 1]:.{digits}f}"
        out.append(f'<rect x="{lx}" y="{height - 16}" width="10" height="10" fill="{colour}"/>'
                   f'<text x="{lx + 13}" y="{height - 7}" class="tick">{escape(label)}</text>')  # fmt: skip
        lx += 13 + 7 * len(label) + 10
    out.append(f'<text x="{size - pad}" y="{height - 7}" text-anchor="end" class="tick">{escape(unit)}</text></svg>')
    return "".join(out)
