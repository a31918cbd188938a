"""A cache that proves what it serves: nothing a cache folder holds runs code or changes an answer.

The probes of issue 26: a forged part (an old-format pickle with a valid SHA-256, or a file authenticated
by another user's secret) is refused and recomputed and runs nothing; two sound parts swapped give the
answer of no cache at all; a read-only folder with a corrupt part and a full file system (a real 256 kB
tmpfs where this test may mount one, else a fault injected at the write) give the same answer and leave
no temporary file; the secret is the user's, made 0600, outside the folder.
"""
import errno
import hashlib
import io
import json
import os
import pickle
import stat
import subprocess
import sys

import numpy as np
import pytest

from conftest import ROOT, SCENARIOS
from geo.terrain import load_terrain
from sim.montecarlo import prepare, run
from sim.prepcache import PrepCache, cache_secret, decode_part, encode_part
from sim.results import flight_csv_text, summarize
from sim.scenario import load_scenario

TERRAIN = load_terrain()
SC = load_scenario(SCENARIOS / "iraq_2012_baseline.toml", ["detection.terrain=false"])
SECRET = bytes(range(32))


def _outputs(sim):
    res = run(sim, campaigns=40)
    return json.dumps(summarize(sim, res), sort_keys=True), flight_csv_text(sim, res)


@pytest.fixture(scope="module")
def reference():
    return _outputs(prepare(SC, TERRAIN))                 # no cache at all


@pytest.fixture
def filled(tmp_path):
    """A folder of this test's own parts, written under SECRET."""
    prepare(SC, TERRAIN, PrepCache(tmp_path, secret=SECRET))
    return tmp_path


def _computed(cache):
    return {k: v for k, v in cache.stats["computed"].items() if v}


class _Marker:
    """A pickle that, when loaded, creates a file: what a forged cache file would run."""
    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (os.system, (f"touch {self.path}",))


def test_a_forged_pickle_with_a_valid_checksum_runs_nothing_and_is_recomputed(filled, tmp_path_factory, reference):
    marker = tmp_path_factory.mktemp("m") / "ran"
    payload = pickle.dumps(_Marker(marker))
    forged = b"airpicture-part-1\n" + hashlib.sha256(payload).hexdigest().encode() + b"\n" + payload
    # the same bytes after a new-format header too: whatever the reader, no byte of the file is unpickled
    files = sorted(filled.glob("detection-*.part"))
    files[0].write_bytes(forged)
    files[1].write_bytes(files[1].read_bytes()[:32 + 18] + payload)
    said = []
    c = PrepCache(filled, secret=SECRET, warn=said.append)
    sim = prepare(SC, TERRAIN, c)
    assert not marker.exists()
    assert _computed(c) == {"detection": 2} and len(said) == 1
    assert _outputs(sim) == reference
    assert all(p.read_bytes() != forged for p in filled.glob("*.part"))      # replaced by sound parts


def test_a_part_written_with_another_users_secret_is_refused(filled, reference):
    said = []
    c = PrepCache(filled, secret=bytes(32), warn=said.append)              # another user's secret
    sim = prepare(SC, TERRAIN, c)
    assert not c.stats["disk"] and _computed(c)["detection"] > 0
    assert len(said) == 1 and "not authenticated" in said[0]
    assert _outputs(sim) == reference


def test_two_swapped_sound_parts_give_the_answer_of_no_cache(filled, reference):
    for kind in ("detection", "masking", "coverage", "airspace"):
        files = sorted(filled.glob(f"{kind}-*.part"))
        if len(files) < 2:
            continue
        a, b = files[0].read_bytes(), files[1].read_bytes()
        files[0].write_bytes(b)                          # each a sound part, authenticated, under the other's name
        files[1].write_bytes(a)
    said = []
    c = PrepCache(filled, secret=SECRET, warn=said.append)
    sim = prepare(SC, TERRAIN, c)
    assert _computed(c) == {"detection": 2, "coverage": 2, "airspace": 2}
    assert "holds the part" in said[0]
    assert _outputs(sim) == reference


@pytest.mark.slow
def test_the_swapped_cache_probe_on_the_command_line(tmp_path):
    # issue 26's probe: `airpicture run iraq_2012_baseline --campaigns 200` after swapping two sound detection
    # files gave 170 flights.csv rows different from --no-cache; now byte-identical, and exit 0
    folder = tmp_path / "cache"
    args = [sys.executable, "-m", "sim.cli", "run", "iraq_2012_baseline", "--campaigns", "200", "-q"]
    env = dict(os.environ, AIRPICTURE_CACHE_KEY_FILE=str(tmp_path / "key"))
    subprocess.run([*args, "--out", str(tmp_path / "warm"), "--cache-dir", str(folder)], check=True, env=env,
                   cwd=ROOT, timeout=300)
    files = sorted(folder.glob("detection-*.part"))
    a, b = files[0].read_bytes(), files[1].read_bytes()
    files[0].write_bytes(b)
    files[1].write_bytes(a)
    got = subprocess.run([*args, "--out", str(tmp_path / "swapped"), "--cache-dir", str(folder)], env=env,
                         cwd=ROOT, timeout=300, capture_output=True, text=True)
    subprocess.run([*args, "--out", str(tmp_path / "none"), "--no-cache"], check=True, env=env, cwd=ROOT,
                   timeout=300)
    assert got.returncode == 0
    assert [ln for ln in got.stderr.splitlines() if "cache" in ln] == got.stderr.splitlines()
    assert len(got.stderr.splitlines()) == 1 and got.stderr.startswith("airpicture: warning: cache: ")
    for name in ("flights.csv", "summary.json"):
        assert (tmp_path / "swapped" / name).read_bytes() == (tmp_path / "none" / name).read_bytes()


def test_a_read_only_cache_with_a_corrupt_part_still_runs(filled, reference, monkeypatch):
    # a read-only file system: every write and removal fails with EROFS (injected: the tests run as root,
    # who may write through file modes)
    files = sorted(filled.glob("detection-*.part"))
    files[0].write_bytes(files[0].read_bytes()[:-7])
    before = sorted((p.name, p.read_bytes()) for p in filled.iterdir())

    def refuse(*args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system")
    real_open = open

    def read_only_open(path, mode="r", *args, **kwargs):
        if any(m in mode for m in "wax+"):
            refuse()
        return real_open(path, mode, *args, **kwargs)
    monkeypatch.setattr("builtins.open", read_only_open)
    for name in ("unlink", "replace", "utime", "mkdir"):
        monkeypatch.setattr(os, name, refuse)
    said = []
    c = PrepCache(filled, secret=SECRET, warn=said.append)
    sim = prepare(SC, TERRAIN, c)
    monkeypatch.undo()
    assert _computed(c) == {"detection": 1} and len(said) == 1
    assert _outputs(sim) == reference
    assert sorted((p.name, p.read_bytes()) for p in filled.iterdir()) == before     # nothing written or removed


def _full_disk_run(folder, reference):
    said = []
    c = PrepCache(folder, secret=SECRET, warn=said.append)
    sim = prepare(SC, TERRAIN, c)
    assert _outputs(sim) == reference
    assert len(said) == 1 and "No space left" in said[0]
    assert not [p for p in folder.iterdir() if p.name.endswith(".tmp")]      # no temporary file left behind
    return c


def test_a_full_file_system_runs_in_memory_and_leaves_no_temporary_file(tmp_path, reference):
    mount = tmp_path / "small"
    mount.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mount)],
                      capture_output=True).returncode != 0:
        pytest.skip("no tmpfs can be mounted here (the fault-injected test below covers it)")
    try:
        _full_disk_run(mount, reference)
    finally:
        subprocess.run(["umount", str(mount)], check=True)


def test_a_write_that_fails_half_way_leaves_no_temporary_file(tmp_path, reference, monkeypatch):
    real_open = open

    class HalfWriter(io.FileIO):
        def write(self, b):
            super().write(bytes(b)[: len(b) // 2])
            raise OSError(errno.ENOSPC, "No space left on device")

    def full_open(path, mode="r", *args, **kwargs):
        if "w" in mode and str(path).endswith(".tmp"):
            return HalfWriter(path, "w")
        return real_open(path, mode, *args, **kwargs)
    monkeypatch.setattr("builtins.open", full_open)
    c = _full_disk_run(tmp_path, reference)
    assert sum(c.stats["computed"].values()) > 0 and not list(tmp_path.glob("*.part"))


def test_the_secret_is_the_users_own_and_never_inside_the_cache(tmp_path):
    key = tmp_path / "config" / "airpicture" / "cache-key"
    secret = cache_secret(key)
    assert len(secret) == 32 and stat.S_IMODE(key.stat().st_mode) == 0o600
    assert stat.S_IMODE(key.parent.stat().st_mode) == 0o700
    assert cache_secret(key) == secret                                      # made once, then read
    assert cache_secret(tmp_path / "other") != secret                       # random per user
    with pytest.raises(OSError, match="inside the cache folder"):
        cache_secret(tmp_path / "cache" / "key", folder=tmp_path / "cache")
    key.chmod(0o666)
    with pytest.raises(OSError, match="writable by every user"):
        cache_secret(key)
    said = []
    c = PrepCache(tmp_path / "cache", warn=said.append)                    # the default secret's file is bad
    mp = pytest.MonkeyPatch()
    mp.setenv("AIRPICTURE_CACHE_KEY_FILE", str(key))
    try:
        assert c.get("x", 1, lambda: np.arange(3)).tolist() == [0, 1, 2]    # computed, kept in memory
    finally:
        mp.undo()
    assert len(said) == 1 and "writable by every user" in said[0] and not (tmp_path / "cache").exists()


@pytest.mark.parametrize("value", [
    np.arange(6, dtype=np.float32).reshape(2, 3), np.float64(2.5), np.int64(-3), (1, 2.0, None, True, "é"),
    {"a": [np.zeros(0, bool)], 3: (float("nan"), float("inf"))}, 2**80, -0.0,
])
def test_a_part_reads_back_as_it_was_written(value):
    data = encode_part(value, SECRET, "k", "abc", "v1")
    back = decode_part(data, SECRET, "k", "abc", "v1")
    assert pickle.dumps(back) == pickle.dumps(value) or repr(back) == repr(value)
    assert type(back) is type(value)
    for kind, key, version in (("j", "abc", "v1"), ("k", "abd", "v1"), ("k", "abc", "v2")):
        with pytest.raises(ValueError, match="holds the part"):
            decode_part(data, SECRET, kind, key, version)


def test_every_prepared_part_reads_back_identical(tmp_path):
    # the parts of a shipped scenario (masking tables with terrain, detection tables, fence rows) round-trip
    c = PrepCache(tmp_path, secret=SECRET)
    sc = load_scenario(SCENARIOS / "iraq_2012_aew_orbit.toml")
    prepare(sc, TERRAIN, c)
    seen = set()
    for p in c.folder.glob("*.part"):
        kind, key = p.stem.rsplit("-", 1)
        value = decode_part(p.read_bytes(), SECRET, kind, key, c.version)
        seen.add(kind)
        assert _same(value, c._memory[key])
    assert {"masking", "detection", "coverage", "airspace"} <= seen


def _same(a, b):
    import dataclasses
    if isinstance(a, np.ndarray):
        return a.dtype == b.dtype and np.array_equal(a, b, equal_nan=True)
    if dataclasses.is_dataclass(a):
        return type(a) is type(b) and all(_same(getattr(a, f.name), getattr(b, f.name))
                                          for f in dataclasses.fields(a))
    return type(a) is type(b) and a == b


def test_no_pickle_anywhere_in_the_cache():
    text = (ROOT / "sim" / "prepcache.py").read_text()
    assert "import pickle" not in text and "allow_pickle=True" not in text
