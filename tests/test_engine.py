"""Worker processes of this machine (sim.engine.LocalProcesses): results whatever the sizes of tasks and
answers, errors raised in the owner, no worker left behind."""
import subprocess
import sys
import textwrap

from conftest import ROOT


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
