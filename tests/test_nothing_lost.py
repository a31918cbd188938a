"""Nothing lost (issue 22): an output folder is one run's, a failed, stopped or second run removes nothing
it did not write, every stop signal cleans up, the brief's key numbers survive any name, and bad inputs
(a pipe, /dev/zero, a symlink loop, a seed of 2^64, an HTTP port as --dask) exit 2 with one line at once.

The concurrent and signal cases run the real command line in subprocesses (small runs, terrain off).
"""
import hashlib
import http.server
import json
import os
import resource
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from conftest import ROOT, SCENARIOS

BASE = SCENARIOS / "iraq_2012_baseline.toml"
SMALL = ["--flights", "3", "--set", "detection.terrain=false", "-q"]
#: The command line in a fresh interpreter (no console script needed).
CLI = [sys.executable, "-c", "import sys; from sim.cli import main; sys.exit(main())"]


def _start(command, out, *extra, campaigns=5, scenario=BASE, fsize_bytes=None, blocked=()):
    """``airpicture COMMAND`` in a subprocess; ``fsize_bytes``: no file it writes may grow past that (a
    real write failure, EFBIG, in the middle of the run); ``blocked``: signals it starts with blocked (a
    mask inherited from the process that started it)."""
    def limit():
        if fsize_bytes:
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)       # a failed write, not a killed process
            resource.setrlimit(resource.RLIMIT_FSIZE, (fsize_bytes, fsize_bytes))
        if blocked:
            signal.pthread_sigmask(signal.SIG_BLOCK, blocked)
    return subprocess.Popen([*CLI, command, str(scenario), "--campaigns", str(campaigns), *SMALL,
                             "--out", str(out), *extra], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, preexec_fn=limit if fsize_bytes or blocked else None)


def _finish(p, timeout_s=120):
    out, err = p.communicate(timeout=timeout_s)
    return p.returncode, out, err


def _hidden(parent):
    """What runs keep beside their output folders while they work (staging, swapped-out, locks)."""
    return sorted(e.name for e in Path(parent).iterdir() if e.name.startswith(".") and "airpicture" in e.name)


def _wait_for_stage(parent, p, timeout_s=60):
    """Wait until process ``p`` has made its staging folder in ``parent`` (it is then writing)."""
    t0 = time.monotonic()
    tag = f"-{p.pid}-"
    while not any(e.name.startswith(".airpicture-stage-") and tag in e.name for e in Path(parent).iterdir()):
        assert p.poll() is None, f"ended before staging: {p.communicate()}"
        assert time.monotonic() - t0 < timeout_s, "no staging folder"
        time.sleep(0.05)


def _snapshot(folder):
    """Every file of a folder with its SHA-256 (byte-identical check)."""
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(Path(folder).iterdir())}


def _one_line(err):
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


# --- two processes, one folder ------------------------------------------------------------------
@pytest.mark.slow
def test_failing_or_stopped_brief_never_removes_a_finished_run_in_either_order(tmp_path, run_cli):
    # the second process of each pair runs in this one (run_cli): a process of its own all the same
    shared = tmp_path / "shared"
    code, _, err = run_cli("run", BASE, "--campaigns", 5, *SMALL, "--out", shared, "--seed", 1)
    assert code == 0, err
    first = _snapshot(shared)
    assert set(first) == {"README.txt", "flights.csv", "routes.geojson", "summary.json"}

    # a brief writing into the folder (mid-run), then a run into the same folder: refused at once, one line;
    # then the brief is interrupted (Ctrl-C): the finished run's files are byte-identical, nothing is left
    brief = _start("brief", shared)
    _wait_for_stage(tmp_path, brief)
    code, _, err = run_cli("run", BASE, "--campaigns", 5, *SMALL, "--out", shared, "--seed", 2)
    assert code == 2 and "another run is writing it" in _one_line(err) and f"process {brief.pid}" in err
    assert brief.poll() is None, "the brief ended before the second run was refused: the case was not tested"
    brief.send_signal(signal.SIGINT)
    code, _, err = _finish(brief)
    assert code == 130 and _one_line(err) == "airpicture: interrupted"
    assert _snapshot(shared) == first and _hidden(tmp_path) == []

    # the other order: a run writing (seconds: exact geometry), a brief into the same folder refused; the
    # run's files then land whole
    run = _start("run", shared, "--seed", "2", "--exact", campaigns=6000)
    _wait_for_stage(tmp_path, run)
    code, _, err = run_cli("brief", BASE, "--campaigns", 5, *SMALL, "--out", shared)
    assert code == 2 and "another run is writing it" in _one_line(err) and f"process {run.pid}" in err
    assert run.poll() is None, "the run ended before the brief was refused: the case was not tested"
    code, _, err = _finish(run)
    assert code == 0, err
    second = _snapshot(shared)
    assert second != first and _hidden(tmp_path) == []
    assert json.loads((shared / "summary.json").read_text())["seed"] == 2

    # then briefs into it that fail: a real write failure mid-run (file size limit: EFBIG), and SIGTERM
    code, _, err = _finish(_start("brief", shared, campaigns=2000, fsize_bytes=200_000))   # flights.csv: 600 kB
    assert code == 1 and "File too large" in _one_line(err)
    assert _snapshot(shared) == second and _hidden(tmp_path) == []
    brief = _start("brief", shared)
    _wait_for_stage(tmp_path, brief)
    time.sleep(0.3)
    brief.send_signal(signal.SIGTERM)
    code, _, err = _finish(brief)
    assert code == 143 and _one_line(err) == "airpicture: stopped by SIGTERM"
    assert _snapshot(shared) == second and _hidden(tmp_path) == []


def test_a_run_replaces_an_output_folder_as_a_whole_and_refuses_a_folder_of_other_files(run_cli, tmp_path):
    out = tmp_path / "o"
    base = ["run", BASE, "--campaigns", 3, *SMALL, "--out", out]
    assert run_cli(*base)[0] == 0
    (out / "brief.pdf").write_bytes(b"%PDF- a previous brief's")      # an earlier brief's product
    code, _, err = run_cli(*base, "--seed", 5)
    assert code == 0, err
    # exactly the new run's files: the earlier brief's PDF is gone, the summary is the new seed's
    assert sorted(p.name for p in out.iterdir()) == ["README.txt", "flights.csv", "routes.geojson", "summary.json"]
    assert json.loads((out / "summary.json").read_text())["seed"] == 5
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "thesis.tex").write_text("not airpicture's")
    code, _, err = run_cli("run", BASE, "--campaigns", 3, *SMALL, "--out", mine)
    assert code == 2 and "not an airpicture output folder" in _one_line(err) and "--out" in err
    assert [p.name for p in mine.iterdir()] == ["thesis.tex"] and _hidden(tmp_path) == []


# --- signals ------------------------------------------------------------------------------------
def _children(pid):
    import psutil     # comes with the dask extra (a test dependency)
    try:
        return [c.pid for c in psutil.Process(pid).children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def _gone(pids, timeout_s=15):
    import psutil
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout_s:
        alive = [p for p in pids if psutil.pid_exists(p) and psutil.Process(p).status() != psutil.STATUS_ZOMBIE]
        if not alive:
            return True
        time.sleep(0.2)
    return False


@pytest.mark.parametrize("command, extra, campaigns, sig", [
    ("run", (), 300000, signal.SIGTERM),      # 900,000 flights in this process: seconds with the compiled walk
    ("run", (), 300000, signal.SIGHUP),
    ("brief", (), 5, signal.SIGHUP),
    ("run", ("--dask", "local", "--chunk", "50"), 20000, signal.SIGTERM),
    ("run", ("--dask", "local", "--chunk", "50"), 20000, signal.SIGHUP),
    ("run", ("--workers", "2", "--chunk", "50"), 20000, signal.SIGTERM),
    ("run", ("--workers", "2", "--chunk", "50"), 20000, signal.SIGINT),
])
def test_sigterm_and_sighup_clean_up_and_exit_128_plus_n(tmp_path, command, extra, campaigns, sig):
    if "--dask" in extra:
        pytest.importorskip("distributed")
    p = _start(command, tmp_path / "o", *extra, campaigns=campaigns)
    _wait_for_stage(tmp_path, p)
    if extra:     # a Dask run or worker processes: wait until the workers are up, then stop it
        # (worker processes: the resource tracker, the fork server and its two workers)
        t0 = time.monotonic()
        want = 4 if "--workers" in extra else 2
        while len(_children(p.pid)) < want and time.monotonic() - t0 < 30 and p.poll() is None:
            time.sleep(0.1)
        time.sleep(0.2)
    else:
        time.sleep(0.3)
    workers = _children(p.pid)
    assert p.poll() is None, "ended before the signal: the case was not tested"
    p.send_signal(sig)
    code, _, err = _finish(p)
    assert code == 128 + sig
    assert _one_line(err) == ("airpicture: interrupted" if sig == signal.SIGINT else
                              f"airpicture: stopped by {signal.Signals(sig).name}")
    assert not (tmp_path / "o").exists() and _hidden(tmp_path) == []
    if extra:
        assert workers and _gone(workers), "workers left running"


def test_a_command_started_with_the_stop_signals_blocked_still_stops(tmp_path):
    # a signal mask inherited from the process that started the command (here SIGTERM and SIGHUP blocked, as
    # a thread that had them blocked passes them on) must not keep the signal waiting until the command has
    # finished and written its outputs: the command unblocks the signals it handles
    for sig in (signal.SIGHUP, signal.SIGTERM):
        out = tmp_path / signal.Signals(sig).name
        out.mkdir()
        p = _start("brief", out / "o", campaigns=5, blocked={signal.SIGHUP, signal.SIGTERM})
        _wait_for_stage(out, p)
        time.sleep(0.3)
        assert p.poll() is None, "ended before the signal: the case was not tested"
        p.send_signal(sig)
        code, _, err = _finish(p)
        assert code == 128 + sig and _one_line(err) == f"airpicture: stopped by {signal.Signals(sig).name}"
        assert not (out / "o").exists() and _hidden(out) == []


def test_a_stop_dropped_in_a_callback_from_c_is_acted_on_again():
    # a signal handled while Python runs a callback from C code (llvmlite calls one while numba loads compiled
    # code) raises there, and ctypes prints and drops the exception: the command must still stop (the signal
    # is sent again), not finish with exit 0 (seen once in 40 briefs stopped 0.05 to 1 s after staging)
    import ctypes
    from sim.cli.common import Stopped, stop_on_signals

    def callback():
        os.kill(os.getpid(), signal.SIGTERM)
        for _ in range(10_000):          # the handler runs in here: its Stopped is dropped by ctypes
            pass

    from_c = ctypes.CFUNCTYPE(None)(callback)
    before = signal.getsignal(signal.SIGTERM), sys.unraisablehook
    with pytest.raises(Stopped) as stopped:
        with stop_on_signals():
            from_c()
            time.sleep(5)               # the signal again, a moment later, acted on here
    assert stopped.value.signum == signal.SIGTERM
    assert (signal.getsignal(signal.SIGTERM), sys.unraisablehook) == before       # both given back


def test_a_stop_wrapped_in_a_library_error_still_exits_as_a_stop(capsys):
    # an error a library raises from (or while handling) the stop's exception is the stop: 128 + N, one line
    from argparse import Namespace

    from sim.cli.common import Stopped, run_command

    def command(_args):
        try:
            raise Stopped(signal.SIGHUP)
        except BaseException as e:
            raise RuntimeError("compilation failed") from e

    assert run_command(Namespace(func=command)) == 128 + signal.SIGHUP
    assert capsys.readouterr().err.strip() == "airpicture: stopped by SIGHUP"


def test_a_later_run_removes_what_a_killed_run_left_and_says_so(tmp_path):
    killed = _start("run", tmp_path / "a", campaigns=300000)
    _wait_for_stage(tmp_path, killed)
    killed.kill()       # SIGKILL: no clean-up is possible
    killed.communicate(timeout=30)
    left = _hidden(tmp_path)
    assert any(n.startswith(".airpicture-stage-") and f"-{killed.pid}-" in n for n in left)
    code, _, err = _finish(_start("run", tmp_path / "b"))
    assert code == 0
    line = _one_line(err)
    assert line.startswith("airpicture: removed what stopped runs left in") and f"process {killed.pid}" in line
    assert _hidden(tmp_path) == [] and (tmp_path / "b" / "summary.json").exists()
    assert not (tmp_path / "a").exists()


# --- bounded inputs -----------------------------------------------------------------------------
@pytest.fixture
def http_port():
    """A plain HTTP server on the loopback (not a Dask scheduler)."""
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):      # not on the test's stderr
            pass
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def _within(seconds, fn, *args):
    """``fn(*args)`` in a thread, given ``seconds``: a call that hangs fails the test instead of the suite."""
    result = []
    worker = threading.Thread(target=lambda: result.append(fn(*args)), daemon=True)
    t0 = time.monotonic()
    worker.start()
    worker.join(seconds)
    assert result, f"no answer within {seconds} s"
    return result[0], time.monotonic() - t0


@pytest.mark.slow
def test_a_pipe_dev_zero_an_http_port_as_dask_exit_2_with_one_line_in_under_10_s(tmp_path, http_port, run_cli):
    fifo = tmp_path / "fifo.toml"
    os.mkfifo(fifo)
    cases = {"pipe": ["validate", fifo], "dev/zero": ["validate", "/dev/zero"],
             "http as dask": ["run", BASE, "--campaigns", 3, *SMALL, "--out", tmp_path / "o",
                              "--dask", f"tcp://127.0.0.1:{http_port}"]}
    for name, args in cases.items():
        (code, _, err), took = _within(30.0, run_cli, *args)
        assert code == 2 and took < 10.0, (name, took, err)
        assert _one_line(err).startswith("airpicture: error:"), err
    assert "no Dask scheduler answered within" in err and "--dask" in err
    assert not (tmp_path / "o").exists() and _hidden(tmp_path) == []


def test_a_symlink_loop_and_seeds_beyond_2_63_exit_2_with_one_line(run_cli, tmp_path, write_scenario):
    (tmp_path / "a.toml").symlink_to(tmp_path / "b.toml")
    (tmp_path / "b.toml").symlink_to(tmp_path / "a.toml")
    code, _, err = run_cli("validate", tmp_path / "a.toml")
    assert code == 2 and "a.toml" in _one_line(err)
    text = BASE.read_text(encoding="utf-8")
    assert "seed = 2012" in text
    big = write_scenario(text.replace("seed = 2012", f"seed = {2**64}"), name="big.toml")
    for args in (["run", BASE, "--seed", 2**64], ["validate", BASE, "--set", f"run.seed={2**64}"],
                 ["validate", big], ["validate", BASE, "--set", f"run.seed={2**63}"]):
        t0 = time.monotonic()
        code, _, err = run_cli(*args)
        assert code == 2 and "seed" in _one_line(err) and time.monotonic() - t0 < 10.0, err
    # 2^63 - 1 is a seed (compared exactly, not through a float)
    from sim.scenario import load_scenario
    assert load_scenario(BASE, [f"run.seed={2**63 - 1}"]).run.seed == 2**63 - 1


# --- names are shown, never run ------------------------------------------------------------------
@pytest.mark.parametrize("value", ["Kirkuk\nPSR", "a\x1bc", "clear\x1b[2J", "x\x9by", "bidi\u202etxt.exe",
                                   "iso\u2066late", "del\x7f", "line\u2028sep"])
def test_control_escape_and_bidi_characters_in_names_are_refused_with_one_line(run_cli, value):
    code, out, err = run_cli("validate", BASE, "--set", f"radar[Kirkuk PSR].name={json.dumps(value)}")
    line = _one_line(err)
    # the message names the first refused character by its code point (control, line separator, format)
    first = next(c for c in value if not c.isprintable())
    assert code == 2 and "radar[" in line and ".name: holds the " in line and f"U+{ord(first):04X}" in line
    assert not any(c in line for c in value if not c.isprintable() or c in "\x1b\x7f") and out == ""
    code, _, err = run_cli("validate", BASE, "--set", f"scenario.title={json.dumps(value)}")
    assert code == 2 and "scenario.title" in _one_line(err)


def test_an_error_message_escapes_the_name_it_quotes(run_cli):
    # a --set selecting a radar by a name holding ESC: the message quotes it escaped, on one line
    code, _, err = run_cli("validate", BASE, "--set", "radar[No\x1bsuch\nradar].pd=1")
    assert code == 2 and "\x1b" not in err and "\\x1b" in _one_line(err)


# --- arithmetic that cannot overflow --------------------------------------------------------------
def test_route_weights_are_bounded_so_their_sum_stays_finite(run_cli):
    code, _, err = run_cli("validate", BASE, "--set", "route[0].weight=1e308", "--set", "route[1].weight=1e308")
    assert code == 2 and "weight: must be <= 1e+06" in _one_line(err)
    code, _, err = run_cli("validate", BASE, "--set", "route[0].weight=1" + "0" * 400)
    assert code == 2 and "weight" in _one_line(err)
    # at the bound, the shares are the weights' ratio: 1e6 : 1e6 -> one half each (no overflow)
    from sim.montecarlo import prepare
    from sim.scenario import load_scenario
    sc = load_scenario(BASE, ["detection.terrain=false", "route[0].weight=1e6", "route[1].weight=1e6"])
    assert list(prepare(sc, with_fences=False).route_p) == [0.5, 0.5]


# --- the brief lays out any name -------------------------------------------------------------------
#: Radar names of 30, 60 and 200 characters (the first is the issue's realistic one). A scenario's names are at
#: most NAME_MAX_CHARS (80) long; the brief lays out longer ones too (a summary from elsewhere, the API).
LONG_NAMES = {"Ali long-range": "Sulaymaniyah Intl SSR (Mode S)",
              "Erbil SSR": "Erbil International Airport Secondary Surveillance Radar (MSSR)"[:60]}
NAME_200 = ("Basra International Airport long range primary and secondary radar " * 4)[:200]


def _table_rows(textpage, left, right, top, bottom):
    """The rows of a table region of a PDF page read back from its text layer, top to bottom:
    ``[(label, value, value_chars)]`` (chars as ``(l, b, r, t, text, index)``), spaces dropped, a label's
    second line (indented, no value) joined to it. Read character by character: a value is drawn in
    another style than its label (bold, or black beside a grey label), so a row's value is its trailing
    run of characters in the style of its last one, when the row starts in another style."""
    import ctypes

    import pypdfium2.raw as pdfium_c

    def style(i):
        rgba = [ctypes.c_uint() for _ in range(4)]
        pdfium_c.FPDFText_GetFillColor(textpage.raw, i, *(ctypes.byref(c) for c in rgba))
        buf = ctypes.create_string_buffer(256)
        flags = ctypes.c_int()
        pdfium_c.FPDFText_GetFontInfo(textpage.raw, i, ctypes.cast(buf, ctypes.c_void_p), 256, ctypes.byref(flags))
        return buf.value, tuple(c.value for c in rgba[:3])

    chars = []
    for i in range(textpage.count_chars()):
        ch = textpage.get_text_range(i, 1)
        if not ch.strip():
            continue
        l, b, r, t = textpage.get_charbox(i, loose=True)
        if l >= left - 1 and r <= right + 1 and b >= bottom and t <= top:
            chars.append((l, b, r, t, ch, style(i), i))
    rows = []
    for c in sorted(chars, key=lambda q: -(q[1] + q[3])):
        yc = (c[1] + c[3]) / 2
        if rows and abs(rows[-1][0] - yc) < 2.0:
            rows[-1][1].append(c)
        else:
            rows.append((yc, [c]))
    out, above = [], None          # above: where the label of the row above starts, and its colour
    for _, cs in rows:
        cs.sort(key=lambda q: q[0])
        # a label too wide for its row goes on in a line of its own under it, indented (issue 28: wrapped,
        # not cut): a line in the colour of the label above, starting right of it, continues that label
        if out and above is not None and cs[0][0] > above[0] + 1.0 and all(q[5][1] == above[1] for q in cs):
            out[-1] = (out[-1][0] + "".join(q[4] for q in cs), out[-1][1], out[-1][2])
            continue
        split = len(cs)
        while split > 0 and cs[split - 1][5] == cs[-1][5]:
            split -= 1
        if split == 0:                  # one style throughout: a label alone
            split = len(cs)
        label, value = cs[:split], cs[split:]
        above = (label[0][0], label[0][5][1])
        out.append(("".join(q[4] for q in label), "".join(q[4] for q in value), [(*q[:5], q[6]) for q in value]))
    return out


def _is_shortened(label, name):
    """``label`` (spaces dropped) is ``name`` whole, or its start and end around one "…"."""
    name = name.replace(" ", "")
    if label == name:
        return True
    head, sep, tail = label.partition("…")
    return bool(sep) and name.startswith(head) and name.endswith(tail) and len(head) + len(tail) >= 6


def test_brief_key_numbers_read_back_whole_from_the_pdf_for_names_of_30_60_and_200_characters(tmp_path):
    import pypdfium2 as pdfium
    import pypdfium2.raw as pdfium_c
    from sim.pipeline import load, simulate
    from sim.products.brief import brief_figure, map_layers
    from sim.products.charts import detections_per_campaign
    from sim.products.export import write_json
    from sim.products.style import save_figure, use_style
    from sim.results import summarize

    assert sorted(len(n) for n in [*LONG_NAMES.values(), NAME_200]) == [30, 60, 200]
    sc = load(BASE, ["detection.terrain=false", *(f"radar[{k}].name={v}" for k, v in LONG_NAMES.items())])
    sim, result = simulate(sc, campaigns=5, flights=3)
    summary = summarize(sim, result)
    summary["radars"] = {NAME_200 if k == "Basra SSR" else k: v for k, v in summary["radars"].items()}
    assert NAME_200 in summary["radars"]
    write_json(tmp_path / "summary.json", summary)
    summary = json.loads((tmp_path / "summary.json").read_text())       # the values as summary.json has them
    with use_style():
        fig = brief_figure(map_layers(sim, result), detections_per_campaign(result), [], summary, sim, "2012-03-01")
        save_figure(fig, tmp_path / "brief.pdf")
    page = pdfium.PdfDocument(tmp_path / "brief.pdf")[0]
    tp = page.get_textpage()

    def box(text):
        found = [tp.get_rect(i) for i in range(tp.count_rects())
                 if tp.get_text_bounded(*tp.get_rect(i)).strip() == text]
        assert len(found) == 1, text
        return found[0]
    key, assumptions = box("Key numbers"), box("Assumptions that drive them")
    rows = _table_rows(tp, key[0], assumptions[0] - 2.0, key[1], 30.0)
    labels = [r[0] for r in rows]
    values = dict((r[0], r[1]) for r in rows)      # by label, spaces dropped
    # the brief's formats: three decimals for probabilities, "lo-hi" for an interval (sim.results.format_ci)
    lo, hi = summary["p_detect_ci95"]
    d = summary["detected_per_campaign"]
    assert values["P(detect)perflight"] == f"{summary['p_detect']:.3f}"
    assert values["95%CI"] == f"{lo:.3f}-{hi:.3f}"
    assert values["Detected,mean"] == f"{d['mean']:.2f}of{summary['flights_per_campaign']}"
    assert values["p05/p50/p95"] == f"{d['p05']:.0f}/{d['p50']:.0f}/{d['p95']:.0f}"
    if "response" in summary:
        assert values["P(stopped)"] == f"{summary['response']['p_stopped']:.3f}"
    first = labels.index("P(track)byradar") + 1
    radars = list(summary["radars"].items())
    for (label, value, _), (name, r) in zip(rows[first:first + len(radars)], radars):
        assert _is_shortened(label, name), (label, name)
        assert value == f"{r['p_detect']:.3f}", (name, value)
    # the values keep their size (every one as large as the first) and stay left of the next table
    size = None
    for _label, value, pieces in rows:
        for _left, _bottom, r, _top, _text, index in pieces:
            assert r <= assumptions[0]
            s = pdfium_c.FPDFText_GetFontSize(tp.raw, index)
            size = s if size is None else size
            assert s == pytest.approx(size) and s >= 5.0, (value, s)
    assert size is not None
