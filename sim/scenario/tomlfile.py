"""Scenario files read safely: a regular file of at most :data:`~sim.scenario.limits.SCENARIO_MAX_BYTES`, UTF-8
TOML, and what the TOML reader cannot take said as a :class:`~sim.scenario.ScenarioError`.
"""
import os
import stat
import sys
import tomllib
from pathlib import Path

from sim.scenario.limits import SCENARIO_MAX_BYTES
from sim.scenario.messages import ScenarioError

__all__ = ["read_toml"]


def _regular_file(path, st):
    """Refuse anything but a regular file of at most :data:`SCENARIO_MAX_BYTES` (given its ``os.stat``)."""
    if stat.S_ISDIR(st.st_mode):
        raise ScenarioError(path, None, "is a directory, not a scenario file")
    if not stat.S_ISREG(st.st_mode):
        raise ScenarioError(path, None, "is not a regular file (a pipe, a device or a socket): give a scenario file")
    if st.st_size > SCENARIO_MAX_BYTES:
        raise ScenarioError(path, None, f"is {st.st_size:,} bytes: a scenario file is at most "
                                        f"{SCENARIO_MAX_BYTES:,} bytes (1 MiB)")


def _toml_loads(text, source, key=None):
    """:func:`tomllib.loads`, with what it cannot take said as bad input: a document nested deeper than
    Python's recursion allows, an integer of more digits than Python converts (4,300)."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        raise
    except RecursionError:
        raise ScenarioError(source, key, "nested too deeply (arrays or tables inside one another)") from None
    except ValueError:               # int("1" * 5000): Python's limit on integer digits
        raise ScenarioError(source, key, f"holds an integer of more than {sys.get_int_max_str_digits():,} digits "
                                         "(no scenario value is that long)") from None


def read_toml(path):
    """Read a TOML file; errors become :class:`ScenarioError`.

    Only a regular file of at most :data:`SCENARIO_MAX_BYTES` is read (checked before opening and again on
    the open file, which is opened without blocking: a pipe, ``/dev/zero`` or a symlink loop is refused at
    once), and at most that many bytes are read.
    """
    path = Path(path)
    try:
        _regular_file(path, os.stat(path))
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(fd, "rb") as fh:
            _regular_file(path, os.fstat(fd))      # the same file that was checked
            data = fh.read(SCENARIO_MAX_BYTES + 1)
        if len(data) > SCENARIO_MAX_BYTES:
            raise ScenarioError(path, None, f"is over {SCENARIO_MAX_BYTES:,} bytes: a scenario file is at most 1 MiB")
        return _toml_loads(data.decode("utf-8"), path)
    except FileNotFoundError:
        raise ScenarioError(path, None, "no such file") from None
    except OSError as e:      # a symlink loop, no permission, a name too long
        raise ScenarioError(path, None, f"cannot be read ({e.strerror or type(e).__name__})") from None
    except tomllib.TOMLDecodeError as e:
        raise ScenarioError(path, None, f"not valid TOML: {e}") from None
    except UnicodeDecodeError:
        raise ScenarioError(path, None, "not valid UTF-8 text") from None
