"""Plain CSV import: units, unit-suffixed columns, any mounting, and one-line errors for bad input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import gait
from gait.constants import G0
from gait.errors import RecordingError
from gait.recording import read_csv


def _write(
    path: Path,
    n: int = 600,
    fs: float = 100.0,
    acc_scale: float = 1.0,
    gyr_scale: float = 1.0,
    names: tuple[str, ...] = ("time_s", "acc_x", "acc_y", "acc_z", "gyr_x", "gyr_y", "gyr_z"),
) -> Path:
    rng = np.random.default_rng(0)
    t = np.arange(n) / fs + 12.5  # any origin
    acc = (rng.normal(0, 0.5, (n, 3)) + [0, 0, G0]) * acc_scale
    gyr = rng.normal(0, 0.3, (n, 3)) * gyr_scale
    cols = [t, *acc.T, *gyr.T][: len(names)]
    pd.DataFrame(dict(zip(names, cols, strict=True))).to_csv(path, index=False)
    return path


def test_default_units_and_time_origin(tmp_path: Path):
    rec = read_csv(_write(tmp_path / "a.csv"))
    assert rec.imu.t[0] == 0.0 and np.isclose(rec.imu.rate_hz, 100.0)
    assert np.isclose(np.median(rec.imu.acc[:, 2]), G0, atol=0.1)
    assert rec.meta.source == "csv-import" and rec.imu.has_gyro


def test_g_and_deg_per_s_flags_convert_to_si(tmp_path: Path):
    path = _write(tmp_path / "g.csv", acc_scale=1 / G0, gyr_scale=180 / np.pi)
    rec = read_csv(path, acc_unit="g", gyr_unit="deg/s")
    ref = read_csv(_write(tmp_path / "si.csv"))
    assert np.allclose(rec.imu.acc, ref.imu.acc) and np.allclose(rec.imu.gyr, ref.imu.gyr)


def test_unit_suffixed_columns_are_understood(tmp_path: Path):
    names = ("time_s", "acc_x_g", "acc_y_g", "acc_z_g", "gyr_x_dps", "gyr_y_dps", "gyr_z_dps")
    rec = read_csv(_write(tmp_path / "s.csv", acc_scale=1 / G0, gyr_scale=180 / np.pi, names=names))
    assert np.isclose(np.median(rec.imu.acc[:, 2]), G0, atol=0.1)
    assert np.percentile(np.abs(rec.imu.gyr), 99) < 2.0


def test_accelerometer_only_csv(tmp_path: Path):
    rec = read_csv(_write(tmp_path / "a.csv", names=("time_s", "acc_x", "acc_y", "acc_z")))
    assert rec.imu.gyr is None


@pytest.mark.parametrize(
    ("kwargs", "csv_kwargs", "message"),
    [
        ({"acc_scale": 1 / G0}, {}, "look like g"),
        ({}, {"acc_unit": "g"}, "look like m/s\\^2"),
        ({"gyr_scale": 180 / np.pi}, {}, "look like deg/s"),
        ({"fs": 5.0}, {}, "sample rate 5 Hz"),
        ({"acc_scale": 0.0}, {}, "expected about 1 g"),
    ],
)
def test_implausible_data_gets_a_one_line_error(tmp_path: Path, kwargs, csv_kwargs, message):
    with pytest.raises(RecordingError, match=message) as exc:
        read_csv(_write(tmp_path / "x.csv", **kwargs), **csv_kwargs)
    assert "\n" not in str(exc.value) and "x.csv" in str(exc.value)


def test_structural_problems_get_clear_errors(tmp_path: Path):
    p = tmp_path / "nohdr.csv"
    p.write_text("t,a,b\n1,2,3\n")
    with pytest.raises(RecordingError, match="no 'time_s' column"):
        read_csv(p)
    p.write_text("time_s,acc_x,acc_y\n1,2,3\n")
    with pytest.raises(RecordingError, match="needs columns acc_x, acc_y, acc_z"):
        read_csv(p)
    p.write_text("")
    with pytest.raises(RecordingError, match="empty"):
        read_csv(p)
    path = _write(tmp_path / "nonmono.csv")
    df = pd.read_csv(path)
    df.loc[100, "time_s"] = df.loc[99, "time_s"]
    df.to_csv(path, index=False)
    with pytest.raises(RecordingError, match="not strictly increasing at row 102"):
        read_csv(path)
    df = pd.read_csv(_write(tmp_path / "text.csv"))
    df["acc_y"] = df["acc_y"].astype(object)
    df.loc[7, "acc_y"] = "oops"
    df.to_csv(tmp_path / "text.csv", index=False)
    with pytest.raises(RecordingError, match="row 9, column 'acc_y'"):
        read_csv(tmp_path / "text.csv")


def test_rows_with_empty_values_are_dropped_and_noted(tmp_path: Path):
    path = _write(tmp_path / "nan.csv")
    df = pd.read_csv(path)
    df.loc[10:14, "acc_x"] = np.nan
    df.to_csv(path, index=False)
    rec = read_csv(path)
    assert rec.imu.n == 595 and "5 rows" in rec.notes[0]


def test_gait_load_dispatches_csv(tmp_path: Path):
    rec = gait.load(_write(tmp_path / "a.csv"), placement="front_pocket")
    assert rec.meta.placement == "front_pocket"
