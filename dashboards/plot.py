"""A small figure builder that writes plotly.js JSON directly.

plotly's Python objects validate every property and copy every array as they are built: about a second for
the seven charts of a 1-hour run on a small machine, most of the time the run page takes. The dashboard needs
a handful of trace types and a grid of subplots, so it builds the JSON itself; plotly.js (in the browser) does
the validation anyway. Figures keep plotly's reading style (``fig.data[0].line.color``) for tests.
"""

from __future__ import annotations

from typing import Any


class Obj(dict):
    """A dict whose keys also read as attributes, like plotly's objects; a missing key reads as None."""

    def __getattr__(self, key: str) -> Any:
        value = self.get(key)
        return Obj(value) if isinstance(value, dict) and not isinstance(value, Obj) else value


def trace(kind: str, **props: Any) -> Obj:
    """One trace: ``kind`` is plotly.js's type (scatter, bar, box); ``props`` its attributes, nested as dicts."""
    return Obj(type=kind, **props)


def _merge(into: dict, props: dict) -> None:
    for k, v in props.items():
        if isinstance(v, dict) and isinstance(into.get(k), dict):
            _merge(into[k], v)
        else:
            into[k] = v


def _axis_props(title_text: str | None, props: dict[str, Any]) -> dict[str, Any]:
    return {**props, **({"title": {"text": title_text}} if title_text is not None else {})}


class Figure:
    """A grid of ``rows`` x ``cols`` subplots (one x and one y axis each), titled like ``make_subplots``."""

    def __init__(
        self,
        rows: int = 1,
        cols: int = 1,
        subplot_titles: tuple[str, ...] | list[str] = (),
        shared_xaxes: bool = False,
        horizontal_spacing: float = 0.06,
        vertical_spacing: float = 0.1,
    ) -> None:
        self.rows, self.cols = rows, cols
        self.data: list[Obj] = []
        self.layout = Obj()
        w = (1.0 - (cols - 1) * horizontal_spacing) / cols
        h = (1.0 - (rows - 1) * vertical_spacing) / rows
        annotations = []
        for r in range(1, rows + 1):
            top = 1.0 - (r - 1) * (h + vertical_spacing)
            for c in range(1, cols + 1):
                n = self._n(r, c)
                left = (c - 1) * (w + horizontal_spacing)
                xa: dict[str, Any] = {"domain": [left, left + w], "anchor": f"y{n if n > 1 else ''}"}
                if shared_xaxes and r < rows:
                    xa.update(matches=f"x{self._n(rows, c) if self._n(rows, c) > 1 else ''}", showticklabels=False)
                self.layout[self._key("x", n)] = xa
                self.layout[self._key("y", n)] = {"domain": [top - h, top], "anchor": f"x{n if n > 1 else ''}"}
                i = (r - 1) * cols + (c - 1)
                if i < len(subplot_titles) and subplot_titles[i]:
                    annotations.append(
                        {
                            "text": subplot_titles[i],
                            "x": left + w / 2,
                            "y": top,
                            "xref": "paper",
                            "yref": "paper",
                            "xanchor": "center",
                            "yanchor": "bottom",
                            "showarrow": False,
                            "font": {"size": 13},
                        }
                    )
        if annotations:
            self.layout["annotations"] = annotations

    def _n(self, row: int, col: int) -> int:
        return (row - 1) * self.cols + col

    @staticmethod
    def _key(axis: str, n: int) -> str:
        return f"{axis}axis{n if n > 1 else ''}"

    def add_trace(self, tr: Obj, row: int = 1, col: int = 1) -> Figure:
        n = self._n(row, col)
        if n > 1:
            tr = Obj(tr, xaxis=f"x{n}", yaxis=f"y{n}")
        self.data.append(tr)
        return self

    def _update_axes(self, axis: str, row: int | None, col: int | None, props: dict[str, Any]) -> None:
        for r in range(1, self.rows + 1):
            for c in range(1, self.cols + 1):
                if (row is None or row == r) and (col is None or col == c):
                    _merge(self.layout[self._key(axis, self._n(r, c))], props)

    def update_xaxes(self, row: int | None = None, col: int | None = None, title_text: str | None = None, **p: Any):
        self._update_axes("x", row, col, _axis_props(title_text, p))
        return self

    def update_yaxes(self, row: int | None = None, col: int | None = None, title_text: str | None = None, **p: Any):
        self._update_axes("y", row, col, _axis_props(title_text, p))
        return self

    def update_layout(self, **props: Any) -> Figure:
        _merge(self.layout, props)
        return self

    def add_annotation(self, **props: Any) -> Figure:
        self.layout.setdefault("annotations", []).append(props)
        return self

    def to_plotly_json(self) -> dict[str, Any]:
        """What Dash sends to the browser (plotly's JSON encoder turns numpy arrays and NaN into JSON)."""
        return {"data": list(self.data), "layout": dict(self.layout)}
