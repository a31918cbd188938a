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
In memory only (:meth:`PrepCache.memo`), the same what-if also finds whole
routes, radar models, scan windows and each route's fence tables (with
what they derive once: minutes per row, the airspace rows with short exits
bridged), each keyed by what it reads (:func:`sim.montecarlo.prepare`): in
one process a warm what-if of such a key prepares in a few milliseconds.

The cache belongs to its owner (a command, a sweep, a notebook session): no
module-level state. On disk (``folder``) each part is one file that proves
what it serves (:func:`encode_part`, :func:`decode_part`):

- **data, never code**: arrays in NumPy's ``.npy`` format read with pickling
  off, everything else (the part's structure, its numbers and strings) as
  JSON; the only objects a file can name are the part types of
  :data:`PART_TYPES`, built through their validating constructors;
- **its full key inside**: the kind, the key (a hash of the inputs and the
  code version) and the code version, checked on reading, so a file moved
  or copied to another name is refused;
- **authenticated**: an HMAC-SHA256 of the whole file under a secret of the
  user's (:func:`cache_secret`: ``~/.config/airpicture/cache-key``, made on
  first use with mode 0600, never inside the cache folder), so a file that
  anyone else wrote is refused. Sharing a cache folder means sharing that
  secret on purpose (``$AIRPICTURE_CACHE_KEY_FILE`` naming one file for a team).

A refused, corrupt or truncated file is recomputed, never trusted. The cache
never stops a run: any failure to read, write, remove or make room falls
back to computing in memory, with one warning line per cache; a temporary
file whose write failed is removed at once. Files are written atomically (a
temporary file, then :func:`os.replace`); the folder is bounded
(:data:`DEFAULT_MAX_BYTES`; least recently used files go first) and safe to
delete at any time.
"""
import dataclasses
import hashlib
import hmac
import importlib
import io
import json
import os
import secrets
import stat
import time
import warnings
from collections import Counter
from pathlib import Path

import numpy as np

__all__ = ["PrepCache", "code_version", "digest", "DEFAULT_MAX_BYTES", "DEFAULT_MAX_MEMORY_BYTES", "CACHE_ENV",
           "CACHE_KEY_ENV", "CacheWarning", "PART_TYPES", "cache_secret", "decode_part", "default_cache", "default_cache_dir",
           "default_key_file", "encode_part"]

#: Largest size of a cache folder [bytes] unless the owner says otherwise.
DEFAULT_MAX_BYTES = 2 * 1024**3
#: Largest size of the parts a cache keeps in memory [bytes] (their arrays) unless the owner says otherwise.
DEFAULT_MAX_MEMORY_BYTES = 1024**3
#: Environment variable naming the cache folder of the command line and the Python API.
CACHE_ENV = "AIRPICTURE_CACHE_DIR"
#: Environment variable naming the file of the secret that authenticates cache files.
CACHE_KEY_ENV = "AIRPICTURE_CACHE_KEY_FILE"
_MAGIC = b"airpicture-part-2\n"
_SUFFIX = ".part"
_MAC_BYTES = 32                      # HMAC-SHA256
_SECRET_BYTES = 32
#: The packages whose source computes prepared parts (their text is part of every key).
_CODE_DIRS = ("geo", "sim")
#: The only types a cache file may name (module, class): frozen dataclasses of arrays and numbers, rebuilt
#: through their own constructors (which validate them). Anything else in a part is an array, a number, a
#: string, None, a tuple, a list, a dict or a shapely geometry (as WKB).
PART_TYPES = (("sim.tables", "DetectionTable"), ("sim.tables", "OrbitReach"), ("geo.terrain", "MaskingTable"))
#: Largest JSON header of a cache file [bytes] (the shipped parts' are under 1 kB).
_HEADER_MAX_BYTES = 1 << 20


class CacheWarning(UserWarning):
    """The disk cache could not be used for a part (refused, unreadable or unwritable): computed in memory."""


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


def default_cache(folder=None, disk=True, warn=None, max_memory_bytes=DEFAULT_MAX_MEMORY_BYTES):
    """The cache of a command of the command line, and of the Python API (:func:`sim.api.session_cache`):
    this process's memory, then the folder ``folder`` (default :func:`default_cache_dir`); with ``disk=False``
    (``--no-cache``) memory only, writing nothing. At most ``max_memory_bytes`` of its parts are kept in
    memory; ``warn`` as :class:`PrepCache`'s."""
    if not disk:
        return PrepCache(max_memory_bytes=max_memory_bytes)
    return PrepCache(Path(folder) if folder else default_cache_dir(), warn=warn, max_memory_bytes=max_memory_bytes)


def default_key_file():
    """The file of the secret that authenticates this user's cache files: ``$AIRPICTURE_CACHE_KEY_FILE``,
    else ``$XDG_CONFIG_HOME/airpicture/cache-key``, else ``~/.config/airpicture/cache-key``."""
    if os.environ.get(CACHE_KEY_ENV):
        return Path(os.environ[CACHE_KEY_ENV])
    base = os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config"
    return Path(base) / "airpicture" / "cache-key"


def cache_secret(path=None, folder=None):
    """The secret (bytes) that authenticates cache files, read from ``path`` (default :func:`default_key_file`),
    which is made on first use: 32 random bytes in hex, mode 0600, its folder 0700.

    Raises :class:`OSError` (with the reason) when the file cannot be made or read, is not a regular file,
    is writable by every user, holds no 64-hex-digit secret, or lies inside the cache ``folder`` (whoever
    can write the cache could then read it).
    """
    path = Path(path) if path is not None else default_key_file()
    if folder is not None and Path(os.path.abspath(path)).is_relative_to(os.path.abspath(folder)):
        raise OSError(f"the cache secret {path} lies inside the cache folder {folder}")
    if not path.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass                                        # another process made it first: read theirs
        else:
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_hex(_SECRET_BYTES) + "\n")
    st = path.stat()
    if not stat.S_ISREG(st.st_mode):
        raise OSError(f"the cache secret {path} is not a regular file")
    if st.st_mode & stat.S_IWOTH:
        raise OSError(f"the cache secret {path} is writable by every user")
    text = path.read_text(encoding="ascii", errors="replace").strip()
    try:
        secret = bytes.fromhex(text)
    except ValueError:
        secret = b""
    if len(secret) < _SECRET_BYTES:
        raise OSError(f"the cache secret {path} does not hold {2 * _SECRET_BYTES} hex digits")
    return secret


def _part_type(module, name):
    if (module, name) not in PART_TYPES:
        raise ValueError(f"a cache file names the type {module}.{name}, not a part type")
    return getattr(importlib.import_module(module), name)


def _encode(value, arrays):
    """A JSON tree of ``value``; its arrays appended to ``arrays`` and referred to by index."""
    if isinstance(value, (np.ndarray, np.generic)):      # first: np.float64 is a float
        a = np.asarray(value)
        if a.dtype.kind not in "biufc":
            raise TypeError(f"a {a.dtype} array cannot be written to the cache")
        arrays.append(a)
        return {"array" if isinstance(value, np.ndarray) else "scalar": len(arrays) - 1}
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return {"int": str(value)}                      # exact at any size (JSON readers differ on big ints)
    if isinstance(value, float):
        return {"float": value.hex()}                   # exact, NaN and infinities included
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        t = (type(value).__module__, type(value).__name__)
        if t not in PART_TYPES:
            raise TypeError(f"{t[0]}.{t[1]} is not a part type (sim.prepcache.PART_TYPES)")
        return {"type": list(t), "fields": {f.name: _encode(getattr(value, f.name), arrays)
                                            for f in dataclasses.fields(value) if f.init}}
    if isinstance(value, (tuple, list)):
        return {"tuple" if isinstance(value, tuple) else "list": [_encode(v, arrays) for v in value]}
    if isinstance(value, dict):
        return {"dict": [[_encode(k, arrays), _encode(v, arrays)] for k, v in value.items()]}
    if type(value).__module__.startswith("shapely"):
        import shapely
        return {"wkb": shapely.to_wkb(value, hex=True, include_srid=False)}
    raise TypeError(f"a {type(value).__name__} cannot be written to the cache")


def _decode(node, arrays):
    if node is None or isinstance(node, (bool, str)):
        return node
    if isinstance(node, dict) and node.keys() == {"type", "fields"}:
        cls = _part_type(*node["type"])
        return cls(**{k: _decode(x, arrays) for k, x in node["fields"].items()})
    if not isinstance(node, dict) or len(node) != 1:
        raise ValueError("not a cache tree")
    (tag, v), = node.items()
    if tag == "int":
        return int(v)
    if tag == "float":
        return float.fromhex(v)
    if tag == "array":
        return arrays[v]
    if tag == "scalar":
        return arrays[v][()]
    if tag in ("tuple", "list"):
        out = [_decode(x, arrays) for x in v]
        return tuple(out) if tag == "tuple" else out
    if tag == "dict":
        return {_decode(k, arrays): _decode(x, arrays) for k, x in v}
    if tag == "wkb":
        import shapely
        return shapely.from_wkb(v)
    raise ValueError(f"a cache tree holds the unknown tag {tag!r}")


def encode_part(value, secret, kind, key, version):
    """The bytes of a cache file holding ``value`` (a part), its kind, key and code version, authenticated
    with ``secret``. Raises :class:`TypeError` for a value of a type a cache file cannot hold."""
    arrays = []
    header = json.dumps({"kind": kind, "key": key, "version": version, "tree": _encode(value, arrays),
                         "arrays": len(arrays)}, separators=(",", ":"), allow_nan=False).encode()
    body = io.BytesIO()
    body.write(len(header).to_bytes(8, "little") + header)
    for a in arrays:
        np.lib.format.write_array(body, a, allow_pickle=False)
    message = _MAGIC + body.getvalue()
    return hmac.new(secret, message, hashlib.sha256).digest() + message


def decode_part(data, secret, kind, key, version):
    """The part a cache file holds, or :class:`ValueError` with the reason it is refused: not authenticated
    by ``secret`` (written by anyone else, corrupt or truncated), another part's (kind, key or code version
    other than asked), or not a well-formed part. Nothing in the file is run: arrays are read with
    pickling off, the rest is JSON, and the only types built are :data:`PART_TYPES`."""
    mac, message = data[:_MAC_BYTES], data[_MAC_BYTES:]
    if not hmac.compare_digest(mac, hmac.new(secret, message, hashlib.sha256).digest()):
        raise ValueError("not authenticated by this user's cache secret (written by someone else, or corrupt)")
    if not message.startswith(_MAGIC):
        raise ValueError("not an airpicture part of this format")
    body = io.BytesIO(message[len(_MAGIC):])
    size = int.from_bytes(body.read(8), "little")
    if size > _HEADER_MAX_BYTES:
        raise ValueError("header too large")
    head = json.loads(body.read(size))
    if (head.get("kind"), head.get("key"), head.get("version")) != (kind, key, version):
        raise ValueError(f"holds the part {head.get('kind')}-{head.get('key')}, not {kind}-{key}")
    arrays = [np.lib.format.read_array(body, allow_pickle=False) for _ in range(int(head["arrays"]))]
    if body.read(1):
        raise ValueError("trailing bytes")
    return _decode(head["tree"], arrays)


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
    secret : bytes, optional
        The secret that authenticates the folder's files (default :func:`cache_secret`, read when the
        folder is first used; when it cannot be had, the cache keeps to memory, with a warning).
    warn : callable, optional
        Called with one line of text when the disk cache fails for the first time (default: a
        :class:`CacheWarning`); later failures of the same cache are silent.

    ``stats`` counts, per kind, the parts ``computed`` and those found in ``memory`` or on ``disk``
    (``rebuilt``: the memory-only parts of :meth:`memo` built again).
    """

    def __init__(self, folder=None, max_bytes=DEFAULT_MAX_BYTES, memory=None, version=None,
                 max_memory_bytes=DEFAULT_MAX_MEMORY_BYTES, secret=None, warn=None):
        self.folder = None if folder is None else Path(folder)
        self._secret = secret
        self._warn = warn
        self._warned = False
        self._writable = True        # False after a write failed: the rest of the run keeps to memory
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

    def _failed(self, what, error):
        """Say once per cache that the disk cache failed (``what``: the file or folder; ``error``: why)."""
        if self._warned:
            return
        self._warned = True
        text = f"cache: {what}: {error}; computing in memory"
        if self._warn is not None:
            self._warn(text)
        else:
            warnings.warn(text, CacheWarning, stacklevel=4)

    def _key_secret(self):
        """The secret of the folder's files, or None (then the folder is not used) when it cannot be had."""
        if self._secret is None:
            try:
                self._secret = cache_secret(folder=self.folder)
            except OSError as e:
                self._failed("its secret", e)
                self._secret = False
        return self._secret or None

    def _load(self, kind, k):
        if self.folder is None:
            return None
        path = self._path(kind, k)
        try:
            with open(path, "rb") as fh:
                data = fh.read()
        except FileNotFoundError:
            return None
        except OSError as e:
            self._failed(path, e)
            return None
        secret = self._key_secret()
        if secret is None:
            return None
        try:
            value = decode_part(data, secret, kind, k, self.version)
        except Exception as e:        # refused or malformed: never trusted, whatever the error
            self._failed(path, f"refused ({e})")
            try:
                path.unlink(missing_ok=True)
            except OSError:
                pass                  # a read-only folder: left there, refused each time
            return None
        try:
            os.utime(path)            # recently used: pruned last
        except OSError:
            pass
        return value

    def _store(self, kind, k, value):
        if self.folder is None or not self._writable:
            return
        secret = self._key_secret()
        if secret is None:
            return
        try:
            data = encode_part(value, secret, kind, k, self.version)
        except TypeError as e:
            self._failed(f"part {kind}", e)
            return
        tmp = self.folder / f".{kind}-{k}.{os.getpid()}-{secrets.token_hex(4)}.tmp"
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            with open(tmp, "wb") as fh:
                fh.write(data)
            os.replace(tmp, self._path(kind, k))     # atomic: readers see the old file or the whole new one
        except OSError as e:
            self._writable = False
            self._failed(self.folder, e)
            try:
                tmp.unlink(missing_ok=True)          # a failed write leaves nothing behind
            except OSError:
                pass
            return
        self._prune()

    def _prune(self):
        try:
            entries = list(os.scandir(self.folder))
        except OSError:
            return
        files, total = [], 0
        for e in entries:
            try:
                st = e.stat(follow_symlinks=False)
                if e.name.startswith(".") and e.name.endswith(".tmp"):
                    if st.st_mtime < time.time() - 3600:     # left by a process killed while writing
                        os.unlink(e.path)
                elif e.name.endswith(_SUFFIX) and stat.S_ISREG(st.st_mode):
                    files.append((st.st_mtime, e.name, st.st_size))
                    total += st.st_size
            except OSError:
                continue
        for _, name, size in sorted(files):
            if total <= self.max_bytes:
                break
            try:
                os.unlink(self.folder / name)
            except OSError:
                continue
            total -= size
