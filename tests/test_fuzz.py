"""Property-based fuzzing (hypothesis) of every BLE decoder and driver, the stream timer, and the importers.

Inputs are random bytes and mutations (truncations, bit flips, insertions, splices) of the golden frames in
firmware_specs/ and of real sample files. The property is always the same: a decoder returns a well-formed
result (right shapes, finite numbers) or raises the project's documented error (``DeviceError`` for frames,
``RecordingError`` for files); nothing else escapes and nothing hangs.

CI runs a bounded, derandomised number of examples per test (``GAIT_FUZZ_EXAMPLES``, default 120, a few
seconds in all). Run it longer locally, with fresh randomness:

    GAIT_FUZZ_EXAMPLES=5000 python -m pytest tests/test_fuzz.py -q
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gait.errors import DeviceError, RecordingError
from gait.recording import Recording, load, read_csv
from gait.sources.ble.devices import movesense, openimu, polar, rsc, witmotion
from gait.sources.ble.devices.base import Frame
from gait.sources.timing import StreamTimer
from tests.conftest import REPO

EXAMPLES = int(os.environ.get("GAIT_FUZZ_EXAMPLES", "120"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize="GAIT_FUZZ_EXAMPLES" not in os.environ,  # CI: the same examples every run
    database=None,  # no .hypothesis folder in the working tree
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
)
SPECS = REPO / "firmware_specs"


def golden(spec: str, kinds: tuple[str, ...] | None = None) -> list[bytes]:
    frames = json.loads((SPECS / spec).read_text())["golden_frames"]
    return [bytes.fromhex(g["hex"].replace(" ", "")) for g in frames if kinds is None or g["kind"] in kinds]


def _flip(args: tuple[bytes, list[tuple[int, int]]]) -> bytes:
    data, flips = args
    if not data:
        return data
    out = bytearray(data)
    for pos, bit in flips:
        out[pos % len(out)] ^= 1 << bit
    return bytes(out)


def _insert(args: tuple[bytes, bytes, int]) -> bytes:
    data, extra, pos = args
    pos = pos % (len(data) + 1)
    return data[:pos] + extra + data[pos:]


def mutations(seeds: list[bytes]) -> st.SearchStrategy[bytes]:
    """Random bytes, or a seed truncated, bit-flipped, with bytes inserted or deleted, or two seeds spliced."""
    seed = st.sampled_from(seeds)
    return st.one_of(
        st.binary(max_size=260),
        seed,
        st.tuples(seed, st.integers(0, 300)).map(lambda a: a[0][: a[1]]),
        st.tuples(seed, st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 7)), min_size=1, max_size=6)).map(
            _flip
        ),
        st.tuples(seed, st.binary(min_size=1, max_size=12), st.integers(0, 10**6)).map(_insert),
        st.tuples(seed, st.integers(0, 300), st.integers(1, 12)).map(lambda a: a[0][: a[1]] + a[0][a[1] + a[2] :]),
        st.tuples(seed, seed, st.integers(0, 300)).map(lambda a: a[0][: a[2]] + a[1][a[2] :]),
    )


def finite_array(a: np.ndarray, shape_tail: tuple[int, ...]) -> None:
    assert isinstance(a, np.ndarray) and a.shape[1:] == shape_tail, (a.shape, shape_tail)
    assert np.isfinite(a).all()


# -- pure decoders ------------------------------------------------------------------------------------------------

MOVESENSE = golden("movesense_gsp.json")
POLAR = golden("polar_pmd.json")
WITMOTION = golden("witmotion_ble5.json")
RSC = golden("sig_rsc.json")
OPENIMU = golden("openimu.json")


@FUZZ
@given(mutations(MOVESENSE), st.sampled_from([2, 3]))
def test_fuzz_movesense_decode(data: bytes, n_vectors: int):
    try:
        ts, arr = movesense.decode_imu(data[2:], n_vectors)
    except DeviceError:
        return
    assert 0 <= ts < 2**32 and arr.shape[0] == n_vectors and arr.shape[2] == 3


@FUZZ
@given(mutations(POLAR))
def test_fuzz_polar_decoders(data: bytes):
    for decode in (polar.parse_control_response, polar.parse_settings, polar.parse_timestamp):
        with contextlib.suppress(DeviceError):
            decode(data)
    try:
        frame = polar.parse_frame(data)
    except DeviceError:
        return
    for factor in (1.0, 0.5):
        try:
            values = polar.frame_values(frame, factor)
        except DeviceError:
            continue
        finite_array(values, (3,))


@FUZZ
@given(mutations(POLAR), st.integers(1, 4), st.integers(0, 40))
def test_fuzz_polar_delta_frames(data: bytes, channels: int, count: int):
    try:
        counts = polar.decode_compressed(data, channels=channels)
    except DeviceError:
        counts = None
    if counts is not None:
        assert counts.ndim == 2 and counts.shape[1] == channels and np.isfinite(counts).all()
    for width in (1, 7, 16, 33):
        try:
            deltas = polar.unpack_deltas(data, width, channels, count)
        except DeviceError:
            continue
        assert deltas.shape == (count, channels)


@FUZZ
@given(mutations(WITMOTION))
def test_fuzz_witmotion_decode(data: bytes):
    values, used = witmotion.decode_packets(data)  # documented never to fail: it resynchronises
    finite_array(values, (9,))
    assert 0 <= used <= len(data)


@FUZZ
@given(mutations(RSC))
def test_fuzz_rsc_decode(data: bytes):
    try:
        m = rsc.decode_measurement(data)
    except DeviceError:
        return
    assert np.isfinite(m.speed_mps) and m.speed_mps >= 0 and 0 <= m.cadence_per_min <= 255


@FUZZ
@given(mutations(OPENIMU))
def test_fuzz_openimu_decoders(data: bytes):
    try:
        c = openimu.decode_config(data)
    except DeviceError:
        pass
    else:
        assert c.rate_hz >= 0 and isinstance(c.rates_hz, tuple | list)
    try:
        p = openimu.decode_packet(data)
    except DeviceError:
        return
    assert p.counts.shape[1] in (3, 6) and p.counts.shape[1] == (6 if p.has_gyro else 3)


# -- drivers: streams of mutated notifications through the same guard the live session uses -------------------------


def drive(driver, notifications: list[bytes], handler) -> list[Frame]:
    frames: list[Frame] = []
    safe = driver.guard(lambda data: handler(data, frames.append))
    for data in notifications:
        safe(data)  # only documented decode errors may be raised inside; they are counted
    driver.finish(frames.append)
    k = len(driver.channels) - 1
    for f in frames:
        values = f.values[:, :2] if driver.kind == "rsc" else f.values  # RSC: stride and distance NaN = not sent
        assert f.values.shape[1:] == (k,)
        finite_array(values, values.shape[1:])
        if f.device_t is not None:
            assert f.device_t.shape == (f.n,) and np.isfinite(f.device_t).all()
    return frames


def notification_streams(seeds: list[bytes]) -> st.SearchStrategy[list[bytes]]:
    return st.lists(mutations(seeds), min_size=1, max_size=12)


@FUZZ
@given(notification_streams(MOVESENSE + [movesense.encode_imu(movesense.REFERENCE, 1000, [np.ones((8, 3))] * 2)]))
def test_fuzz_movesense_driver(stream: list[bytes]):
    d = movesense.MovesenseDriver(rate_hz=104)
    drive(d, stream, d.on_notify)


@FUZZ
@given(notification_streams(POLAR), st.sampled_from(["Polar Sense B5A1", "Polar H10 123"]))
def test_fuzz_polar_driver(stream: list[bytes], name: str):
    d = polar.PolarDriver()
    d._configure(name)
    for data in stream:
        d.guard(d.on_control)(data)
    drive(d, stream, d.on_data)


@FUZZ
@given(notification_streams(WITMOTION))
def test_fuzz_witmotion_driver(stream: list[bytes]):
    d = witmotion.WitMotionDriver(rate_hz=100)
    drive(d, stream, d.on_notify)


@FUZZ
@given(notification_streams(RSC))
def test_fuzz_rsc_driver(stream: list[bytes]):
    d = rsc.RscDriver()
    drive(d, stream, d.on_notify)


@FUZZ
@given(notification_streams(golden("openimu.json", ("packet",)) or OPENIMU))
def test_fuzz_openimu_driver(stream: list[bytes]):
    d = openimu.OpenImuDriver(rate_hz=104)
    d._config = openimu.Config(104, True, 0.0048, 0.001, (52, 104, 208))
    drive(d, stream, d.on_notify)


@FUZZ
@given(
    st.lists(
        st.tuples(
            st.floats(-1e3, 1e6, allow_nan=False),  # device time of the frame's first sample
            st.integers(1, 12),  # samples
            st.floats(0, 0.5, allow_nan=False),  # arrival delay
        ),
        min_size=1,
        max_size=60,
    ),
    st.booleans(),
)
def test_fuzz_stream_timer(frames: list[tuple[float, int, float]], device_clock: bool):
    """Any order, duplicates, jumps and gaps of device times: blocks come out finite, and each block's times
    increase; nothing raises."""
    timer = StreamTimer("imu", ("t_s", "x"), 100.0, device_clock)
    host = 0.0
    blocks = []
    for start, n, delay in frames:
        host += 0.04 + delay
        values = np.zeros((n, 1))
        f = Frame(values=values, device_t=start + np.arange(n) / 100.0) if device_clock else Frame(values=values)
        blocks += timer.push(f, host)
    blocks += timer.flush()
    for b in blocks:
        assert np.isfinite(b.t).all() and np.all(np.diff(b.t) > 0) and b.lost_before >= 0
    assert timer.released == sum(b.n for b in blocks)


# -- importers ----------------------------------------------------------------------------------------------------


def _csv_text(n: int = 400, rate: float = 100.0) -> str:
    rng = np.random.default_rng(5)
    t = np.arange(n) / rate
    acc = rng.normal(0, 2, (n, 3)) + [0, 0, 9.81]
    gyr = rng.normal(0, 1, (n, 3))
    rows = "\n".join(",".join(f"{x:.5f}" for x in (t[i], *acc[i], *gyr[i])) for i in range(n))
    return "time_s,acc_x,acc_y,acc_z,gyr_x,gyr_y,gyr_z\n" + rows + "\n"


CSV_SEEDS = [_csv_text().encode(), (REPO / "recordings" / "phone_belt_acc_only.csv").read_bytes()[:30000]]


def text_mutations() -> st.SearchStrategy[bytes]:
    """Whole-file mutations: cut anywhere, bytes flipped, lines dropped/duplicated, junk inserted."""
    seed = st.sampled_from(CSV_SEEDS)

    def lines(args: tuple[bytes, int, int, bool]) -> bytes:
        data, a, b, dup = args
        ls = data.split(b"\n")
        a, b = a % len(ls), b % len(ls)
        return b"\n".join(ls[:a] + (ls[a:b] * 2 if dup else []) + ls[b:])

    return st.one_of(
        mutations(CSV_SEEDS),
        st.tuples(seed, st.integers(0, 10**5), st.integers(0, 10**5), st.booleans()).map(lines),
        st.tuples(seed, st.integers(0, 40000)).map(lambda a: a[0][: a[1]]),
        st.tuples(
            seed,
            st.sampled_from([b"nan", b"inf", b"-inf", b"1e308", b"", b",", b'"', b"\x00", b"\xff"]),
            st.integers(0, 10**6),
        ).map(_insert),
    )


def check_recording(rec: Recording, finite: bool = True) -> None:
    """Time finite and increasing, shapes right; values finite where the importer promises it (a CSV import
    drops rows without numbers; a recording folder may hold NaN, which the analysis leaves out and flags)."""
    imu = rec.imu
    assert imu.n >= 2 and imu.acc.shape == (imu.n, 3)
    assert np.isfinite(imu.t).all() and np.all(np.diff(imu.t) > 0)
    assert imu.gyr is None or imu.gyr.shape == (imu.n, 3)
    if finite:
        assert np.isfinite(imu.acc).all() and (imu.gyr is None or np.isfinite(imu.gyr).all())


@FUZZ
@given(text_mutations())
def test_fuzz_csv_import(data: bytes):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "fuzz.csv"
        path.write_bytes(data)
        try:
            rec = read_csv(path)
        except RecordingError as exc:
            assert "\n" not in str(exc) and "fuzz.csv" in str(exc)
            return
        check_recording(rec)


@pytest.fixture(scope="module")
def small_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small live-style recording: crash log + events (as after kill -9), and its compacted twin."""
    from gait.recording import RecordingWriter
    from gait.recording.meta import RecordingMeta

    root = tmp_path_factory.mktemp("fuzzrec")
    rng = np.random.default_rng(9)
    w = RecordingWriter(root / "live", RecordingMeta(title="fuzz"), flush_interval_s=1e9)
    for k in range(4):
        t = (k * 60 + np.arange(60)) / 104.0
        w.append(t, rng.normal(0, 2, (60, 3)) + [0, 0, 9.81], rng.normal(0, 1, (60, 3)))
        w.flush()
    w.mark_gap(1.0, 1.2, "test")
    shutil.copytree(root / "live", root / "crashed")  # before close: logs only
    w.close()
    return root


FOLDER_FILES = ("meta.json", "imu.arrow", "imu.log", "events.jsonl")


@FUZZ
@given(st.sampled_from(FOLDER_FILES), st.data())
def test_fuzz_recording_folder(small_folder: Path, which: str, data):
    source = small_folder / ("crashed" if which in ("imu.log", "events.jsonl") else "live")
    original = (source / which).read_bytes()
    mutated = data.draw(mutations([original]) if len(original) < 4000 else text_mutations_of(original))
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "rec"
        shutil.copytree(source, folder)
        (folder / which).write_bytes(mutated)
        try:
            rec = load(folder)
        except RecordingError as exc:
            assert "\n" not in str(exc)
            return
        check_recording(rec, finite=False)


def text_mutations_of(original: bytes) -> st.SearchStrategy[bytes]:
    """Mutations of a larger binary file: cut it, flip bits anywhere, or overwrite a stretch."""
    n = len(original)
    return st.one_of(
        st.integers(0, n).map(lambda k: original[:k]),
        st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, 7)), min_size=1, max_size=8).map(
            lambda flips: _flip((original, flips))
        ),
        st.tuples(st.integers(0, n - 1), st.binary(min_size=1, max_size=64)).map(
            lambda a: original[: a[0]] + a[1] + original[a[0] + len(a[1]) :]
        ),
    )


@FUZZ
@given(
    st.dictionaries(
        st.sampled_from(
            [
                "title",
                "streams",
                "gaps",
                "device",
                "subject",
                "complete",
                "start_utc",
                "placement",
                "format",
                "version",
                "rate_hz",
            ]
        ),
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
            lambda kids: st.lists(kids, max_size=3) | st.dictionaries(st.text(max_size=6), kids, max_size=3),
            max_leaves=6,
        ),
    )
)
def test_fuzz_meta_json_fields(small_folder: Path, fields: dict):
    """meta.json with fields of the wrong type or shape: loaded, or one RecordingError, never a crash."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "rec"
        shutil.copytree(small_folder / "live", folder)
        meta = json.loads((folder / "meta.json").read_text())
        meta.update(fields)
        (folder / "meta.json").write_text(json.dumps(meta))
        try:
            rec = load(folder)
        except RecordingError as exc:
            assert "\n" not in str(exc)
            return
        check_recording(rec)


# -- regressions: crashes the fuzzing found, as explicit tests with the minimal input ------------------------------


def test_movesense_frame_with_inf_is_a_bad_frame_not_a_sample():
    """Found by test_fuzz_movesense_driver: float32 bytes 00 00 80 7f (inf) went into the recording."""
    d = movesense.MovesenseDriver(rate_hz=104)
    frames: list[Frame] = []
    packet = bytes((movesense.DATA_PART1, movesense.REFERENCE)) + bytes(4) + b"\x00\x00\x80\x7f" + bytes(20)
    d.guard(lambda data: d.on_notify(data, frames.append))(packet)
    d.finish(frames.append)
    assert frames == [] and d.bad_frames == 1 and "not numbers" in d.last_error


def test_openimu_packet_without_the_configured_gyroscope_is_a_bad_frame():
    """Found by test_fuzz_openimu_driver: a 3-channel packet on a 6-channel stream broke the recorder's write."""
    d = openimu.OpenImuDriver(rate_hz=104)
    d._config = openimu.Config(104, True, 0.0048, 0.001, (104,))
    frames: list[Frame] = []
    d.guard(lambda data: d.on_notify(data, frames.append))(openimu.encode_packet(1, 0, np.zeros((1, 3))))
    assert frames == [] and d.bad_frames == 1 and "lacks a gyroscope" in d.last_error


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\x80", "meta.json is not text"),
        (json.dumps({"format": "gait-recording", "device": None}).encode(), "unexpected field"),
        (json.dumps({"format": "gait-recording", "streams": [[1]]}).encode(), "unexpected field"),
        (json.dumps({"format": "gait-recording", "title": 5}).encode(), "field 'title' is 5"),
        (json.dumps({"format": "gait-recording", "format_version": "1"}).encode(), "format_version must be"),
    ],
)
def test_meta_json_of_the_wrong_shape_is_one_recording_error(small_folder: Path, tmp_path: Path, content, message):
    """Found by test_fuzz_recording_folder and test_fuzz_meta_json_fields (UnicodeDecodeError, AttributeError)."""
    folder = tmp_path / "rec"
    shutil.copytree(small_folder / "live", folder)
    (folder / "meta.json").write_bytes(content)
    with pytest.raises(RecordingError, match=message):
        load(folder)


def test_csv_with_inf_values_drops_those_rows(tmp_path: Path):
    """Found by test_fuzz_csv_import: 'inf' in a cell was imported as an infinite acceleration."""
    rows = [f"{i / 100},0.1,9.8,0.2" for i in range(300)]
    rows[50] = "0.5,inf,9.8,0.2"
    path = tmp_path / "inf.csv"
    path.write_text("time_s,acc_x,acc_y,acc_z\n" + "\n".join(rows))
    rec = read_csv(path)
    assert rec.imu.n == 299 and np.isfinite(rec.imu.acc).all() and "1 rows" in rec.notes[0]


def test_arrow_file_with_damaged_time_is_one_recording_error(small_folder: Path, tmp_path: Path):
    """Found by test_fuzz_recording_folder: a flipped bit in imu.arrow's time column loaded as time going back."""
    from gait.recording.folder import write_table

    folder = tmp_path / "rec"
    shutil.copytree(small_folder / "live", folder)
    rec = load(folder)
    t = rec.imu.t.copy()
    t[100] = t[99] - 1.0
    write_table(folder / "imu.arrow", t, np.hstack((rec.imu.acc, rec.imu.gyr)), rec.meta.stream("imu").channels)
    with pytest.raises(RecordingError, match=r"imu.arrow: time does not increase at sample 100"):
        load(folder)


# -- phone and watch importers (Sensor Logger, phyphox, FIT) and the Sensor Logger push parser ------------------------


PHONE = settings(FUZZ, max_examples=max(25, EXAMPLES // 4))  # each example parses whole exports with pandas


@pytest.fixture(scope="module")
def phone_files() -> dict[str, dict[str, bytes]]:
    from tests.fixtures.phone.phone_sim import (
        FitSession,
        fit_bytes,
        phone_sim,
        phyphox_csvs,
        phyphox_linear_csv,
        push_messages,
        sensorlogger_files,
        watch_records,
    )

    sim = phone_sim(5.0)
    return {
        "sensorlogger": {k: v.encode() for k, v in sensorlogger_files(sim, "android").items()},
        "phyphox": {k: v.encode() for k, v in phyphox_csvs(sim).items()},
        "phyphox_linear": {"Raw Data.csv": phyphox_linear_csv(phone_sim(12.0)).encode()},
        "fit": {
            "run.fit": fit_bytes(watch_records(40, stryd=True), stryd=True, sessions=(FitSession("running", 0, 40),))
        },
        "push": {f"m{i}": json.dumps(m).encode() for i, m in enumerate(push_messages(sim, "android", 0.25)[:3])},
    }


def _mutated(data, original: bytes) -> bytes:
    return data.draw(mutations([original]) if len(original) < 4000 else text_mutations_of(original))


def _check_mutated_export(original: dict, name: str, data, reader) -> None:  # type: ignore[no-untyped-def]
    """Mutate one file of an export folder: the importer returns a sound recording or one clear error line."""
    files = dict(original)
    files[name] = _mutated(data, files[name])
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "export"
        folder.mkdir()
        for n, b in files.items():
            (folder / n).write_bytes(b)
        try:
            rec = reader(folder)
        except RecordingError as exc:
            assert "\n" not in str(exc)
            return
        check_recording(rec)


@PHONE
@given(st.sampled_from(["Accelerometer.csv", "Gravity.csv", "Gyroscope.csv", "TotalAcceleration.csv",
                        "Metadata.csv"]), st.data())  # fmt: skip
def test_fuzz_sensorlogger_export(phone_files, name: str, data):
    from gait.recording.phone_import import read_sensorlogger

    _check_mutated_export(phone_files["sensorlogger"], name, data, read_sensorlogger)


@PHONE
@given(st.sampled_from(["Accelerometer.csv", "Gyroscope.csv"]), st.data())
def test_fuzz_phyphox_export(phone_files, name: str, data):
    from gait.recording.phone_import import read_phyphox

    _check_mutated_export(phone_files["phyphox"], name, data, read_phyphox)


@PHONE
@given(st.data())
def test_fuzz_linear_phyphox_export_and_its_analysis(phone_files, data):
    """A mutated "Acceleration without g" export: imported and analysed (vertical estimated from the data), or
    one clear error line from either step."""
    from gait.analysis import analyze
    from gait.errors import GaitError
    from gait.recording.phone_import import read_phyphox

    files = dict(phone_files["phyphox_linear"])
    files["Raw Data.csv"] = _mutated(data, files["Raw Data.csv"])
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "export"
        folder.mkdir()
        (folder / "Raw Data.csv").write_bytes(files["Raw Data.csv"])
        try:
            rec = read_phyphox(folder)
            check_recording(rec)
            result = analyze(rec)
        except GaitError as exc:
            assert "\n" not in str(exc)
            return
        assert "linear_acceleration" in result.quality.flags


@PHONE
@given(st.data(), st.booleans())
def test_fuzz_fit_file(phone_files, data, fix_crc: bool):
    """Mutated FIT files; with ``fix_crc`` the file CRC is recomputed so the mutation reaches the parser."""
    import struct

    from gait.recording.fit_import import read_fit
    from tests.fixtures.phone.phone_sim import fit_crc

    raw = _mutated(data, phone_files["fit"]["run.fit"])
    if fix_crc and len(raw) >= 16:
        body = raw[:-2]
        raw = body + struct.pack("<H", fit_crc(body))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "run.fit"
        path.write_bytes(raw)
        try:
            rec = read_fit(path)
        except RecordingError as exc:
            assert "\n" not in str(exc)
            return
        for stream in rec.extra.values():
            assert stream.values.shape == (len(stream.t), len(stream.channels) - 1)
            assert np.isfinite(stream.t).all() and np.all(np.diff(stream.t) >= 0)


@PHONE
@given(st.data())
def test_fuzz_sensorlogger_push(phone_files, data):
    from gait.sources.phone.sensorlogger import PayloadError, parse_push

    body = _mutated(data, data.draw(st.sampled_from(sorted(phone_files["push"].values()))))
    try:
        msg = parse_push(body)
    except PayloadError as exc:
        assert "\n" not in str(exc)
        return
    for t, v in msg.readings.values():
        assert t.shape == (len(v),) and v.shape[1:] == (3,) and np.isfinite(v).all() and np.isfinite(t).all()


def test_damaged_gap_lines_in_the_event_log_are_skipped(small_folder: Path, tmp_path: Path):
    """Found by test_fuzz_recording_folder: a gap line without 'start_s' raised KeyError."""
    folder = tmp_path / "rec"
    shutil.copytree(small_folder / "crashed", folder)
    with open(folder / "events.jsonl", "a") as f:
        f.write('{"type":"gap","":0}\n[1, 2]\n{"type":"gap","start_s":"x","end_s":1}\n')
    rec = load(folder)
    assert rec.recovered and [(g.start_s, g.end_s) for g in rec.meta.gaps] == [(1.0, 1.2)]


def test_unexpected_meta_key_with_a_newline_stays_one_line(small_folder: Path, tmp_path: Path):
    """Found by test_fuzz_meta_json_fields: a key '\\n' inside 'device' made a two-line error."""
    folder = tmp_path / "rec"
    shutil.copytree(small_folder / "live", folder)
    meta = json.loads((folder / "meta.json").read_text())
    meta["device"] = {"\n": None}
    (folder / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(RecordingError, match="unexpected field") as exc:
        load(folder)
    assert "\n" not in str(exc.value)


def test_arrow_file_claiming_an_absurd_size_is_one_recording_error(small_folder: Path, tmp_path: Path):
    """Found by test_fuzz_recording_folder (2000 examples): one byte 0x01 written at offset 902 of imu.arrow made
    pyarrow try to allocate 256 TiB (ArrowMemoryError escaped)."""
    folder = tmp_path / "rec"
    shutil.copytree(small_folder / "live", folder)
    raw = (folder / "imu.arrow").read_bytes()
    (folder / "imu.arrow").write_bytes(raw[:902] + b"\x01" + raw[903:])
    with pytest.raises(RecordingError, match=r"imu.arrow: cannot read samples \(malloc of size \d+ failed\)"):
        load(folder)


def test_arrow_columns_that_are_not_numbers_are_one_recording_error(small_folder: Path, tmp_path: Path):
    import pyarrow as pa
    import pyarrow.feather as feather

    folder = tmp_path / "rec"
    shutil.copytree(small_folder / "live", folder)
    table = feather.read_table(folder / "imu.arrow")
    table = table.set_column(1, "acc_x_ms2", pa.array(["x"] * table.num_rows))
    feather.write_feather(table, folder / "imu.arrow")
    with pytest.raises(RecordingError, match=r"imu.arrow: columns \['acc_x_ms2'\] do not hold numbers"):
        load(folder)


KEYS = st.text(alphabet='[]{}"\\a', max_size=4)


def _depth(value: object) -> int:
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    return 0


@FUZZ
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(alphabet='[]{}"\\ab,:', max_size=8),
        lambda kids: st.lists(kids, max_size=3) | st.dictionaries(KEYS, kids, max_size=3),
        max_leaves=12,
    ),
    st.booleans(),
)
def test_json_depth_counts_brackets_outside_strings_only(value, ascii_only: bool):
    """The limit's bracket count (gait.recording.limits.json_depth, used before any JSON is parsed) agrees with
    the real nesting, whatever brackets, quotes and backslashes the strings hold."""
    from gait.recording.limits import json_depth

    text = json.dumps(value, ensure_ascii=ascii_only)
    assert json_depth(text) == _depth(value)
    assert json_depth(text.encode()) == _depth(value)
