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
__all__ = ["InProcess", "DaskCluster", "EngineUnavailable", "make_engine"]


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

    def map(self, fn, sim, args):
        """``fn(sim, *a)`` for every ``a`` in ``args`` on the cluster, yielded as they finish."""
        from distributed import as_completed   # the optional extra, as in __init__
        remote_sim = self.client.scatter(sim, broadcast=True)   # sent to every worker once
        futures = [self.client.submit(fn, remote_sim, *a, pure=False) for a in args]
        for fut in as_completed(futures):
            yield fut.result()

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
