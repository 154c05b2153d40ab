"""Weekly training load: running time, steps and (where speed is known) distance per ISO week, the change on
the previous week with the > 30 % flag (Nielsen et al. 2014), and the average of the 4 weeks before.

The acute:chronic workload ratio is deliberately not used: its "sweet spot" comes from team sports and its
acute week sits inside its chronic window (domain notes, section 3). Raw week-on-week change and a plain
4-week average are shown instead.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

SPIKE = 0.30


@dataclass(frozen=True)
class RunLoad:
    day: date
    running_s: float
    steps: int
    distance_m: float | None = None


@dataclass(frozen=True)
class WeekLoad:
    week_start: date  # Monday
    runs: int
    running_min: float
    steps: int
    distance_km: float | None  # None unless every run of the week has a distance
    previous_min: float | None
    change_pct: float | None  # vs the previous week (None after an empty week: a restart, not a spike)
    chronic_min: float | None  # mean of the 4 weeks before
    spike: bool

    def to_dict(self) -> dict[str, object]:
        return {
            "week_start": self.week_start.isoformat(),
            "runs": self.runs,
            "running_min": round(self.running_min, 1),
            "steps": self.steps,
            "distance_km": None if self.distance_km is None else round(self.distance_km, 2),
            "change_pct": None if self.change_pct is None else round(self.change_pct, 1),
            "chronic_min": None if self.chronic_min is None else round(self.chronic_min, 1),
            "spike": self.spike,
        }


def week_start(d: date) -> date:
    return d - timedelta(days=d.weekday())


def parse_day(iso: str | None) -> date | None:
    if not iso:
        return None
    try:
        return datetime.fromisoformat(iso.replace("Z", "+00:00")).date()
    except ValueError:
        return None


def weekly_load(runs: Iterable[RunLoad], until: date | None = None) -> list[WeekLoad]:
    """One row per week from the first run's week to ``until`` (or the last run), empty weeks included."""
    runs = sorted(runs, key=lambda r: r.day)
    if not runs:
        return []
    first = week_start(runs[0].day)
    last = week_start(until or runs[-1].day)
    by_week: dict[date, list[RunLoad]] = {}
    for r in runs:
        by_week.setdefault(week_start(r.day), []).append(r)
    out: list[WeekLoad] = []
    minutes: list[float] = []
    wk = first
    while wk <= last:
        rs = by_week.get(wk, [])
        total = sum(r.running_s for r in rs) / 60.0
        distances = [r.distance_m for r in rs]
        dist = sum(distances) / 1000.0 if rs and all(d is not None for d in distances) else None  # type: ignore[misc]
        prev = minutes[-1] if minutes else None
        change = None if not prev else 100.0 * (total - prev) / prev
        chronic = sum(minutes[-4:]) / len(minutes[-4:]) if minutes else None
        out.append(
            WeekLoad(
                wk,
                len(rs),
                total,
                sum(r.steps for r in rs),
                dist,
                prev,
                change,
                chronic,
                spike=change is not None and change > 100 * SPIKE,
            )
        )
        minutes.append(total)
        wk += timedelta(days=7)
    return out
