"""Engines: where the chunks of a Monte Carlo run.

Chunks of campaigns are independent tasks (one random stream per
campaign), so an engine may run them anywhere and in any order; the
results never change. :class:`InProcess` runs them here, in order;
:class:`LocalProcesses` on worker processes of this machine (every core);
:class:`DaskCluster` on a Dask cluster (a local one, or any scheduler
address: Kubernetes, HPC, cloud). Both send the prepared simulation to
each worker once.

>>> with make_engine(None) as engine:
...     list(engine.map(lambda sim, a, b: sim + a * b, 1, [(2, 3), (4, 5)]))
[7, 21]
"""
import contextlib
import ctypes
import ctypes.util
import logging
import multiprocessing
import multiprocessing.connection
import os
import pickle
import signal
import sys
from multiprocessing import resource_tracker, shared_memory

__all__ = ["InProcess", "LocalProcesses", "DaskCluster", "EngineUnavailable", "make_engine", "tune_malloc",
           "DASK_CONNECT_TIMEOUT_S", "AUTO_PROCESSES_MIN_FLIGHTS"]

#: glibc malloc thresholds set on Dask workers [bytes] (see :func:`tune_malloc`).
MALLOC_THRESHOLD_BYTES = 256 * 2**20
#: Flights from which the command line runs on every core by default (:class:`LocalProcesses`): below
#: it, starting the workers and sending each the prepared scenario costs about what they save.
AUTO_PROCESSES_MIN_FLIGHTS = 200_000
#: In-flight tasks per worker thread: enough to keep workers busy, few enough to bound memory.
TASKS_PER_THREAD = 4


def tune_malloc(threshold_bytes=MALLOC_THRESHOLD_BYTES):
    """Let glibc keep freed memory for reuse in this process (run on each Dask worker).

    Dask's nannies start workers with ``MALLOC_TRIM_THRESHOLD_=65536``,
    which also turns off glibc's adaptive mmap threshold: every array
    above 128 kB is then mmap-ed and unmapped again, and the core's many
    short-lived arrays spend most of their time in page faults (measured:
    tasks 2.8 times slower than in-process). Raising the trim and mmap
    thresholds restores in-process speed. Returns whether it applied (glibc only).
    """
    name = ctypes.util.find_library("c")
    if not name:
        return False
    libc = ctypes.CDLL(name)
    if not hasattr(libc, "mallopt"):
        return False
    m_trim_threshold, m_mmap_threshold = -1, -3
    return bool(libc.mallopt(m_trim_threshold, threshold_bytes)) and bool(libc.mallopt(m_mmap_threshold,
                                                                                          threshold_bytes))


class EngineUnavailable(RuntimeError):
    """The engine asked for cannot be used here (Dask is not installed, no scheduler answers at the address)."""


#: How long a Dask scheduler address may take to answer: connection and protocol handshake [s].
DASK_CONNECT_TIMEOUT_S = 5.0
#: How long closing the client, and then a local cluster, may take each [s].
DASK_CLOSE_TIMEOUT_S = 10.0


def _first_line(e):
    text = str(e).strip().splitlines()
    return text[0] if text else type(e).__name__


def _probe_scheduler(address, timeout_s):
    """Raise :class:`EngineUnavailable` unless a Dask scheduler at ``address`` completes the protocol's
    handshake within ``timeout_s`` (a refused port, a bad address, or a server of another protocol, such
    as HTTP, that never answers; Dask's own connect waits for a handshake without a limit)."""
    import asyncio
    import threading
    from distributed.comm import connect
    from distributed.security import Security

    outcome = []

    async def attempt():
        comm = await asyncio.wait_for(connect(address, timeout=timeout_s,
                                              **Security().get_connection_args("client")), timeout_s)
        await comm.close()

    def probe():
        try:
            asyncio.run(attempt())
            outcome.append(None)
        except BaseException as e:  # noqa: BLE001 - reported to the caller's thread
            outcome.append(e)

    worker = threading.Thread(target=probe, name="airpicture-dask-probe", daemon=True)
    worker.start()      # its own event loop: works under a running one (a notebook) too
    worker.join(timeout_s + 2.0)
    error = outcome[0] if outcome else TimeoutError()
    if error is None:
        return
    why = (f"no Dask scheduler answered within {timeout_s:g} s"
           if isinstance(error, (TimeoutError, asyncio.TimeoutError)) else
           f"no Dask scheduler reached ({_first_line(error)})")
    raise EngineUnavailable(f"--dask {address}: {why}; give a scheduler's address (tcp://HOST:8786) or 'local'")


class InProcess:
    """Run chunks in this process, in order."""

    def map(self, fn, sim, args):
        """``fn(sim, *a)`` for every ``a`` in ``args``, as an iterator."""
        for a in args:
            yield fn(sim, *a)

    def close(self):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _share(obj):
    """``(memory, payload)``: ``obj`` pickled with its large buffers (numpy arrays) out of band, copied once
    into one block of shared memory (None when there are none, or the system gives no such block: then
    they travel in the payload, pickled for each worker). A worker rebuilds it by :func:`_rebuild`
    from the payload, its arrays views of that block: nothing copied per worker."""
    buffers = []
    head = pickle.dumps(obj, protocol=5, buffer_callback=buffers.append)
    raw = [b.raw() for b in buffers]
    size = sum(r.nbytes for r in raw)
    if not size:
        return None, (head, None, [], None)
    try:
        memory = shared_memory.SharedMemory(create=True, size=size)
    except OSError:          # e.g. a small /dev/shm in a container
        return None, (None, None, [], obj)
    offsets, at = [], 0
    try:
        for r in raw:
            memory.buf[at:at + r.nbytes] = r.cast("B")
            offsets.append((at, r.nbytes))
            at += r.nbytes
    except BaseException:     # interrupted while copying: nobody else will free it
        memory.close()
        memory.unlink()
        raise
    return memory, (head, memory.name, offsets, None)


def _worker_main(conn, payload):
    """A :class:`LocalProcesses` worker: rebuild the shared object (:func:`_share`), then answer each task
    ``(fn, args)`` received on ``conn`` with ``(True, fn(shared, *args))`` or ``(False, error)``, until
    ``None`` or the owner is gone. Ctrl-C is left to the owner (which stops the workers), so that an
    interrupted run prints one line, not one traceback per worker."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        shared, memory = _rebuild(payload)
    except Exception as e:  # noqa: BLE001 - e.g. the owner stopped the run (and freed its memory) meanwhile
        with contextlib.suppress(Exception):
            conn.send((False, e))        # the answer to its first task, if anyone still asks
        return
    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):
            return
        if task is None:
            return
        fn, args = task
        try:
            answer = (True, fn(shared, *args))
        except Exception as e:  # noqa: BLE001 - the owner raises it
            answer = (False, e)
        try:
            conn.send(answer)
        except (BrokenPipeError, OSError):
            return
        except Exception as e:  # noqa: BLE001 - an error that cannot be pickled: its text
            conn.send((False, RuntimeError(f"{type(e).__name__}: {e}")))


def _rebuild(payload):
    """``(obj, memory)`` from a payload of :func:`_share`: the object, its arrays views of the shared
    memory ``memory`` (None when there is none; whoever made it unlinks it, the caller keeps it open)."""
    head, name, offsets, plain = payload
    if head is None:
        return plain, None
    memory = None if name is None else _attach(name)
    views = [] if memory is None else [memory.buf[a:a + n] for a, n in offsets]
    return pickle.loads(head, buffers=views), memory


def _attach(name):
    """The shared memory ``name`` made by another process, which owns it: opened without registering it
    with the resource tracker (before Python 3.13 every opening registers it, and a name registered by a
    worker after its owner unlinked it is reported as leaked when the tracker stops: CPython gh-82300)."""
    if sys.version_info >= (3, 13):
        return shared_memory.SharedMemory(name=name, track=False)
    register = resource_tracker.register
    resource_tracker.register = lambda *a, **k: None     # in this worker only, while it opens the block
    try:
        return shared_memory.SharedMemory(name=name)
    finally:
        resource_tracker.register = register


def _stopped_worker(run, conn):
    """What to say of a worker whose pipe broke (killed, e.g. by the system when memory ran out)."""
    proc = next(p for p, c in run["workers"] if c is conn)
    proc.join(1.0)
    return f"a worker process stopped (exit code {proc.exitcode})"


class LocalProcesses:
    """Run chunks on worker processes of this machine.

    Each :meth:`map` starts ``n_workers`` processes (default: one per core), shares the shared object
    with them (the prepared simulation: its arrays once, in shared memory, read in place by every
    worker), sends each worker its next task when it answers the last, and yields the results as they
    come. Workers come from a fork server that has already imported the core (POSIX; elsewhere they
    are spawned), so starting them costs little, and the server is started when the engine is made:
    it loads while the caller prepares its scenario. Each worker has a pipe of its own and nothing
    else (no threads, queues or locks shared with this process), so stopping them at any moment,
    on Ctrl-C or SIGTERM, is terminating them.
    """

    def __init__(self, n_workers=None):
        self.n_workers = max(1, int(n_workers or os.cpu_count() or 1))
        methods = multiprocessing.get_all_start_methods()
        self._ctx = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
        if self._ctx.get_start_method() == "forkserver":
            # imported once, by the server: the core, the compiled walk loaded (sim.walk_ready) and scipy.special
            # (the chunks' normal quantiles; 0.2 s to import, else paid by every worker's first chunk)
            self._ctx.set_forkserver_preload(["__main__", "sim.montecarlo", "sim.walk_ready", "scipy.special"])
            from multiprocessing import forkserver    # start the server now (it imports the core meanwhile)
            forkserver.ensure_running()
        self._runs = []

    def map(self, fn, shared, args):
        """``fn(shared, *a)`` for every ``a`` in ``args`` on the workers, yielded as they finish."""
        args = list(args)
        if not args:
            return
        run = {"workers": [], "memory": None}     # stopped by _stop (or close) whatever happens
        self._runs.append(run)
        try:
            run["memory"], payload = _share(shared)
            for _ in range(min(self.n_workers, len(args))):
                mine, theirs = self._ctx.Pipe()
                proc = self._ctx.Process(target=_worker_main, args=(theirs, payload), daemon=True,
                                         name="airpicture-worker")
                proc.start()
                theirs.close()
                run["workers"].append((proc, mine))
            # one task at a time per worker: a worker is sent its next task only once it has answered (it
            # is then waiting for it), so neither side ever waits to send while the other does too
            pending = iter(args)
            owed = dict.fromkeys((conn for _, conn in run["workers"]), 0)     # pipe -> tasks unanswered (0, 1)

            def give(conn):
                task = next(pending, None)
                if task is not None:
                    try:
                        conn.send((fn, task))
                    except OSError:
                        raise RuntimeError(_stopped_worker(run, conn)) from None
                    owed[conn] += 1

            for conn in owed:
                give(conn)
            while any(owed.values()):
                for conn in multiprocessing.connection.wait([c for c, n in owed.items() if n]):
                    try:
                        ok, value = conn.recv()
                    except (EOFError, OSError):
                        raise RuntimeError(_stopped_worker(run, conn)) from None
                    owed[conn] -= 1
                    if not ok:
                        raise value
                    give(conn)
                    yield value
        finally:
            self._stop(run)

    def _stop(self, run):
        """Stop a map's workers now (a worker still busy is terminated: its result is not wanted) and free
        its shared memory. Called when the map ends, and by :meth:`close` for a map left unfinished (an
        interrupted caller's generator may be collected only later)."""
        if run not in self._runs:
            return
        self._runs.remove(run)
        for proc, conn in run["workers"]:
            if proc.is_alive():
                proc.terminate()
            conn.close()
        for proc, _ in run["workers"]:
            proc.join(5.0)
        if run["memory"] is not None:
            run["memory"].close()
            run["memory"].unlink()

    def close(self):
        for run in list(self._runs):
            self._stop(run)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class DaskCluster:
    """Run chunks on a Dask cluster.

    Parameters
    ----------
    address : str
        ``"local"`` starts a local cluster of process workers with one
        thread each (the core is numpy: threads in one process would
        share its lock-free parts only); any other value is the address of
        an existing scheduler (``tcp://host:8786``), which must answer
        within ``connect_timeout_s`` (else :class:`EngineUnavailable`).
    n_workers : int, optional
        Workers of a local cluster (default: one per core).
    connect_timeout_s : float, optional
        Default :data:`DASK_CONNECT_TIMEOUT_S`.
    """

    def __init__(self, address="local", n_workers=None, connect_timeout_s=None):
        try:   # optional extra, imported only when a cluster is asked for
            from distributed import Client, LocalCluster
        except ImportError:
            raise EngineUnavailable("Dask is not installed: pip install 'airpicture[dask]'") from None
        timeout_s = DASK_CONNECT_TIMEOUT_S if connect_timeout_s is None else float(connect_timeout_s)
        self._cluster = self.client = None
        try:      # a signal or an error half way: whatever was started is shut down
            if address == "local":
                self._cluster = LocalCluster(processes=True, n_workers=n_workers, threads_per_worker=1,
                                             dashboard_address=":0",    # any free port, not 8787: runs side by side
                                             silence_logs=logging.CRITICAL)
                # the cluster's own logs stay quiet: stopping a run on Ctrl-C or SIGTERM makes it log a
                # warning per task stopped and errors for the scattered data it loses; a task's error
                # reaches the caller as the task's exception
                self.client = Client(self._cluster)
            else:
                _probe_scheduler(address, timeout_s)
                try:
                    self.client = Client(address, timeout=timeout_s)
                except Exception as e:  # noqa: BLE001 - any failure to connect is the address's
                    raise EngineUnavailable(f"--dask {address}: {_first_line(e)}") from None
            self.client.run(tune_malloc)
        except BaseException:
            self.close()
            raise

    def map(self, fn, sim, args):
        """``fn(sim, *a)`` for every ``a`` in ``args`` on the cluster, yielded as they finish.

        At most :data:`TASKS_PER_THREAD` tasks per worker thread are in flight, so results that
        wait to be consumed stay few whatever the number of chunks.
        """
        from distributed import as_completed   # the optional extra, as in __init__
        remote_sim = self.client.scatter(sim, broadcast=True)   # sent to every worker once
        window = TASKS_PER_THREAD * max(1, sum(self.client.nthreads().values()))
        pending = iter(args)
        running = as_completed([self.client.submit(fn, remote_sim, *a, pure=False)
                                for a in [next(pending) for _ in range(min(window, len(args)))]])
        for fut in running:
            yield fut.result()
            nxt = next(pending, None)
            if nxt is not None:
                running.add(self.client.submit(fn, remote_sim, *nxt, pure=False))

    def close(self):
        """Close the client and shut a local cluster's workers down (each step bounded in time)."""
        client, cluster, self.client, self._cluster = self.client, self._cluster, None, None
        try:
            if client is not None:
                client.close(timeout=DASK_CLOSE_TIMEOUT_S)
        finally:
            if cluster is not None:
                cluster.close(timeout=DASK_CLOSE_TIMEOUT_S)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class _Borrowed:
    """An engine the caller owns: used, not closed."""

    def __init__(self, engine):
        self.engine = engine

    def __enter__(self):
        return self.engine

    def __exit__(self, *exc):
        pass


def make_engine(engine):
    """An engine to use in a ``with`` block.

    ``None``: :class:`InProcess`; ``"processes"``: :class:`LocalProcesses`
    (one per core); another string: :class:`DaskCluster` at that address
    (``"local"`` for a local cluster), closed at the end of the block; an
    engine object (anything with ``map(fn, sim, args)``): used as it is
    and left open for its owner.
    """
    if engine is None:
        return InProcess()
    if engine == "processes":
        return LocalProcesses()
    if isinstance(engine, str):
        return DaskCluster(engine)
    return _Borrowed(engine)
