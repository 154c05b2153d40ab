"""The run store, personal baselines and weekly load, on synthetic calendars with hand-worked answers."""

from __future__ import annotations

import sqlite3
from datetime import date, timedelta
from pathlib import Path

import pytest

from gait.analysis.summary import RunRecord
from gait.insights.baseline import MIN_RUNS, build_baseline, similar_pace
from gait.insights.load import RunLoad, weekly_load
from gait.store import SCHEMA_VERSION, RunStore, StoreError

MON = date(2026, 3, 2)  # a Monday


def run(day: date, minutes: float, steps: int = 0, km: float | None = None) -> RunLoad:
    return RunLoad(day, minutes * 60.0, steps, None if km is None else km * 1000.0)


def test_weeks_start_on_monday_and_sum_runs():
    weeks = weekly_load([run(MON, 30, 5000, 6.0), run(MON + timedelta(days=6), 45, 7000, 9.0)])
    assert len(weeks) == 1
    w = weeks[0]
    assert w.week_start == MON and w.runs == 2 and w.running_min == 75 and w.steps == 12000
    assert w.distance_km == pytest.approx(15.0)
    assert w.change_pct is None and w.chronic_min is None and not w.spike


def test_spike_is_more_than_30_percent_on_the_previous_week():
    minutes = [100, 130, 170, 100, 100]  # +30 % (not a spike), +30.8 % (spike), -41 %, 0 %
    weeks = weekly_load([run(MON + timedelta(weeks=i), m) for i, m in enumerate(minutes)])
    assert [w.spike for w in weeks] == [False, False, True, False, False]
    assert weeks[1].change_pct == pytest.approx(30.0)
    assert weeks[2].change_pct == pytest.approx(100 * 40 / 130)
    assert weeks[2].previous_min == 130


def test_chronic_is_the_mean_of_up_to_four_weeks_before():
    minutes = [60, 80, 100, 120, 140, 160]
    weeks = weekly_load([run(MON + timedelta(weeks=i), m) for i, m in enumerate(minutes)])
    assert weeks[1].chronic_min == 60
    assert weeks[4].chronic_min == pytest.approx((60 + 80 + 100 + 120) / 4)
    assert weeks[5].chronic_min == pytest.approx((80 + 100 + 120 + 140) / 4)


def test_empty_weeks_are_listed_and_a_restart_is_not_a_spike():
    weeks = weekly_load([run(MON, 100), run(MON + timedelta(weeks=3), 120)])
    assert [w.runs for w in weeks] == [1, 0, 0, 1]
    assert weeks[1].change_pct == pytest.approx(-100.0)
    assert weeks[3].change_pct is None and not weeks[3].spike  # after an empty week: a restart


def test_until_extends_to_the_current_week():
    weeks = weekly_load([run(MON, 50)], until=MON + timedelta(days=15))
    assert [w.running_min for w in weeks] == [50, 0, 0]


def test_distance_only_when_every_run_has_one():
    weeks = weekly_load([run(MON, 30, km=5.0), run(MON + timedelta(days=2), 30)])
    assert weeks[0].distance_km is None


def _values(ct: float, drop_r: float, speed: float | None = None) -> RunRecord:
    return RunRecord(contact_time_ms=ct, pelvic_drop_right_deg=drop_r, cadence_spm=170.0, speed_mps=speed)


def test_similar_pace_by_speed_when_both_have_it_else_by_contact_time():
    assert similar_pace(_values(240, 5), _values(262, 5))  # 9 %
    assert not similar_pace(_values(240, 5), _values(270, 5))  # 11 %
    assert not similar_pace(_values(240, 5, speed=3.0), _values(240, 5, speed=3.5))
    assert similar_pace(_values(200, 5, speed=3.0), _values(260, 5, speed=3.2))


def test_baseline_mean_sd_floor_and_run_selection():
    current = _values(240, 6.0)
    earlier = [_values(241, 5.0), _values(239, 5.2), _values(300, 9.0), _values(242, 5.4)]
    baseline, n = build_baseline(current, earlier)
    assert n == 3 and baseline is not None and baseline.n_runs == 3
    mean, sd = baseline.band("pelvic_drop_right_deg")
    assert mean == pytest.approx(5.2) and sd == pytest.approx(0.3)  # SD 0.2 floored at 0.3
    assert baseline.band("impact_g") is None
    none, n = build_baseline(current, earlier[:2])
    assert none is None and n == 2 < MIN_RUNS


def _add(store: RunStore, rid: str, day: date | None, runner: str = "ann", ct: float = 240.0) -> None:
    store.add(
        recording_id=rid,
        runner=runner,
        name=rid,
        path="",
        day=day,
        synthetic=True,
        record=RunRecord(running_s=1800.0, steps=5000, contact_time_ms=ct),
        findings=[{"id": "x", "severity": "watch"}, {"id": "y", "severity": "not_enough_data"}],
    )


def test_store_orders_filters_and_replaces(tmp_path: Path):
    s = RunStore(tmp_path / "sub" / "gait.sqlite")
    _add(s, "a", MON)
    _add(s, "b", MON + timedelta(days=9))
    _add(s, "c", None)
    _add(s, "d", MON + timedelta(days=2), runner="bob")
    assert [r.recording_id for r in s.runs("ann")] == ["b", "a", "c"]
    assert [r.recording_id for r in s.runs("ann", before=MON + timedelta(days=3))] == ["a"]
    assert [r.recording_id for r in s.runs("ann", exclude="b")] == ["a", "c"]
    assert s.runners() == ["ann", "bob"]
    assert s.runs("ann")[0].n_findings == 1
    _add(s, "a", MON, ct=250.0)  # re-analysis replaces
    assert len(s.runs("ann")) == 3 and s.runs("ann")[1].record.contact_time_ms == 250.0
    weeks = s.weekly("ann")
    assert [w.runs for w in weeks] == [1, 1] and weeks[0].running_min == 30
    s.close()
    assert RunStore(tmp_path / "sub" / "gait.sqlite").runners() == ["ann", "bob"]  # persisted


def test_store_errors_are_one_line(tmp_path: Path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(StoreError, match="cannot open the run store"):
        RunStore(blocker / "gait.sqlite")
    bad = tmp_path / "bad.sqlite"
    bad.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreError, match=str(bad)):
        RunStore(bad)


def test_default_location_follows_gait_home(private_gait_home: Path):
    s = RunStore()
    assert s.path == private_gait_home / "gait.sqlite"
    _add(s, "a", MON)
    with sqlite3.connect(s.path) as db:
        assert db.execute("SELECT COUNT(*) FROM runs").fetchone()[0] == 1


def test_a_store_written_by_version_1_opens_with_its_values_renamed(tmp_path: Path):
    """Version 1 named speeds ``braking_dv_ms`` and ``speed_ms`` (metres per second) and kept short names for
    some values: a store written then, made here with that schema by hand, opens with every value under its
    run-record name, the new fields empty, and nothing lost."""
    path = tmp_path / "old.sqlite"
    # the value columns of schema 1, in its order, and one run's values
    old = {
        "duration_s": 1900.0,
        "running_s": 1800.0,
        "steps": 5000.0,
        "cadence_spm": 170.0,
        "contact_time_ms": 240.0,
        "flight_time_ms": 110.0,
        "braking_dv_ms": 0.21,
        "impact_g": 2.2,
        "vertical_oscillation_cm": 8.1,
        "drop_left_deg": 4.5,
        "drop_right_deg": 5.5,
        "drop_diff_deg": 1.0,
        "asym_contact_pct": 2.5,
        "asym_braking_pct": -3.0,
        "rotation_range_deg": 9.0,
        "tilt_range_deg": 6.0,
        "speed_ms": 3.1,
        "distance_m": 5580.0,
    }
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")
        db.execute("INSERT INTO meta VALUES ('schema_version', '1')")
        db.execute(
            "CREATE TABLE runs (recording_id TEXT PRIMARY KEY, runner TEXT NOT NULL, name TEXT, path TEXT, day TEXT, "
            f"synthetic INTEGER, analysed_utc TEXT, n_findings INTEGER, {', '.join(c + ' REAL' for c in old)}, "
            "analysis_json TEXT, findings_json TEXT)"
        )
        db.execute(
            f"INSERT INTO runs VALUES ('r1', 'ann', 'old run', '', '2026-03-02', 0, '2026-03-02T08:00:00+00:00', 0, "
            f"{', '.join('?' for _ in old)}, NULL, '[]')",
            tuple(old.values()),
        )
    db.close()
    s = RunStore(path)
    (run,) = s.runs("ann")
    r = run.record
    assert (r.braking_dv_mps, r.speed_mps, r.distance_m) == (0.21, 3.1, 5580.0)
    assert (r.pelvic_drop_left_deg, r.pelvic_drop_right_deg, r.pelvic_drop_right_minus_left_deg) == (4.5, 5.5, 1.0)
    assert (r.contact_time_asymmetry_pct, r.braking_asymmetry_pct) == (2.5, -3.0)
    assert (r.pelvic_rotation_range_deg, r.pelvic_tilt_range_deg) == (9.0, 6.0)
    assert r.steps == 5000 and r.contact_time_ms == 240 and r.steps_used is None and r.walking_s is None
    assert run.load() == RunLoad(MON, 1800.0, 5000, 5580.0)
    baseline, n = build_baseline(r, [r, r, r])  # old runs still make a baseline
    assert n == 3 and baseline is not None and baseline.band("pelvic_drop_right_deg")[0] == 5.5
    _add(s, "r2", MON + timedelta(days=1))  # and new runs are written beside it
    assert [x.recording_id for x in s.runs("ann")] == ["r2", "r1"]
    s.close()
    with sqlite3.connect(path) as db:
        columns = {row[1] for row in db.execute("PRAGMA table_info(runs)")}
        assert set(RunRecord.names()) <= columns and not set(old) - set(RunRecord.names()) & columns
        assert db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0] == str(SCHEMA_VERSION)
    db.close()


def test_a_store_from_a_newer_gait_is_refused_in_one_line(tmp_path: Path):
    path = tmp_path / "new.sqlite"
    RunStore(path).close()
    with sqlite3.connect(path) as db:
        db.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    db.close()
    with pytest.raises(StoreError, match="newer than this gait"):
        RunStore(path)
