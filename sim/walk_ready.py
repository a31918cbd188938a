"""Importing this module readies the compiled walk (:func:`sim.walk.ensure_compiled`): loaded from the
disk cache, or compiled on first use.

The fork server of :class:`sim.engine.LocalProcesses` preloads it while the caller prepares its
scenario, so that every worker forked from it starts with the walk in memory (instead of each
importing numba and loading the walk, about half a second, on every run). A Dask worker loads it
with its first task and keeps it for the next.
"""
from sim.walk import ensure_compiled

__all__ = []

ensure_compiled()
