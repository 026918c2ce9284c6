"""Chart images kept once drawn: in the process (`ImageCache`) and on disk under the data
directory (`ChartStore`, `Settings.data_dir / "cache" / "charts"`), shared by every format and
every run. Both are addressed by `image_key`: the SHA-256 of everything that decides an
image's bytes (the figure's full spec, format, size, scale, the plotly, kaleido and plotly.js
versions and where map outlines come from). A changed figure has another key; nothing is ever
looked up by a chart's name.

A stored image is one file, `<key>.img`: a header with the SHA-256 of the image's bytes, then
the bytes. It is written to a temporary file in the same folder and renamed into place, so two
processes storing the same image at once each rename a whole file and a reader never sees half
of one; a file whose bytes do not match its header (truncated, corrupted) is deleted and the
image drawn again. Reading a file touches its modification time; past `Settings.chart_cache_mb`
the files used longest ago are deleted.

The images a `riskapp report` command used are listed under a key of its command line and
inputs (`run_key`): the next identical command finds them all stored and starts no browser.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import tempfile
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

ImageFormat = Literal["svg", "png"]

# the world outlines the dashboard serves; kaleido reads them from a file:// URL
STATIC = Path(__file__).resolve().parent.parent / "dashboard" / "static"
TOPOJSON_URL = STATIC.as_uri() + "/"

MAGIC = b"riskapp-chart 1 "  # then the hex SHA-256 of the image, a newline, the image
SUFFIX = ".img"
RUN_SUFFIX = ".run"
TEMP_PREFIX = ".tmp-"
STALE_TEMP_S = 3600.0  # a temporary file this old was left by a writer that died
MAX_RUNS = 500  # command lines remembered (`remember_run`); the oldest forgotten first
EVICT_EVERY = 16  # images stored between two evictions (the bound may be passed by as many)
RUN_MAX_FILES = 2000  # input files `run_key` looks at; more: no key (the browser starts early)


class ImageCache:
    """Chart images already drawn in this process, by `image_key`: asking again for the same
    image costs no browser work. Least recently used images are dropped beyond `max_bytes`.
    Thread-safe."""

    def __init__(self, max_bytes: int = 64 * 1024 * 1024) -> None:
        self.max_bytes = max_bytes
        self.hits = 0
        self.misses = 0
        self._images: OrderedDict[str, bytes] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        with self._lock:
            data = self._images.get(key)
            if data is None:
                self.misses += 1
                return None
            self.hits += 1
            self._images.move_to_end(key)
            return data

    def put(self, key: str, data: bytes) -> None:
        with self._lock:
            old = self._images.pop(key, None)
            self._size -= len(old) if old is not None else 0
            if len(data) > self.max_bytes:
                return
            self._images[key] = data
            self._size += len(data)
            while self._size > self.max_bytes:
                _, dropped = self._images.popitem(last=False)
                self._size -= len(dropped)

    def clear(self) -> None:
        with self._lock:
            self._images.clear()
            self._size = 0

    def __len__(self) -> int:
        return len(self._images)


@functools.cache
def renderer_versions() -> tuple[str, ...]:
    """The versions that decide how a figure is drawn: plotly (its JSON), kaleido, and the
    plotly.js kaleido's page loads (riskapp's bundle, or plotly's own)."""
    from importlib.metadata import PackageNotFoundError, version

    from riskapp.reporting.plotlyjs import plotlyjs_for_images

    found = []
    for package in ("plotly", "kaleido", "choreographer"):
        try:
            found.append(f"{package} {version(package)}")
        except PackageNotFoundError:
            found.append(f"{package} -")
    found.append(f"plotly.js {plotlyjs_for_images() or 'plotly'}")
    return tuple(found)


def image_key(
    spec: Mapping[str, Any], fmt: ImageFormat, width: int, height: int, scale: float
) -> str:
    """SHA-256 of everything that decides an image's bytes: the figure spec (data and layout,
    after the chart's own changes), format, size, scale, the drawing software's versions and
    where map outlines come from."""
    text = json.dumps(
        [spec, fmt, width, height, float(scale), TOPOJSON_URL, renderer_versions()],
        sort_keys=True,
        default=_json_default,
        separators=(",", ":"),
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _json_default(value: Any) -> Any:
    """JSON for what a plotly figure dict holds besides plain values: numpy arrays and scalars
    (by content), dates, pandas objects; anything else makes a key that matches nothing."""
    if hasattr(value, "dtype") and hasattr(value, "tobytes"):  # numpy array or scalar
        if getattr(value.dtype, "hasobject", False):  # its bytes are pointers, not content
            return ["ndarray", "object", value.tolist()]
        digest = hashlib.sha256(value.tobytes()).hexdigest()
        return ["ndarray", str(value.dtype), list(getattr(value, "shape", ())), digest]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "to_numpy"):  # a pandas Series or Index left in a figure
        return value.to_numpy()
    # a type whose repr may not tell two values apart (truncated, or an address another object
    # takes later): this image's key matches no other, so it is drawn again, never mistaken
    return [type(value).__qualname__, repr(value), uuid.uuid4().hex]


class ChartStore:
    """Chart images on disk in `folder`, by `image_key`, at most about `max_bytes` of them.
    Safe for several processes at once; a damaged file reads as missing. `reads`, `writes` and
    `damaged` count this object's work."""

    def __init__(self, folder: Path, max_bytes: int) -> None:
        self.folder = folder
        self.max_bytes = max_bytes
        self.reads = 0
        self.writes = 0
        self.damaged = 0
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls) -> ChartStore | None:
        """The store the settings name (read now: `RISKAPP_DATA_DIR`, `RISKAPP_CHART_CACHE_MB`);
        None when the cache is switched off."""
        from riskapp.settings import Settings

        cfg = Settings()
        if cfg.chart_cache_mb <= 0:
            return None
        return cls(cfg.data_dir / "cache" / "charts", cfg.chart_cache_mb * 1024 * 1024)

    def path(self, key: str) -> Path:
        return self.folder / f"{checked_key(key)}{SUFFIX}"

    def run_path(self, run: str) -> Path:
        return self.folder / "runs" / f"{checked_key(run)}{RUN_SUFFIX}"

    def get(self, key: str) -> bytes | None:
        """The stored image, or None (not stored, or damaged: then deleted)."""
        path = self.path(key)
        try:
            raw = path.read_bytes()
        except OSError:
            return None
        data = unpack(raw)
        if data is None:
            with self._lock:
                self.damaged += 1
            path.unlink(missing_ok=True)
            return None
        with contextlib.suppress(OSError):
            os.utime(path)  # used now: the last to be evicted
        with self._lock:
            self.reads += 1
        return data

    def has(self, key: str) -> bool:
        return self.path(key).is_file()

    def put(self, key: str, data: bytes) -> None:
        """Store an image (whole or not at all), then evict past the size bound (after this
        object's first image and every EVICT_EVERY-th). A folder that cannot be written only
        costs drawing the image again next time."""
        if len(data) > self.max_bytes:
            return
        target = self.path(key)
        try:
            _write_atomic(target, MAGIC + hashlib.sha256(data).hexdigest().encode() + b"\n" + data)
        except OSError:
            return
        with self._lock:
            self.writes += 1
            scan = self.writes % EVICT_EVERY == 1
        if scan:  # a folder of thousands of images is not listed after every image
            self.evict()

    def evict(self) -> int:
        """Delete the images used longest ago until the rest fit `max_bytes` (and temporary
        files a dead writer left); the number of images deleted."""
        entries = []
        now = time.time()
        for entry in _scan(self.folder):
            try:
                stat = entry.stat()
            except OSError:
                continue  # another process deleted it meanwhile
            if entry.name.startswith(TEMP_PREFIX):
                if now - stat.st_mtime > STALE_TEMP_S:
                    Path(entry.path).unlink(missing_ok=True)
            elif entry.name.endswith(SUFFIX):
                entries.append((stat.st_mtime_ns, stat.st_size, entry.path))
        total = sum(size for _, size, _ in entries)
        deleted = 0
        for _, size, path in sorted(entries):
            if total <= self.max_bytes:
                break
            Path(path).unlink(missing_ok=True)
            total -= size
            deleted += 1
        return deleted

    # -- what a command line used: its next run needs no browser if they are all stored ------
    def remember_run(self, run: str, keys: Iterable[str]) -> None:
        """Note the images command line `run` (`run_key`) used."""
        keys = sorted(set(keys))
        for key in keys:
            self.path(key)  # checked: image keys only
        target = self.run_path(run)
        runs = target.parent
        try:
            _write_atomic(target, json.dumps(keys).encode("ascii"))
        except OSError:
            return
        found = []
        for entry in _scan(runs):
            if entry.name.endswith(RUN_SUFFIX):
                with contextlib.suppress(OSError):
                    found.append((entry.stat().st_mtime_ns, entry.path))
        for _, path in sorted(found)[:-MAX_RUNS]:
            Path(path).unlink(missing_ok=True)

    def run_is_stored(self, run: str) -> bool:
        """Command line `run` was run before and every image it used is still stored."""
        try:
            keys = json.loads(self.run_path(run).read_bytes())
            return isinstance(keys, list) and all(self.has(str(k)) for k in keys)
        except (OSError, ValueError):
            return False


def checked_key(key: str) -> str:
    """`key` if it is a SHA-256 in hex (a file name inside the store), else ValueError."""
    if len(key) != 64 or not all(c in "0123456789abcdef" for c in key):
        raise ValueError(f"not an image key: {key!r}")
    return key


def unpack(raw: bytes) -> bytes | None:
    """The image in a stored file's bytes, or None if the file is damaged."""
    if not raw.startswith(MAGIC):
        return None
    digest, newline, data = raw[len(MAGIC) :].partition(b"\n")
    if not newline or hashlib.sha256(data).hexdigest().encode() != digest:
        return None
    return data


def run_key(fmt: str, args: Sequence[str], paths: Sequence[Path]) -> str | None:
    """A key of one `riskapp report` command: its format and arguments, the working directory,
    the riskapp version and the size and modification time of every file under `paths` (the
    workspace, the branding file, the embedded database); None if they hold more than
    RUN_MAX_FILES files. Only a hint which images the command will need
    (`ChartStore.run_is_stored`): what a report draws is decided by the figures' own keys."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        riskapp_version = version("riskapp")
    except PackageNotFoundError:
        riskapp_version = "-"
    stats: list[list[object]] = []
    for root in paths:
        files = _files(root)
        if files is None or len(stats) + len(files) > RUN_MAX_FILES:
            return None
        for file in files:
            with contextlib.suppress(OSError):
                stat = file.stat()
                stats.append([str(file), stat.st_size, stat.st_mtime_ns])
    text = json.dumps([fmt, list(args), os.getcwd(), riskapp_version, stats])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _files(root: Path) -> list[Path] | None:
    """The files under `root` (itself if a file), sorted; None past RUN_MAX_FILES."""
    if not root.is_dir():
        return [root]
    found: list[Path] = []
    for folder, _, names in os.walk(root):
        found.extend(Path(folder) / name for name in names)
        if len(found) > RUN_MAX_FILES:
            return None
    return sorted(found)


def _scan(folder: Path) -> list[os.DirEntry[str]]:
    try:
        with os.scandir(folder) as entries:
            return list(entries)
    except OSError:
        return []


def _write_atomic(target: Path, data: bytes) -> None:
    """`data` at `target` whole or not at all (a temporary file renamed into place)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=TEMP_PREFIX)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
