"""Engines: where the chunks of a Monte Carlo run.

Chunks of campaigns are independent tasks (one random stream per
campaign), so an engine may run them anywhere and in any order; the
results never change. :class:`InProcess` runs them here, in order;
:class:`DaskCluster` runs them on a Dask cluster (a local one, or any
scheduler address: Kubernetes, HPC, cloud), sending the prepared
simulation to each worker once.

>>> with make_engine(None) as engine:
...     list(engine.map(lambda sim, a, b: sim + a * b, 1, [(2, 3), (4, 5)]))
[7, 21]
"""
import ctypes
import ctypes.util

__all__ = ["InProcess", "DaskCluster", "EngineUnavailable", "make_engine", "tune_malloc"]

#: glibc malloc thresholds set on Dask workers [bytes] (see :func:`tune_malloc`).
MALLOC_THRESHOLD_BYTES = 256 * 2**20
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
    """The engine asked for cannot be used here (e.g. Dask is not installed)."""


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


class DaskCluster:
    """Run chunks on a Dask cluster.

    Parameters
    ----------
    address : str
        ``"local"`` starts a local cluster of process workers with one
        thread each (the core is numpy: threads in one process would
        share its lock-free parts only); any other value is the address of
        an existing scheduler (``tcp://host:8786``).
    n_workers : int, optional
        Workers of a local cluster (default: one per core).
    """

    def __init__(self, address="local", n_workers=None):
        try:   # optional extra, imported only when a cluster is asked for
            from distributed import Client, LocalCluster
        except ImportError:
            raise EngineUnavailable("Dask is not installed: pip install 'airpicture[dask]'") from None
        self._cluster = None
        if address == "local":
            self._cluster = LocalCluster(processes=True, n_workers=n_workers, threads_per_worker=1)
            self.client = Client(self._cluster)
        else:
            self.client = Client(address)
        self.client.run(tune_malloc)

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
        self.client.close()
        if self._cluster is not None:
            self._cluster.close()

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

    ``None``: :class:`InProcess`; a string: :class:`DaskCluster` at that
    address (``"local"`` for a local cluster), closed at the end of the
    block; an engine object (anything with ``map(fn, sim, args)``): used as
    it is and left open for its owner.
    """
    if engine is None:
        return InProcess()
    if isinstance(engine, str):
        return DaskCluster(engine)
    return _Borrowed(engine)
