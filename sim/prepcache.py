"""Prepared parts keyed by exactly the inputs they read: reused in memory and, optionally, on disk.

Preparing a scenario (:func:`sim.montecarlo.prepare`) builds parts that are
each a pure function of a few inputs: a radar site's terrain masking table
(its position, antenna height, range, refraction), a detection table (one
route's track and spread, one radar's geometry and Pd model, the aircraft's
RCS), a coverage row set for the fences (the route and the radar's geometry),
the route's airspace row set (the route, the country, the projection). A
:class:`PrepCache` keys each part by a hash of those inputs and of the
code that computes it (:func:`code_version`), so a what-if that changes only
draws or the response (a transponder probability, an availability, an
outage duration, a compliance, a delay, a readiness) finds every part ready.

The cache belongs to its owner (a command, a sweep, a notebook session): no
module-level state. On disk (``folder``) each part is one file, written
atomically (a temporary file, then :func:`os.replace`) with a SHA-256 of its
payload in its header: a corrupt or truncated file is detected, removed and
recomputed, never trusted. The folder is bounded (:data:`DEFAULT_MAX_BYTES`;
least recently used files go first) and safe to delete at any time.
"""
import dataclasses
import hashlib
import os
import pickle
import secrets
import time
from collections import Counter
from pathlib import Path

import numpy as np

__all__ = ["PrepCache", "code_version", "digest", "DEFAULT_MAX_BYTES", "DEFAULT_MAX_MEMORY_BYTES", "CACHE_ENV",
           "default_cache_dir"]

#: Largest size of a cache folder [bytes] unless the owner says otherwise.
DEFAULT_MAX_BYTES = 2 * 1024**3
#: Largest size of the parts a cache keeps in memory [bytes] (their arrays) unless the owner says otherwise.
DEFAULT_MAX_MEMORY_BYTES = 1024**3
#: Environment variable naming the cache folder of the command line and the Python API.
CACHE_ENV = "AIRPICTURE_CACHE_DIR"
_MAGIC = b"airpicture-part-1\n"
_SUFFIX = ".part"
#: The packages whose source computes prepared parts (their text is part of every key).
_CODE_DIRS = ("geo", "sim")


def code_version():
    """A hash of the code that computes prepared parts: the source of ``geo`` and the core of ``sim``
    (any edit invalidates every cached part) and the packaged data file names."""
    h = hashlib.sha256()
    root = Path(__file__).resolve().parents[1]
    for d in _CODE_DIRS:
        for p in sorted((root / d).glob("*.py")):     # the package's modules (not its subpackages)
            h.update(p.name.encode())
            h.update(p.read_bytes())
    for p in sorted((root / "geo" / "data").glob("*")):
        if p.suffix in (".npz", ".geojson", ".csv"):
            h.update(p.name.encode())
            h.update(str(p.stat().st_size).encode())
    return h.hexdigest()[:16]


def _feed(h, value):
    """Feed a canonical encoding of ``value`` to the hash ``h`` (arrays by content, dataclasses by field)."""
    if isinstance(value, np.ndarray):
        h.update(f"nd{value.dtype.str}{value.shape}".encode())
        h.update(np.ascontiguousarray(value).tobytes())
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        h.update(f"dc{type(value).__name__}(".encode())
        for f in dataclasses.fields(value):
            h.update(f.name.encode())
            _feed(h, getattr(value, f.name))
        h.update(b")")
    elif isinstance(value, (tuple, list)):
        h.update(f"seq{len(value)}(".encode())
        for v in value:
            _feed(h, v)
        h.update(b")")
    elif isinstance(value, dict):
        h.update(f"map{len(value)}(".encode())
        for k in sorted(value, key=repr):
            _feed(h, k)
            _feed(h, value[k])
        h.update(b")")
    else:
        h.update(f"{type(value).__name__}:{value!r};".encode())


def _nbytes(value):
    """Bytes of the numpy arrays in a value (dataclass fields, sequences, dicts), its memory's measure."""
    if isinstance(value, np.ndarray):
        return value.nbytes
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return sum(_nbytes(getattr(value, f.name)) for f in dataclasses.fields(value))
    if isinstance(value, (tuple, list)):
        return sum(_nbytes(v) for v in value)
    if isinstance(value, dict):
        return sum(_nbytes(v) for v in value.values())
    return 0


def digest(*values):
    """A SHA-256 (hex) of values by content: numpy arrays by dtype, shape and bytes, dataclasses by
    their fields, sequences and dicts element by element, anything else by its ``repr``."""
    h = hashlib.sha256()
    _feed(h, values)
    return h.hexdigest()


def default_cache_dir():
    """The cache folder of the command line and the Python API: ``$AIRPICTURE_CACHE_DIR``, else
    ``$XDG_CACHE_HOME/airpicture``, else ``~/.cache/airpicture``."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "airpicture"


class PrepCache:
    """Prepared parts by kind and key, in memory and optionally in ``folder`` on disk.

    Parameters
    ----------
    folder : path, optional
        Where parts persist between processes (None: this object's memory only).
    max_bytes : int
        Bound of the folder's size; the least recently used parts are removed past it.
    max_memory_bytes : int
        Bound of the parts kept in memory (their arrays' bytes); the least recently used go first.
    memory : dict, optional
        The in-memory store (a new dict by default); a dict shared by the caller shares parts.
    version : str, optional
        The code's version in every key (default :func:`code_version` with a folder, none in memory).

    ``stats`` counts, per kind, the parts ``computed`` and those found in ``memory`` or on ``disk``
    (``rebuilt``: the memory-only parts of :meth:`memo` built again).
    """

    def __init__(self, folder=None, max_bytes=DEFAULT_MAX_BYTES, memory=None, version=None,
                 max_memory_bytes=DEFAULT_MAX_MEMORY_BYTES):
        self.folder = None if folder is None else Path(folder)
        self.max_bytes = int(max_bytes)
        self._memory = {} if memory is None else memory
        self.max_memory_bytes = int(max_memory_bytes)
        self._sizes = {}             # key -> bytes of its arrays (the memory bound's measure)
        # the code cannot change within a process: only parts on disk need its version in their keys
        self.version = version if version is not None else (code_version() if self.folder is not None else "")
        self.stats = {"computed": Counter(), "memory": Counter(), "disk": Counter(), "rebuilt": Counter()}
        self._terrains = {}          # id -> (terrain, its digest): the object kept, so the id stays its
        self._terrain = None

    def key(self, kind, inputs):
        """The hex key of a part: :func:`digest` of the code version, the kind and the inputs."""
        return digest(self.version, kind, inputs)

    def terrain(self):
        """The packaged terrain model, loaded once per cache (kept in memory only: it is on disk already)."""
        if self._terrain is None:
            from geo.terrain import load_terrain
            self._terrain = load_terrain()
        return self._terrain

    def terrain_key(self, terrain):
        """The digest of a terrain model (computed once per object)."""
        got = self._terrains.get(id(terrain))
        if got is None or got[0] is not terrain:
            got = (terrain, digest(terrain))
            self._terrains[id(terrain)] = got
        return got[1]

    def has(self, kind, inputs):
        """Whether the part is at hand (in memory, or a sound file on disk, then loaded)."""
        k = self.key(kind, inputs)
        if k in self._memory:
            return True
        value = self._load(kind, k)
        if value is not None:
            self._keep(k, value)
        return value is not None

    def prefetch(self, kind, items, engine, fn, shared):
        """Compute the parts of ``items`` (``[(inputs, args), ...]``) not at hand, in parallel on ``engine``
        (``engine.map(fn, shared, [(i, *args), ...])``, each task returning ``(i, part)``), and keep
        them as :meth:`get` would. The parts are the same whichever worker computes them."""
        todo = [(i, inputs, args) for i, (inputs, args) in enumerate(items) if not self.has(kind, inputs)]
        by_index = {i: inputs for i, inputs, _ in todo}
        for i, value in engine.map(fn, shared, [(i, *args) for i, _, args in todo]):
            k = self.key(kind, by_index[i])
            self.stats["computed"][kind] += 1
            self._store(kind, k, value)
            self._keep(k, value)
        return len(todo)

    def memo(self, kind, inputs, compute):
        """As :meth:`get`, in memory only (for parts that are cheap to rebuild from files already on disk,
        or that hold objects not worth writing: a projection, a prepared polygon)."""
        k = self.key(kind, inputs)
        if k in self._memory:
            self.stats["memory"][kind] += 1
            return self._recall(k)
        self.stats["rebuilt"][kind] += 1
        return self._keep(k, compute())

    def get(self, kind, inputs, compute):
        """The part ``kind`` for ``inputs`` (values :func:`digest` reads by content): from memory,
        from disk, or ``compute()`` (then kept in both)."""
        k = self.key(kind, inputs)
        if k in self._memory:
            self.stats["memory"][kind] += 1
            return self._recall(k)
        value = self._load(kind, k)
        if value is not None:
            self.stats["disk"][kind] += 1
        else:
            value = compute()
            self.stats["computed"][kind] += 1
            self._store(kind, k, value)
        return self._keep(k, value)

    def _recall(self, k):
        """A part in memory, now the most recently used."""
        self._memory[k] = self._memory.pop(k)
        return self._memory[k]

    def _keep(self, k, value):
        """Keep a part in memory, the least recently used going first past :attr:`max_memory_bytes`."""
        self._memory[k] = value
        self._sizes[k] = _nbytes(value)
        while sum(self._sizes.get(x, 0) for x in self._memory) > self.max_memory_bytes and len(self._memory) > 1:
            oldest = next(iter(self._memory))
            del self._memory[oldest]
            self._sizes.pop(oldest, None)
        return value

    def _path(self, kind, k):
        return self.folder / f"{kind}-{k}{_SUFFIX}"

    def _load(self, kind, k):
        if self.folder is None:
            return None
        path = self._path(kind, k)
        try:
            with open(path, "rb") as fh:
                data = fh.read()
        except OSError:
            return None
        head = len(_MAGIC) + 65          # the magic, a SHA-256 in hex and a newline
        if (len(data) < head or not data.startswith(_MAGIC)
                or hashlib.sha256(data[head:]).hexdigest().encode() != data[len(_MAGIC):head - 1]):
            path.unlink(missing_ok=True)   # corrupt or truncated: never trusted
            return None
        try:
            os.utime(path)                 # recently used: pruned last
        except OSError:
            pass
        return pickle.loads(data[head:])

    def _store(self, kind, k, value):
        if self.folder is None:
            return
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            payload = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
            tmp = self.folder / f".{kind}-{k}.{os.getpid()}-{secrets.token_hex(4)}.tmp"
            with open(tmp, "wb") as fh:
                fh.write(_MAGIC + hashlib.sha256(payload).hexdigest().encode() + b"\n" + payload)
            os.replace(tmp, self._path(kind, k))     # atomic: readers see the old file or the whole new one
            self._prune()
        except OSError:
            pass                                     # a cache that cannot write is only slower

    def _prune(self):
        for p in self.folder.glob(".*.tmp"):        # left by a process killed while writing
            try:
                if p.stat().st_mtime < time.time() - 3600:
                    p.unlink(missing_ok=True)
            except OSError:
                pass
        files = []
        for p in self.folder.glob(f"*{_SUFFIX}"):
            try:
                st = p.stat()
            except OSError:
                continue
            files.append((st.st_mtime, st.st_size, p))
        total = sum(f[1] for f in files)
        for _, size, p in sorted(files, key=lambda f: (f[0], str(f[2]))):
            if total <= self.max_bytes:
                break
            p.unlink(missing_ok=True)
            total -= size
