"""The shipped scenarios by name: ``airpicture run iraq_2012_baseline`` from any folder.

The scenario files live in the data package ``scenarios`` (the repository's
``scenarios/`` folder, installed with the wheel) and are found through
:mod:`importlib.resources`, never through the current folder.
:func:`resolve_scenario` is the one place that turns a scenario argument
(a path, or a shipped name) into a file; every command and the Python API
(:func:`sim.api.load`, :func:`sim.api.run`) go through it.

>>> from sim.catalog import resolve_scenario, shipped_scenarios
>>> resolve_scenario("iraq_2012_baseline").name
'iraq_2012_baseline.toml'
>>> "iraq_2012_baseline" in [s.name for s in shipped_scenarios()]
True
"""
import tomllib
from dataclasses import dataclass
from pathlib import Path

from sim.scenario import SHIPPED_PACKAGE, ScenarioError, closest_spellings, shipped_dir

__all__ = ["ShippedScenario", "shipped_dir", "shipped_scenarios", "resolve_scenario", "copy_scenario",
           "format_doc_text", "sources_text"]

#: The data package that holds the shipped scenario files.
PACKAGE = SHIPPED_PACKAGE
_SUFFIX = ".toml"


@dataclass(frozen=True)
class ShippedScenario:
    """A scenario file shipped with airpicture: its name (the file stem), title and path."""

    name: str
    title: str
    path: Path


def _title(path):
    try:
        with open(path, "rb") as fh:
            return str(tomllib.load(fh).get("scenario", {}).get("title", ""))
    except (OSError, tomllib.TOMLDecodeError):
        return ""


def shipped_scenarios():
    """Every shipped scenario, sorted by name (a tuple of :class:`ShippedScenario`)."""
    return tuple(ShippedScenario(p.stem, _title(p), p) for p in sorted(shipped_dir().glob(f"*{_SUFFIX}")))


def _names():
    return [p.stem for p in sorted(shipped_dir().glob(f"*{_SUFFIX}"))]


def _unknown(arg, hint):
    names = _names()
    key = Path(str(arg)).name.removesuffix(_SUFFIX)
    close = closest_spellings(key, names, cutoff=0.5)
    listed = f"closest shipped names: {', '.join(close)}" if close else f"shipped: {', '.join(names)}"
    return ScenarioError(arg, None, f"no such file, and {hint}; {listed} ('airpicture scenarios' lists them)")


def resolve_scenario(arg):
    """The scenario file an argument names: a path that exists, else a shipped scenario's name.

    A path that exists always wins (a file or folder of that name in the
    current folder included). Otherwise a bare name, with or without
    ``.toml`` (``iraq_2012_baseline``), is looked up among the shipped
    scenarios. Anything else raises :class:`~sim.scenario.ScenarioError`
    (one line naming the argument and the closest shipped names).
    """
    path = Path(arg)
    if path.exists():
        return path
    key = path.name.removesuffix(_SUFFIX)
    shipped = shipped_dir() / f"{key}{_SUFFIX}"
    if len(path.parts) == 1 and key and shipped.is_file():
        return shipped
    if shipped.is_file():   # a path that does not exist, ending in a shipped name
        raise ScenarioError(arg, None, f"no such file; the shipped scenario of that name is '{key}' "
                                       "(give the name alone)")
    raise _unknown(arg, "no shipped scenario of that name")


def copy_scenario(name, dest=None):
    """Copy a shipped scenario out to edit it; returns the new file's path.

    ``dest`` is a file, or an existing folder (the file keeps its name
    there); by default ``NAME.toml`` in the current folder. An existing file
    is never overwritten (:class:`~sim.scenario.ScenarioError`).
    """
    key = Path(str(name)).name.removesuffix(_SUFFIX)
    src = shipped_dir() / f"{key}{_SUFFIX}"
    if len(Path(str(name)).parts) != 1 or not src.is_file():
        raise _unknown(name, "no shipped scenario of that name")
    out = Path(dest) if dest is not None else Path(f"{key}{_SUFFIX}")
    if out.is_dir():
        out = out / src.name
    if out.exists():
        raise ScenarioError(out, None, "exists already; not overwritten (give another destination)")
    if not out.parent.is_dir():
        raise ScenarioError(out, None, f"no such folder: {out.parent}")
    out.write_bytes(src.read_bytes())
    return out


def _doc(name, repo_path):
    """A text file of the data package, or (in a repository checkout) its source in the repository."""
    for path in (shipped_dir() / name, shipped_dir().parent / repo_path):
        if path.is_file():
            return path.read_text(encoding="utf-8")
    raise FileNotFoundError(f"{name}: not installed with the package")


def format_doc_text():
    """The scenario format (``docs/scenario-format.md``), as installed with the package."""
    return _doc("scenario-format.md", Path("docs") / "scenario-format.md")


def sources_text():
    """The shipped scenarios' values and their sources (``scenarios/README.md``)."""
    return _doc("README.md", Path("scenarios") / "README.md")
