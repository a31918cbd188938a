"""Compiled kernels' decorator: ``numba.njit(cache=True)`` with a cache folder that can be written.

The compiled code is cached on disk: next to the module in ``__pycache__``
when that folder is writable (an editable or user-owned install), else
numba's user-wide cache (``~/.cache/numba``), or ``$NUMBA_CACHE_DIR`` when
set; when none of them can be written, a folder of the system's temporary
directory (:func:`cache_fallback`). numba is imported when the first kernel
is defined, or, for a kernel defined ``lazy``, when it is first called.
"""
import functools
import os
import tempfile

__all__ = ["jit", "cache_fallback"]


def cache_fallback():
    """A per-user folder of the system's temporary directory for the compiled code, used only when
    neither numba's in-tree ``__pycache__`` nor its user-wide cache (nor ``$NUMBA_CACHE_DIR``) can be
    written (a read-only install and a read-only home)."""
    user = os.getuid() if hasattr(os, "getuid") else os.environ.get("USERNAME", "user")
    return os.path.join(tempfile.gettempdir(), f"airpicture-numba-{user}")


class _OnFirstCall:
    """A kernel made (numba imported, its code loaded or compiled) when it is first called."""

    def __init__(self, fn, options):
        self._fn, self._options, self._kernel = fn, options, None
        functools.update_wrapper(self, fn)

    def __call__(self, *args):
        if self._kernel is None:
            self._kernel = jit(**self._options)(self._fn)
        return self._kernel(*args)


def jit(lazy=False, **options):
    """``numba.njit(cache=True, **options)``, with a cache folder that can be written (see the module).

    ``lazy``: numba is imported and the kernel made at its first call, not when it is defined, for a
    kernel called only from Python in a module that the command line imports at start (importing
    numba costs about 0.3 s and 100 MB; a command that never calls the kernel pays neither). A kernel
    that other kernels call must not be lazy (numba types calls to its own dispatchers only).
    """
    if lazy:
        return lambda fn: _OnFirstCall(fn, options)
    import numba

    def wrap(fn):
        try:
            return numba.njit(cache=True, **options)(fn)
        except RuntimeError:          # no locator could write its folder: the fallback
            if numba.config.CACHE_DIR != cache_fallback():
                numba.config.CACHE_DIR = cache_fallback()
                try:
                    return numba.njit(cache=True, **options)(fn)
                except RuntimeError:
                    pass
            return numba.njit(cache=False, **options)(fn)
    return wrap
