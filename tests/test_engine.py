"""Worker processes of this machine (sim.engine.LocalProcesses): results whatever the sizes of tasks and
answers, errors raised in the owner, no worker left behind."""
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from conftest import ROOT
from sim import engine


def _in_child(code, timeout_s=120):
    """Run ``code`` (with a __main__ guard, as worker processes need) in a fresh interpreter."""
    got = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=ROOT, capture_output=True, text=True,
                         timeout=timeout_s)
    return got.returncode, got.stdout, got.stderr


def test_large_tasks_and_answers_come_back_in_full_and_in_any_order():
    # tasks and answers far larger than a socket's buffer (4 MB each way, 40 of them on 2 workers): a
    # worker is sent its next task only once it has answered, so neither side waits on the other's send
    code, out, err = _in_child("""
        import numpy as np
        from sim.engine import LocalProcesses
        if __name__ == "__main__":
            shared = np.arange(500_000.0)
            with LocalProcesses(2) as eng:
                got = list(eng.map(np.add, shared, [(np.full(500_000, float(i)),) for i in range(40)]))
            firsts = sorted(float(a[0]) for a in got)
            ok = firsts == [float(i) for i in range(40)] and all(np.array_equal(a - a[0], shared) for a in got)
            print("ok" if ok else "wrong")
    """)
    assert code == 0 and out.strip() == "ok", err


def test_a_task_error_is_raised_in_the_owner_and_the_workers_stop():
    code, out, err = _in_child("""
        import psutil
        from sim.engine import LocalProcesses
        if __name__ == "__main__":
            eng = LocalProcesses(2)
            try:
                list(eng.map(divmod, 7, [(1,), (0,), (2,)]))
            except ZeroDivisionError as e:
                print("raised", type(e).__name__)
            eng.close()
            kids = [c for c in psutil.Process().children(recursive=True) if "forkserver" not in " ".join(c.cmdline())
                    and "resource_tracker" not in " ".join(c.cmdline())]
            print("workers left", len([k for k in kids if k.status() != psutil.STATUS_ZOMBIE]))
    """)
    assert code == 0, err
    assert out.split("\n")[:2] == ["raised ZeroDivisionError", "workers left 0"]


@pytest.mark.parametrize("memory_available", [True, False])
def test_worker_payload_rebuilds_the_object_with_or_without_shared_memory(monkeypatch, memory_available):
    # sim.engine._share: arrays once in shared memory, views of it in each worker; with no shared memory
    # to be had (a small /dev/shm), the object travels whole
    if not memory_available:
        def refuse(*a, **k):
            raise OSError("no space left on device")
        monkeypatch.setattr(engine.shared_memory, "SharedMemory", refuse)
    obj = {"a": np.arange(1000.0), "b": [np.ones((3, 4), np.float32), "text"], "c": 7}
    memory, payload = engine._share(obj)
    assert (memory is not None) == memory_available
    try:
        got, view = engine._rebuild(payload)
        assert np.array_equal(got["a"], obj["a"]) and got["b"][0].dtype == np.float32
        assert np.array_equal(got["b"][0], obj["b"][0]) and got["b"][1] == "text" and got["c"] == 7
        if memory_available:
            assert not got["a"].flags.owndata          # a view of the shared block, not a copy
            del got
            view.close()
    finally:
        if memory is not None:
            memory.close()
            memory.unlink()
