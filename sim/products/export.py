"""Contract files of a run, written atomically.

Files are first written to a hidden staging folder next to the output
folder, which replaces the output folder as a whole only when every file
is complete (:func:`staged_output`): a failed or interrupted run leaves no
partial outputs and removes nothing but its own staging folder, and an
output folder always holds exactly one run's files.
"""
import contextlib
import csv
import io
import json
import os
import re
import shutil
import signal
import secrets
import socket
import sys
import time
import types
from pathlib import Path

fcntl: types.ModuleType | None
try:       # flock: a lock the kernel drops when its process ends, however it ends (POSIX)
    import fcntl
except ImportError:      # pragma: no cover - no lock where there is no flock
    fcntl = None

import numpy as np

from geo.units import KMH_MPS
from sim.cells import safe_row
from sim.platforms import Orbit
from sim.results import ASSUMPTIONS_NOTE

__all__ = ["staged_output", "check_output_folder", "OutputRefused", "OUTPUT_FILES", "write_json", "write_csv", "routes_feature_collection",
           "feature_collection", "write_readme", "write_sidecar",
           "radar_features", "ROUTE_EXPORT_STEP_S"]

#: Time step of route ground tracks in GeoJSON/KML exports [s] (about 6.5 km at cruise).
ROUTE_EXPORT_STEP_S = 30.0


#: Hidden names a run uses beside its output folder: its staging folder, the previous outputs while
#: they are swapped out, and the output folder's lock (``.NAME.airpicture-lock``).
STAGE_PREFIX = ".airpicture-stage-"
ASIDE_PREFIX = ".airpicture-old-"
LOCK_SUFFIX = ".airpicture-lock"
#: Files the commands write: a folder holding only these (or a README.txt of airpicture's) is an output
#: folder, replaced as a whole by the next run into it; anything else there is refused, never removed.
OUTPUT_FILES = frozenset({
    "README.txt", "summary.json", "flights.csv", "routes.geojson", "map.png", "map.pdf", "map.svg",
    "detections.png", "altitude.png", "routes.kml", "brief.pdf", "tornado.png", "tornado.pdf",
    "tornado_p_stopped.png", "coverage.geojson", "coverage.json", "sweep.json", "sweep.png", "sweep.csv",
    "sensitivity.csv", "compare.csv", "compare.png"})
#: Folders the commands write into an output folder, with the names of the files they hold.
OUTPUT_DATASETS = types.MappingProxyType({"flights.parquet": re.compile(r"part-\d+\.parquet")})
#: Attempts (50 ms apart) to take an output folder's lock before refusing: room for a lock being released.
_LOCK_TRIES = 4
_HIDDEN_NAME = re.compile(rf"({re.escape(STAGE_PREFIX)}|{re.escape(ASIDE_PREFIX)})(?P<host>[A-Za-z0-9.-]+)-"
                          r"(?P<pid>\d+)-(?P<start>\d+)-[0-9a-f]{8}")


class OutputRefused(RuntimeError):
    """An output folder cannot be written: another process is writing it, or it holds what a run did not
    write. ``str()`` is the one-line message (exit status 2 at the command line)."""


def _host():
    """This machine's name as it goes into a staging folder's name (letters, digits, '.', '-')."""
    return re.sub(r"[^A-Za-z0-9.-]", "-", socket.gethostname() or "host")[:63] or "host"


def _running(pid):
    """Whether a process ``pid`` exists here (one of another user counts; always, where it cannot be told
    without signalling it: Windows)."""
    if os.name == "nt":
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:          # EPERM: it exists
        return True
    return True


def _process_start(pid):
    """When process ``pid`` started, in clock ticks since boot (Linux ``/proc/PID/stat``); 0 when unknown.

    With its process id it names a process for good: an id can be reused, this pair cannot."""
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19])
    except (OSError, ValueError, IndexError):
        return 0


def _owner_tag():
    """This process in a hidden folder's name: ``HOST-PID-START``."""
    return f"{_host()}-{os.getpid()}-{_process_start(os.getpid())}"


def _left_behind(entry):
    """The process id when ``entry`` (a ``DirEntry``) is the staging or swapped-out folder of a run on this
    machine that no longer runs (no such process, or its id now names a process started at another time);
    else None."""
    m = _HIDDEN_NAME.fullmatch(entry.name)
    if not m or m["host"] != _host() or not entry.is_dir(follow_symlinks=False):
        return None
    pid, start = int(m["pid"]), int(m["start"])
    if pid <= 0:
        return None
    if not _running(pid):
        return pid
    now = _process_start(pid)
    return pid if start and now and now != start else None


def _remove_stale(parent):
    """Remove what stopped runs (killed, power cut) left in ``parent``: their staging and swapped-out
    folders (by process id and machine) and lock files no process holds. Returns what was removed."""
    removed = []
    try:
        entries = list(os.scandir(parent))
    except OSError:
        return removed
    for e in entries:
        pid = _left_behind(e)
        if pid is not None:
            shutil.rmtree(e.path, ignore_errors=True)
            removed.append(f"{e.name} (process {pid})")
        elif (fcntl is not None and e.name.startswith(".") and e.name.endswith(LOCK_SUFFIX)
              and e.is_file(follow_symlinks=False)):
            try:
                fd = os.open(e.path, os.O_RDONLY)
            except OSError:
                continue
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)   # held: a run is writing; free: left behind
                if os.stat(e.path).st_ino == os.fstat(fd).st_ino:
                    owner = os.read(fd, 200).decode("utf-8", "replace").split()
                    os.unlink(e.path)
                    removed.append(f"{e.name}" + (f" (process {owner[0]})" if owner else ""))
            except OSError:
                pass
            finally:
                os.close(fd)
    return removed


def _lock_owner(fd):
    text = os.pread(fd, 200, 0).decode("utf-8", "replace").split()
    return f"process {text[0]}" + (f" on {text[1]}" if len(text) > 1 else "") if text else "another process"


def _take_lock(lock, shown):
    """Hold ``lock`` (flock: the kernel drops it when its process ends, however it ends) for ``out``;
    returns its descriptor, or raises :class:`OutputRefused` when another process holds it."""
    owner = "another process"
    for attempt in range(_LOCK_TRIES):
        if attempt:
            time.sleep(0.05)
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            owner = _lock_owner(fd)
            os.close(fd)
            continue
        try:     # its last holder may have removed it between our open and our lock: then take the new one
            same = os.stat(lock).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if not same:
            os.close(fd)
            continue
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()} {_host()}\n".encode())
        return fd
    raise OutputRefused(f"--out {shown}: another run is writing it ({owner}; lock {lock}): wait for it to end "
                        "or choose another folder")


def _release_lock(lock, fd):
    try:
        if os.stat(lock).st_ino == os.fstat(fd).st_ino:
            os.unlink(lock)
    except OSError:
        pass
    finally:
        os.close(fd)


def _output_dataset(entry):
    """Whether ``entry`` is a dataset folder the commands write (``flights.parquet/``: part files only)."""
    if entry.name not in OUTPUT_DATASETS or not entry.is_dir(follow_symlinks=False):
        return False
    try:
        return all(p.is_file(follow_symlinks=False) and OUTPUT_DATASETS[entry.name].fullmatch(p.name)
                   for p in os.scandir(entry.path))
    except OSError:
        return False


def _check_replaceable(out, shown):
    """Refuse (:class:`OutputRefused`) to replace a folder that is not an airpicture output folder
    (``shown``: the folder as the user named it)."""
    try:
        cwd = Path.cwd().resolve()
    except OSError:
        cwd = None
    if cwd is not None and (cwd == out or out in cwd.parents):
        raise OutputRefused(f"--out {shown}: is the current folder or holds it: choose a folder of its own")
    if not out.exists():
        return
    entries = sorted(os.scandir(out), key=lambda e: e.name)
    others = [e.name for e in entries if not e.is_file(follow_symlinks=False) and not _output_dataset(e)]
    readme = out / "README.txt"
    ours = (not others and (all(e.name in OUTPUT_FILES or e.name in OUTPUT_DATASETS for e in entries) or (
        readme.is_file() and readme.read_bytes()[:18] == b"airpicture outputs")))
    if not ours:
        names = others or [e.name for e in entries if e.name not in OUTPUT_FILES | set(OUTPUT_DATASETS)]
        raise OutputRefused(f"--out {shown}: holds {', '.join(map(repr, names[:3]))}"
                            f"{' and more' if len(names) > 3 else ''}, not an airpicture output folder; a run "
                            "replaces its output folder as a whole: choose a new or empty folder")


def check_output_folder(out_dir):
    """Raise :class:`OutputRefused` at once, before any work, when ``out_dir`` could not be written as
    :func:`staged_output` writes it: it holds what airpicture did not write, or another process is
    writing it (its lock is held). :func:`staged_output` checks both again when it starts."""
    shown = Path(out_dir)
    out = shown.resolve() if shown.is_symlink() else Path(os.path.abspath(shown))
    _check_replaceable(out, shown)
    lock = out.parent / f".{out.name}{LOCK_SUFFIX}"
    if fcntl is None or not lock.is_file():
        return
    try:
        fd = os.open(lock, os.O_RDONLY)
    except OSError:
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        raise OutputRefused(f"--out {shown}: another run is writing it ({_lock_owner(fd)}; lock {lock}): wait "
                            "for it to end or choose another folder") from None
    except OSError:
        pass
    finally:
        os.close(fd)


@contextlib.contextmanager
def _signals_deferred():
    """SIGINT, SIGTERM and SIGHUP wait (pending) while the block runs: a folder swap is never cut halfway.
    The mask is read first and blocked inside the ``try``, so that a signal handled at any moment (one
    already pending runs its handler at the first chance) cannot leave the thread with them blocked."""
    mask = {getattr(signal, n) for n in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, n)}
    old = signal.pthread_sigmask(signal.SIG_BLOCK, ()) if hasattr(signal, "pthread_sigmask") else None  # unchanged
    try:
        if old is not None:
            signal.pthread_sigmask(signal.SIG_BLOCK, mask)
        yield
    finally:
        if old is not None:
            signal.pthread_sigmask(signal.SIG_SETMASK, old)


def _default_note(text):
    print(f"airpicture: {text}", file=sys.stderr)


@contextlib.contextmanager
def staged_output(out_dir, note=_default_note):
    """Yield a staging folder; on success it replaces ``out_dir`` as a whole.

    An output folder is one run's. The run writes into a hidden staging
    folder beside ``out_dir`` (``.airpicture-stage-HOST-PID-START-XXXXXXXX``:
    the machine, the process and when it started);
    at the end the previous ``out_dir`` (if any) is renamed aside, the
    stage renamed in, and the previous one removed, so ``out_dir`` holds
    exactly this run's files. On any failure or signal only the staging
    folder is removed: ``out_dir`` and anything else stay as they were.

    Raises :class:`OutputRefused` when another process holds the folder's
    lock (``.NAME.airpicture-lock`` beside it) or when ``out_dir`` holds
    anything but airpicture outputs (files of :data:`OUTPUT_FILES`, or a
    README.txt written by airpicture; no subfolders). Staging folders and
    locks left beside it by runs that no longer run (killed, a power cut)
    are removed first, and ``note(text)`` says so (one line on stderr by
    default).
    """
    shown = Path(out_dir)
    out = shown.resolve() if shown.is_symlink() else Path(os.path.abspath(shown))
    if out.exists() and not out.is_dir():
        raise NotADirectoryError(f"{out}: exists and is not a folder")
    parent = out.parent
    parent.mkdir(parents=True, exist_ok=True)
    removed = _remove_stale(parent)
    if removed:
        note(f"removed what stopped runs left in {parent}: {', '.join(removed)}")
    lock = parent / f".{out.name}{LOCK_SUFFIX}"
    lock_fd = None
    stage = aside = None
    try:
        with _signals_deferred():
            lock_fd = _take_lock(lock, shown) if fcntl is not None else None
        _check_replaceable(out, shown)
        with _signals_deferred():
            stage = _new_folder(parent, STAGE_PREFIX)
        yield stage
        with _signals_deferred():     # the swap: never half done by a signal
            aside = _swap_in(stage, out)
            stage = None
    finally:
        with _signals_deferred():     # the clean-up runs to its end (a second Ctrl-C waits for it)
            if stage is not None:
                shutil.rmtree(stage, ignore_errors=True)
            if aside is not None:     # the previous outputs, replaced
                shutil.rmtree(aside, ignore_errors=True)
            if lock_fd is not None:
                _release_lock(lock, lock_fd)


def _new_folder(parent, prefix):
    """A new hidden folder ``PREFIX-HOST-PID-START-XXXXXXXX`` in ``parent``, with the permissions of any new folder
    (the umask's; ``tempfile.mkdtemp`` would make it private, and it becomes the output folder)."""
    while True:
        path = parent / f"{prefix}{_owner_tag()}-{secrets.token_hex(4)}"
        try:
            os.mkdir(path)
            return path
        except FileExistsError:
            continue


def _swap_in(stage, out):
    """Rename ``out`` (if any) aside and ``stage`` in its place; returns the folder set aside (to remove).
    If the stage cannot go in, the previous folder goes back."""
    if not out.exists():
        os.replace(stage, out)
        return None
    aside = _new_folder(out.parent, ASIDE_PREFIX)
    try:
        os.replace(out, aside)        # onto the empty folder just made
    except BaseException:
        os.rmdir(aside)
        raise
    try:
        os.replace(stage, out)
    except BaseException:
        os.replace(aside, out)        # should that fail too, the previous outputs stay in the aside folder
        raise
    return aside


def write_json(path, obj):
    """Deterministic JSON (sorted by construction order, fixed float repr, final newline)."""
    Path(path).write_text(json.dumps(obj, indent=2, ensure_ascii=False, allow_nan=False) + "\n",
                          encoding="utf-8")


def write_csv(path, header, rows):
    """A CSV file; text cells that a spreadsheet would run as a formula are neutralised (:mod:`sim.cells`)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(safe_row(header))
    w.writerows(safe_row(r) for r in rows)
    Path(path).write_text(buf.getvalue(), encoding="utf-8")


def _round(a, nd=5):
    return np.round(np.asarray(a, dtype=float), nd).tolist()


def feature_collection(features, scenario_name, overrides=()):
    """A GeoJSON FeatureCollection carrying the scenario, its overrides (a what-if, when any) and the
    open-source note (an RFC 7946 foreign member, ignored by GIS tools that do not know it)."""
    about = {"scenario": scenario_name, **({"overrides": list(overrides)} if overrides else {}),
             "note": ASSUMPTIONS_NOTE}
    return {"type": "FeatureCollection", "airpicture": about, "features": list(features)}


_README = """airpicture outputs of scenario {name} (seed {seed})

{note}

summary.json     the headline numbers (P(detect) with its 95% interval, detected per campaign,
                 per radar and per route figures, the settings used)
{flights}routes.geojson   the nominal routes' ground tracks and the radar sites (WGS84 lon/lat)
{extra}
The same scenario and seed give {identical}.
"""
#: How README.txt describes each per-flight file (summary.json's ``flights_file``).
_FLIGHTS_TEXT = {
    "flights.csv": ("flights.csv      one row per simulated flight (detected, first detection time and radar,\n"
                    "                 minutes in the airspace and in radar coverage, ...)\n",
                    "byte-identical summary.json and flights.csv"),
    "flights.parquet": ("flights.parquet/ the same rows as flights.csv would hold, as a Parquet dataset (one file per\n"
                        "                 chunk of campaigns; read with pandas, polars or DuckDB as one table)\n",
                        "a byte-identical summary.json and the same flights.parquet rows"),
    None: ("", "a byte-identical summary.json (no per-flight file was asked for)"),
}


def write_sidecar(path, what, files):
    """A README.txt for an output folder other than a run's: what it is (scenario, run), the files, the note.

    ``what`` says which scenarios and run the files come from; ``files`` lists them, one per line.
    """
    Path(path).write_text(f"airpicture outputs: {what}\n\n{ASSUMPTIONS_NOTE}\n\n{files}", encoding="utf-8")


def _run_settings_text(summary):
    """The README's section on how this run differs from the scenario file ("" when it does not)."""
    lines = []
    if summary.get("overrides"):
        n = len(summary["overrides"])
        lines += [f"What-if: {n} change{'s' if n > 1 else ''} to the scenario file (--set), applied in this order:",
                  *(f"  {text}" for text in summary["overrides"])]
    if summary.get("exact"):
        lines.append("Exact geometry: every scan evaluated from its geometry, no detection tables (--exact).")
    return "\n".join(lines) + "\n\n" if lines else ""


def write_readme(path, summary, extra=""):
    """A plain-text README for an output folder: the scenario's title (whole), what each file is, the run's
    overrides (a what-if) and exact geometry when used, and the open-source note."""
    flights, identical = _FLIGHTS_TEXT[summary.get("flights_file", "flights.csv")]
    text = _README.format(name=summary["scenario"], seed=summary["seed"], note=summary["note"], extra=extra,
                          flights=flights, identical=identical)
    head, rest = text.split("\n\n", 1)
    if summary.get("title"):      # whole: a page may wrap or shorten it (the brief's title)
        head += f"\nTitle: {summary['title']}"
    Path(path).write_text(f"{head}\n\n{_run_settings_text(summary)}{rest}", encoding="utf-8")


def routes_feature_collection(routes, step_s=ROUTE_EXPORT_STEP_S, extra_features=(), scenario_name="", overrides=()):
    """GeoJSON FeatureCollection (RFC 7946, lon/lat) of the nominal routes' ground tracks (``overrides``:
    the run's ``--set`` texts, recorded beside the scenario's name)."""
    features = []
    for r in routes:
        idx = np.unique(np.concatenate([np.arange(0, len(r.t_s), max(int(step_s / r.step_s), 1)),
                                        [len(r.t_s) - 1]]))
        features.append({
            "type": "Feature",
            "geometry": {"type": "LineString",
                         "coordinates": [list(p) for p in zip(_round(r.lon_deg[idx]), _round(r.lat_deg[idx]))]},
            "properties": {
                "kind": "route",
                "name": r.name,
                "weight": r.weight,
                "length_km": round(r.length_m / 1000.0, 1),
                "duration_min": round(r.duration_s / 60.0, 1),
                "cruise_altitude_m": round(r.cruise_altitude_m, 1),
                "cruise_altitude_agl_m": None if r.cruise_agl_m is None else round(r.cruise_agl_m, 1),
                **({} if r.clearance_min_m is None else {
                    "clearance_min_m": round(r.clearance_min_m, 1), "clearance_mean_m": round(r.clearance_mean_m, 1)}),
                "cross_track_sigma_km": round(r.cross_track_sigma_m / 1000.0, 3),
                "sample_step_s": step_s,
                "altitude_m": _round(r.alt_m[idx], 1),
                "time_s": _round(r.t_s[idx], 1),
            },
        })
    features.extend(extra_features)
    return feature_collection(features, scenario_name, overrides)


def _platform_geometry(p):
    """A fixed site as a Point; an orbit as the LineString of its closed loop."""
    if isinstance(p, Orbit) and p.period_s > 0:
        lat = np.append(p.waypoint_lat_deg, p.waypoint_lat_deg[0])
        lon = np.append(p.waypoint_lon_deg, p.waypoint_lon_deg[0])
        return {"type": "LineString", "coordinates": [list(q) for q in zip(_round(lon), _round(lat))]}
    lat, lon = p.loop_lat_lon()
    return {"type": "Point", "coordinates": [round(float(lon[0]), 5), round(float(lat[0]), 5)]}


def radar_features(radars):
    """GeoJSON features of the radars: a Point per fixed site, the loop (LineString) of an orbit."""
    return [{
        "type": "Feature",
        "geometry": _platform_geometry(r.platform),
        "properties": {"kind": "radar", "name": r.name, "radar_kind": r.kind.name,
                       "platform": "orbit" if isinstance(r.platform, Orbit) else "fixed site",
                       "range_km": round(r.range_m / 1000.0, 1),
                       "antenna_alt_m": round(r.antenna_alt_m, 1),
                       **({"speed_kmh": round(r.platform.speed_mps / KMH_MPS, 1)} if isinstance(r.platform, Orbit) else {}),
                       "scan_period_s": r.scan_period_s, "availability": r.availability},
    } for r in radars]
