"""Plain CSV import.

A header row, then one row per sample:

* ``time_s`` - seconds (any origin, strictly increasing); ``time_ms`` is accepted too;
* ``acc_x, acc_y, acc_z`` - specific force in m/s^2 (gravity included), or in g with ``acc_unit="g"``;
* optional ``gyr_x, gyr_y, gyr_z`` - angular rate in rad/s, or deg/s with ``gyr_unit="deg/s"``.

Columns may carry their unit instead (``acc_x_ms2``, ``acc_x_g``, ``gyr_x_rads``, ``gyr_x_dps``); other
columns are ignored. Columns may be separated by commas, semicolons (then a decimal comma is accepted) or tabs.
The sensor may be mounted in any orientation: the analysis finds the body axes itself.
Sanity checks (gravity magnitude, monotonic time, sample rate) turn likely unit mistakes into one-line errors.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from gait.constants import G0
from gait.errors import RecordingError, short
from gait.recording.limits import MAX_CSV_BYTES, check_csv, open_regular
from gait.recording.meta import DeviceInfo, RecordingMeta, StreamInfo
from gait.recording.model import ImuData, Recording

ACC_UNITS = {"m/s^2": 1.0, "ms2": 1.0, "g": G0}
GYR_UNITS = {"rad/s": 1.0, "rads": 1.0, "deg/s": np.pi / 180.0, "dps": np.pi / 180.0}
MIN_RATE_HZ = 40.0
MAX_RATE_HZ = 4000.0


def _find_axis_columns(columns: list[str], prefix: str, suffixes: dict[str, str]) -> tuple[list[str], str | None]:
    """Return the three column names for ``prefix`` (acc/gyr) and the unit their names declare, if any."""
    lower = {c.strip().lower(): c for c in columns}
    plain = [f"{prefix}_{a}" for a in "xyz"]
    if all(p in lower for p in plain):
        return [lower[p] for p in plain], None
    for suffix, unit in suffixes.items():
        names = [f"{prefix}_{a}_{suffix}" for a in "xyz"]
        if all(n in lower for n in names):
            return [lower[n] for n in names], unit
    return [], None


def read_csv(
    path: Path | str,
    *,
    acc_unit: str | None = None,
    gyr_unit: str | None = None,
    placement: str = "sacrum",
) -> Recording:
    """Import a plain CSV file as a :class:`Recording` (samples converted to SI)."""
    path = Path(path)
    df = _read_frame(path)
    cols = [str(c) for c in df.columns]
    tcol, tscale = _time_column(path, cols)
    acc_cols, acc_named_unit = _find_axis_columns(cols, "acc", {"ms2": "m/s^2", "g": "g"})
    if not acc_cols:
        raise RecordingError(f"{path}: needs columns acc_x, acc_y, acc_z (header has: {', '.join(cols[:8])})")
    gyr_cols, gyr_named_unit = _find_axis_columns(cols, "gyr", {"rads": "rad/s", "dps": "deg/s"})
    acc_unit = _resolve_unit(path, "acc", acc_unit, acc_named_unit, ACC_UNITS, "m/s^2")
    gyr_unit = _resolve_unit(path, "gyr", gyr_unit, gyr_named_unit, GYR_UNITS, "rad/s")
    t = _numeric(path, df, [tcol])[:, 0] * tscale
    acc = _numeric(path, df, acc_cols) * ACC_UNITS[acc_unit]
    gyr = _numeric(path, df, gyr_cols) * GYR_UNITS[gyr_unit] if gyr_cols else None
    t, acc, gyr, notes = _drop_empty_rows(path, t, acc, gyr)
    check_samples(path, t, acc, gyr, acc_unit=acc_unit, gyr_unit=gyr_unit)
    imu = ImuData(t=t - t[0], acc=acc, gyr=gyr)
    meta = RecordingMeta(
        title=path.stem,
        device=DeviceInfo(name="CSV file"),
        placement=placement,
        streams=(StreamInfo(rate_hz=round(imu.rate_hz, 3), has_gyro=gyr is not None, n_samples=imu.n, clock="file"),),
        source="csv-import",
        source_detail=f"{path.name} (acc in {acc_unit}, gyr in {gyr_unit if gyr is not None else 'absent'})",
    )
    return Recording(meta=meta, imu=imu, path=path, notes=tuple(notes))


def _read_frame(path: Path) -> pd.DataFrame:
    try:
        check_csv(path, path)  # size, columns and rows before pandas allocates anything
        sep, decimal = sniff_dialect(path)
        return pd.read_csv(path, sep=sep, decimal=decimal, skipinitialspace=True, low_memory=False)
    except FileNotFoundError:
        raise RecordingError(f"{path}: file not found") from None
    except pd.errors.EmptyDataError:
        raise RecordingError(f"{path}: file is empty") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise RecordingError(f"{path}: not a readable CSV ({str(exc).splitlines()[0]})") from None


def _time_column(path: Path, cols: list[str]) -> tuple[str, float]:
    """The time column and its scale to seconds."""
    lower = {c.strip().lower(): c for c in cols}
    if "time_s" in lower:
        return lower["time_s"], 1.0
    if "time_ms" in lower:
        return lower["time_ms"], 1e-3
    raise RecordingError(f"{path}: no 'time_s' column (header has: {', '.join(cols[:8])})")


def _numeric(path: Path, df: pd.DataFrame, names: list[str]) -> np.ndarray:
    """Columns as numbers; text where a number belongs is named by row and column (an empty cell is NaN)."""
    block = df[names].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    bad = np.isnan(block) & df[names].notna().to_numpy()
    if bad.any():
        r, c = np.argwhere(bad)[0]
        raise RecordingError(f"{path}: row {r + 2}, column {names[c]!r}: {df[names[c]].iloc[r]!r:.40} is not a number")
    return block


def _drop_empty_rows(
    path: Path, t: np.ndarray, acc: np.ndarray, gyr: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, list[str]]:
    """Rows without a measurement are left out as gaps (with a note); most of the file empty is an error."""
    if not np.isfinite(t).all():
        raise RecordingError(f"{path}: row {int(np.flatnonzero(~np.isfinite(t))[0]) + 2}: empty or infinite time")
    rows = ~np.isfinite(acc).all(axis=1)  # empty, nan or inf: no measurement
    if gyr is not None:
        rows |= ~np.isfinite(gyr).all(axis=1)
    if not rows.any():
        return t, acc, gyr, []
    if rows.mean() > 0.5:
        raise RecordingError(f"{path}: {rows.sum()} of {len(rows)} rows have empty sensor values")
    note = f"{int(rows.sum())} rows with empty or non-numeric values were dropped (treated as gaps)"
    return t[~rows], acc[~rows], None if gyr is None else gyr[~rows], [note]


def sniff_dialect(path: Path) -> tuple[str, str]:
    """Column separator and decimal mark from the first lines: comma; semicolon (with a decimal comma when the
    values hold commas, as spreadsheets in many European locales write them); or tab."""
    with open_regular(path, MAX_CSV_BYTES, "the CSV file") as f:
        head = f.read(4096).decode("utf-8-sig", errors="replace").splitlines()
    first = head[0] if head else ""
    sep = max((",", ";", "\t"), key=lambda c: (first.count(c), c == ","))
    decimal = "," if sep != "," and any("," in line for line in head[1:6]) else "."
    return sep, decimal


def _resolve_unit(
    path: Path, what: str, flag: str | None, named: str | None, table: dict[str, float], default: str
) -> str:
    if flag is not None and flag not in table:
        raise RecordingError(f"{path}: unknown {what} unit {flag!r} (use one of {', '.join(table)})")
    if flag is not None and named is not None and table[flag] != table[named]:
        raise RecordingError(f"{path}: {what} columns are named in {named} but the unit flag says {flag}")
    unit = flag or named or default
    return {"ms2": "m/s^2", "rads": "rad/s", "dps": "deg/s"}.get(unit, unit)


def check_samples(
    where: Path | str,
    t: np.ndarray,
    acc: np.ndarray,
    gyr: np.ndarray | None,
    *,
    acc_unit: str = "m/s^2",
    gyr_unit: str = "rad/s",
    gravity: bool = True,
) -> None:
    """Physical sanity checks shared by importers (samples already in SI; the units name what the file
    declared); each failure is a one-line, actionable error. ``gravity=False``: a linear acceleration (gravity
    removed by the phone), which must average out near zero instead of holding 1 g."""
    if len(t) < 10:
        raise RecordingError(f"{where}: only {len(t)} samples; too short to analyse")
    dt = np.diff(t)
    bad = np.flatnonzero(dt <= 0)
    if len(bad):
        raise RecordingError(
            f"{where}: time is not strictly increasing at row {bad[0] + 3} ({t[bad[0]]:.6g} then {t[bad[0] + 1]:.6g} s)"
        )
    rate = 1.0 / float(np.median(dt))
    if not MIN_RATE_HZ <= rate <= MAX_RATE_HZ:
        hint = " (is time in ms? name the column time_ms)" if rate < 1 else ""
        raise RecordingError(
            f"{where}: sample rate {rate:.3g} Hz is outside {MIN_RATE_HZ:.0f}-{MAX_RATE_HZ:.0f} Hz{hint}"
        )
    with np.errstate(over="ignore", invalid="ignore"):  # absurd values (1e308) fail the check below, quietly
        mag = float(np.median(np.linalg.norm(acc, axis=1)))  # acc is in SI (m/s^2) here
        mean = float(np.linalg.norm(np.mean(acc, axis=0)))
    if not gravity:
        if not mean < 0.5 * G0:
            raise RecordingError(
                f"{where}: the linear acceleration averages {mean / G0:.2f} g: it still holds gravity (or the unit "
                "is wrong)"
            )
        _check_gyro(where, gyr, gyr_unit)
        return
    if acc_unit in ("m/s^2", "ms2") and 0.6 < mag < 1.6:
        raise RecordingError(
            f"{where}: accelerometer magnitude is {mag:.2f} m/s^2, about 1: the values look like g (use --acc-unit g)"
        )
    if acc_unit == "g" and 6.0 * G0 < mag < 14.0 * G0:
        raise RecordingError(
            f"{where}: accelerometer magnitude is {mag / G0:.1f} g: the values look like m/s^2 (drop --acc-unit g)"
        )
    if not 0.5 * G0 < mag < 1.6 * G0:
        raise RecordingError(
            f"{where}: median accelerometer magnitude is {short(mag / G0)} g, expected about 1 g with gravity "
            "included (check units and that gravity was not removed)"
        )
    _check_gyro(where, gyr, gyr_unit)


def _check_gyro(where: Path | str, gyr: np.ndarray | None, gyr_unit: str) -> None:
    if gyr is not None:
        p99 = float(np.percentile(np.abs(gyr), 99))
        if p99 > 4000.0:  # more than any sensor measures, even read as deg/s
            raise RecordingError(f"{where}: gyroscope reaches {short(p99, '.0f')} {gyr_unit}, beyond any real sensor")
        if gyr_unit in ("rad/s", "rads") and p99 > 40.0:
            raise RecordingError(
                f"{where}: gyroscope reaches {short(p99, '.0f')} rad/s, impossible for a pelvis: the values look like "
                "deg/s (use --gyr-unit deg/s)"
            )
