"""Limits on everything gait reads, and the safe readers and writers that enforce them.

Input is checked before it is read: a file must be a regular file (not a link, pipe or device) under a size
limit; JSON must not nest deeper than ``MAX_JSON_DEPTH``; a CSV's columns and rows are counted before it is
parsed; an archive's members are unpacked only up to ``MAX_UNZIPPED_BYTES`` in all, counted while streaming.
Each refusal is one ``RecordingError`` line naming the file and the limit. Files gait creates are created
exclusively and never through a link (``O_EXCL``, ``O_NOFOLLOW``), so a link planted in a folder cannot make
gait write elsewhere. See docs/reliability.md ("Hostile input").
"""

from __future__ import annotations

import errno
import io
import os
import re
import stat
import struct
import tempfile
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

import numpy as np

from gait.errors import RecordingError

MiB = 1 << 20
GiB = 1 << 30

MAX_JSON_BYTES = 8 * MiB  # meta.json (a few kB in practice)
MAX_EVENTS_BYTES = 64 * MiB  # events.jsonl: one line per gap
MAX_JSON_DEPTH = 32  # meta.json nests 3 deep; a push message 3
MAX_CSV_BYTES = 1 * GiB
MAX_HEADER_BYTES = 64 * 1024
MAX_COLUMNS = 256
MAX_ROWS = 5_000_000  # about 6.7 h at 208 Hz, 1.4 h at 1 kHz
MAX_CELLS = 40_000_000  # rows x columns of one CSV (float64: 320 MB)
MAX_SAMPLE_FILE_BYTES = 2 * GiB  # one Arrow sample file (an hour at 208 Hz is ~20 MiB)
MAX_SAMPLES = 10_000_000  # samples of one stream read from a crash log or sample file
MAX_ZIP_BYTES = 1 * GiB  # the archive itself
MAX_ZIP_DIRECTORY_BYTES = 4 * MiB  # its central directory (tens of thousands of entries)
MAX_UNZIPPED_BYTES = 256 * MiB  # everything unpacked from one archive
MAX_FIT_BYTES = 256 * MiB

_KINDS = {
    stat.S_IFLNK: "a symbolic link",
    stat.S_IFIFO: "a named pipe (FIFO)",
    stat.S_IFCHR: "a device",
    stat.S_IFBLK: "a device",
    stat.S_IFSOCK: "a socket",
    stat.S_IFDIR: "a folder",
}


def size_text(n: float) -> str:
    """Bytes in words: 8 MiB, 2.0 GiB, 420 kB."""
    for unit, scale in (("GiB", GiB), ("MiB", MiB)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}" if n % scale else f"{int(n // scale)} {unit}"
    return f"{n / 1000:.0f} kB" if n >= 1000 else f"{int(n)} bytes"


def _not_regular(path: Path | str, mode: int) -> RecordingError:
    kind = _KINDS.get(stat.S_IFMT(mode), "not a file")
    if stat.S_ISLNK(mode):
        return RecordingError(f"{path}: is a symbolic link, not a regular file; gait does not follow links here")
    return RecordingError(f"{path}: is {kind}, not a regular file; gait reads only regular files")


def check_regular(path: Path | str) -> os.stat_result:
    """The path's own status (links not followed); refuse anything but a regular file."""
    st = os.lstat(path)
    if not stat.S_ISREG(st.st_mode):
        raise _not_regular(path, st.st_mode)
    return st


def open_regular(path: Path | str, max_bytes: int, what: str) -> BinaryIO:
    """Open a regular file for reading, refusing links, pipes, devices and files over ``max_bytes``.

    The type is checked before opening (so a FIFO is never opened) and again on the open descriptor (so a
    file swapped in between is caught); FileNotFoundError passes through for the caller to word."""
    check_regular(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise _not_regular(path, stat.S_IFLNK) from None
        if exc.errno == errno.ENOENT:
            raise
        raise RecordingError(f"{path}: cannot open ({exc.strerror})") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise _not_regular(path, st.st_mode)
        if st.st_size > max_bytes:
            raise RecordingError(f"{path}: {what} is {size_text(st.st_size)}, over the {size_text(max_bytes)} limit")
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_bytes(path: Path | str, max_bytes: int, what: str) -> bytes:
    with open_regular(path, max_bytes, what) as f:
        return f.read(max_bytes + 1)


# -- JSON ---------------------------------------------------------------------------------------------------------

_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_OPEN, _CLOSE = np.frombuffer(b"[{", np.uint8), np.frombuffer(b"]}", np.uint8)


def json_depth(data: bytes | str) -> int:
    """How deep brackets nest in a JSON text (strings skipped), without parsing it: vectorised, linear."""
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    a = np.frombuffer(_JSON_STRING.sub(b'""', raw), np.uint8)
    step = np.isin(a, _OPEN).astype(np.int32) - np.isin(a, _CLOSE).astype(np.int32)
    return int(np.cumsum(step).max(initial=0))


def check_json_depth(data: bytes | str, where: str, max_depth: int = MAX_JSON_DEPTH) -> None:
    if json_depth(data) > max_depth:
        raise RecordingError(f"{where}: JSON nested deeper than {max_depth} levels (the limit)")


def parse_json(data: bytes | str, where: str, max_depth: int = MAX_JSON_DEPTH) -> object:
    """``json.loads`` after the depth check (json.JSONDecodeError and UnicodeDecodeError pass through)."""
    import json

    check_json_depth(data, where, max_depth)
    return json.loads(data)


# -- CSV -----------------------------------------------------------------------------------------------------------


def _count_columns(header: bytes) -> int:
    return max(header.count(sep) for sep in (b",", b";", b"\t")) + 1


def check_csv(source: Path | str | bytes, where: str | Path) -> None:
    """Refuse a CSV (a file or bytes in memory) whose header, columns, rows or rows x columns exceed the limits,
    before a parser allocates anything for it."""
    if isinstance(source, bytes):
        head = source[:MAX_HEADER_BYTES]
        rows = source.count(b"\n")
    else:
        with open_regular(source, MAX_CSV_BYTES, "the CSV file") as f:
            head = f.read(MAX_HEADER_BYTES)
            rows = head.count(b"\n")
            while chunk := f.read(8 * MiB):
                rows += chunk.count(b"\n")
    line, newline, _ = head.partition(b"\n")
    cols = _count_columns(line)
    if cols > MAX_COLUMNS:
        more = "" if newline else "more than "
        raise RecordingError(f"{where}: the header has {more}{cols} columns, over the limit of {MAX_COLUMNS} columns")
    if not newline and len(head) >= MAX_HEADER_BYTES:
        raise RecordingError(f"{where}: the header line is longer than the {size_text(MAX_HEADER_BYTES)} limit")
    if rows > MAX_ROWS or rows * cols > MAX_CELLS:
        raise RecordingError(
            f"{where}: {rows} rows x {cols} columns is over the limit ({MAX_ROWS} rows, {MAX_CELLS} values)"
        )


# -- archives -------------------------------------------------------------------------------------------------------

_EOCD = struct.Struct("<IHHHHIIH")


def _check_directory(f: BinaryIO, where: str | Path) -> None:
    """Refuse an archive whose central directory is huge before zipfile parses it into objects."""
    f.seek(0, os.SEEK_END)
    size = f.tell()
    f.seek(max(0, size - (1 << 16) - _EOCD.size))
    tail = f.read()
    pos = tail.rfind(b"PK\x05\x06")
    if pos < 0 or pos + _EOCD.size > len(tail):
        return  # not a zip at all: zipfile says so in its own words
    _sig, _d, _dcd, _n_here, n_total, dir_size, _off, _c = _EOCD.unpack_from(tail, pos)
    if dir_size > MAX_ZIP_DIRECTORY_BYTES or (n_total != 0xFFFF and n_total > MAX_ZIP_DIRECTORY_BYTES // 46):
        raise RecordingError(f"{where}: the archive lists {n_total} entries, over the limit")
    f.seek(0)


class BoundedZip:
    """Members of a zip archive, unpacked only up to ``budget`` bytes in all (declared sizes are checked first,
    actual bytes are counted while streaming, so a member that lies about its size is caught as well)."""

    def __init__(self, path: Path | str, budget: int = MAX_UNZIPPED_BYTES) -> None:
        self.path = Path(path)
        self.budget = budget
        self.used = 0
        with self._open() as z:
            self.infos = {i.filename: i for i in z.infolist() if not i.is_dir()}

    @contextmanager
    def _open(self) -> Iterator[zipfile.ZipFile]:
        with open_regular(self.path, MAX_ZIP_BYTES, "the archive") as f:
            _check_directory(f, self.path)
            try:
                with zipfile.ZipFile(f) as z:
                    yield z
            except (zipfile.BadZipFile, EOFError, NotImplementedError, ValueError) as exc:
                raise RecordingError(f"{self.path}: not a readable zip archive ({exc})") from None

    def _refuse(self) -> RecordingError:
        return RecordingError(f"{self.path}: unpacks to more than {size_text(self.budget)} (the limit for an archive)")

    def check_declared(self, names: list[str]) -> None:
        if sum(self.infos[n].file_size for n in names) > self.budget - self.used:
            raise self._refuse()

    def head(self, name: str, n: int = 1000) -> bytes:
        """The first ``n`` bytes of a member (not counted against the budget)."""
        with self._open() as z, z.open(self.infos[name]) as f:
            return f.read(n)

    def stream(self, name: str, out: BinaryIO) -> None:
        """Unpack one member into ``out``, counting every byte against the budget."""
        self.check_declared([name])
        with self._open() as z:
            try:
                with z.open(self.infos[name]) as f:
                    while chunk := f.read(MiB):
                        self.used += len(chunk)
                        if self.used > self.budget:
                            raise self._refuse()
                        out.write(chunk)
            except (zipfile.BadZipFile, EOFError, OSError, zlib.error) as exc:
                raise RecordingError(f"{self.path}: {name} is damaged ({exc})") from None

    def read(self, name: str) -> bytes:
        buf = io.BytesIO()
        self.stream(name, buf)
        return buf.getvalue()


# -- creating files --------------------------------------------------------------------------------------------------

_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC


def create_new(path: Path | str, mode: str = "wb") -> BinaryIO:
    """A new file, created exclusively: it fails (FileExistsError) rather than follow or overwrite anything."""
    fd = os.open(path, _CREATE, 0o666)
    return os.fdopen(fd, mode)  # type: ignore[return-value]


@contextmanager
def replacing(path: Path | str) -> Iterator[BinaryIO]:
    """Write ``path`` atomically: a fresh, exclusively created temporary file beside it (a random name, never a
    link), synced, then renamed over ``path``; on any error the temporary file is removed and ``path`` is kept."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    umask = os.umask(0)
    os.umask(umask)
    os.fchmod(fd, 0o666 & ~umask)  # as an ordinary file would be (mkstemp makes it private)
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_atomic(path: Path | str, data: bytes) -> None:
    with replacing(path) as f:
        f.write(data)
