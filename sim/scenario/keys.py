"""The override key language: ``--set KEY=VALUE``, ``[uncertainty]`` and the page name a scenario value by one key
(``aircraft.rcs_m2``, ``radar[Kirkuk PSR].availability``, ``radar[0].pd``, ``radar["Kirkuk No. 2"].pd``).

One reader of keys (:func:`read_key`, :func:`split_override`), one writer (:func:`table_key`,
:func:`override_text`), and the override applied to a parsed scenario file (:func:`apply_override`); a
validated scenario with overrides is :func:`sim.scenario.with_overrides`.
"""
import json
import re
import tomllib
from dataclasses import dataclass

from geo.units import UNITS
from sim.scenario.tomlfile import _toml_loads
from sim.scenario.messages import ScenarioError

__all__ = ["KeySegment", "table_key", "read_key", "split_override", "parse_override_value", "apply_override",
           "override_key_value", "override_text"]


# --- --set KEY=VALUE overrides -----------------------------------------------------------------
# A key is dotted segments, ``field`` or ``field[SELECTOR]``; a selector is a quoted name (a TOML basic
# string: ``radar["Kirkuk No. 2"]``), or bare text up to the first ``]`` (a name, trimmed; or an index).
_FIELD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_INDEX = re.compile(r"-?\d+")
#: Characters a name is quoted for in a key (:func:`table_key`); the bare form reads any but ``[]"``.
_QUOTED_CHARS = frozenset('.=[]"')


@dataclass(frozen=True)
class KeySegment:
    """One segment of an override key: ``field``, or ``field[selector]`` (``quoted``: a quoted name, never
    an index; bare: a name, else an index)."""
    field: str
    selector: str | None = None
    quoted: bool = False


def table_key(table, name, *fields):
    """The override key of a named table's field, as ``--set``, ``[uncertainty]`` and the page write it.

    The name is quoted (a TOML basic string) only when it holds a ``.``,
    ``=``, ``[``, ``]`` or ``"``, has space at either end, is empty or reads
    as an index (``"0"`` is a name, ``0`` a position).

    >>> table_key("radar", "Kirkuk PSR", "availability"), table_key("radar", "Kirkuk No. 2", "availability")
    ('radar[Kirkuk PSR].availability', 'radar["Kirkuk No. 2"].availability')
    >>> table_key("route", '"0"'), table_key("radar", "AEW orbit", "orbit", "altitude_m")
    ('route["\\\\"0\\\\""]', 'radar[AEW orbit].orbit.altitude_m')
    """
    bare = (name and name == name.strip() and not _INDEX.fullmatch(name) and not _QUOTED_CHARS.intersection(name))
    sel = name if bare else json.dumps(name, ensure_ascii=False)
    return ".".join((f"{table}[{sel}]", *fields))


def _read_key(text, source, stop_at_equals):
    """The one reader of override keys: ``(segments, key_text, rest)``.

    Reads ``text`` from its start up to its end, or (``stop_at_equals``) up
    to the first ``=`` outside brackets and quotes, which ``rest`` then
    starts with (``rest`` is "" when there is none). Raises
    :class:`ScenarioError` naming the key for anything it cannot read.
    """
    n = len(text)
    segments = []
    i = 0

    def fail(message):
        key = text.split("=", 1)[0].strip() if stop_at_equals else text.strip()
        raise ScenarioError(source, key or text, message)

    def skip_space(j):
        while j < n and text[j].isspace():
            j += 1
        return j

    while True:
        i = skip_space(i)
        m = _FIELD.match(text, i)
        if m is None:
            what = f"{text[i]!r}" if i < n else "the end"
            fail(f"cannot read key segment at position {i} ({what}): expected a name such as radar or "
                 "availability (keys look like aircraft.rcs_m2, radar[NAME].pd, radar[0].pd or "
                 'radar["NAME WITH . OR ="].pd)')
        field_name, i = m.group(), m.end()
        selector, quoted = None, False
        if i < n and text[i] == "[":
            j = skip_space(i + 1)
            if j < n and text[j] == '"':
                k = j + 1
                while k < n and text[k] != '"':
                    k += 2 if text[k] == "\\" else 1
                if k >= n:
                    fail(f'unterminated quoted name in {field_name}[...]: the " at position {j} has no closing " '
                         '(write a quote inside a name as \\" and a backslash as \\\\)')
                try:
                    selector = tomllib.loads(f"v = {text[j:k + 1]}")["v"]
                except tomllib.TOMLDecodeError:
                    fail(f"cannot read the quoted name {text[j:k + 1]} in {field_name}[...]: "
                         'only \\" \\\\ and TOML\'s other escapes (\\n, \\uXXXX) may follow a backslash')
                quoted, j = True, skip_space(k + 1)
                if j >= n or text[j] != "]":
                    fail(f"expected ] right after the quoted name: {field_name}[{text[skip_space(i + 1):k + 1]}]")
            else:
                k = j
                while k < n and text[k] not in '[]"':
                    k += 1
                if k >= n:
                    fail(f"unterminated {field_name}[...]: no closing ]")
                if text[k] != "]":
                    fail(f"a name holding {text[k]!r} must be quoted in {field_name}[...] (a TOML basic string: "
                         f'{field_name}["A [B] \\"C\\""])')
                selector, j = text[i + 1:k].strip(), k
                if not selector:
                    fail(f"{field_name}[]: give a name or an index between the brackets")
            i = j + 1
        segments.append(KeySegment(field_name, selector, quoted))
        i = skip_space(i)
        if i < n and text[i] == ".":
            i += 1
            continue
        if i >= n or (stop_at_equals and text[i] == "="):
            return tuple(segments), text[:i].strip(), text[i:]
        fail(f"unexpected {text[i]!r} at position {i} (after a key segment comes . or =)")


def read_key(key, source="<key>"):
    """An override key's segments (:class:`KeySegment`), read by the same code ``--set`` uses.

    >>> [(s.field, s.selector, s.quoted) for s in read_key('radar["Kirkuk No. 2"].availability')]
    [('radar', 'Kirkuk No. 2', True), ('availability', None, False)]
    """
    return _read_key(str(key), source, stop_at_equals=False)[0]


def split_override(text, source="<scenario>"):
    """A ``KEY=VALUE`` text split at the first ``=`` outside brackets and quotes: ``(key, value text)``, both
    trimmed; the key is read (:func:`read_key`), a bad one raises :class:`ScenarioError` naming it.

    >>> split_override('radar["A=B"].pd = 0.9')
    ('radar["A=B"].pd', '0.9')
    """
    text = str(text)
    if "=" not in text:
        raise ScenarioError(source, text, "override must look like KEY=VALUE")
    _, key, rest = _read_key(text, source, stop_at_equals=True)
    if not rest:
        raise ScenarioError(source, key, "override must look like KEY=VALUE")
    return key, rest[1:].strip()


def parse_override_value(text, source="--set", key=None):
    """A ``--set`` value: TOML (``3000``, ``true``, ``"text"``, ``[1, 2]``), else the bare word as a string.
    A value no scenario holds and the TOML reader cannot take (brackets nested a thousand deep, an integer
    of over 4,300 digits) is a :class:`ScenarioError` naming ``key``."""
    try:
        return _toml_loads(f"v = {text}", source, key)["v"]
    except tomllib.TOMLDecodeError:
        return text


def apply_override(doc, text, source="<scenario>"):
    """Apply one ``KEY=VALUE`` override to a parsed scenario dict, in place.

    ``KEY`` is a dotted path: ``aircraft.cruise_altitude_m``, ``run.seed``,
    ``radar[Baghdad PSR].range_km`` (by name), ``radar[0].pd`` (by index),
    ``radar["Kirkuk No. 2"].availability`` (a quoted name: a TOML basic
    string, ``\\"`` and ``\\\\`` inside; never an index),
    ``route[direct].cross_track_sigma_km``. KEY ends at the first ``=``
    outside brackets and quotes. ``VALUE`` is a TOML value (``3000``,
    ``true``, ``"text"``, ``[1, 2]``); a bare word is a string. Setting a
    quantity in another unit (``cruise_altitude_ft``) replaces the file's
    spelling of it.
    """
    key, value_text = split_override(text, source)
    segments = read_key(key, source)
    node = doc
    trail = []
    for depth, seg in enumerate(segments):
        name = seg.field
        trail.append(name)
        last = depth == len(segments) - 1
        if seg.selector is not None:
            items = node.get(name)
            if not isinstance(items, list):
                raise ScenarioError(source, key, f"no [[{name}]] tables to select from")
            idx = _select(items, seg)
            if idx is None:
                names = [str(t.get("name")) for t in items if isinstance(t, dict)]
                raise ScenarioError(source, key, f"no {name} named {seg.selector!r} (have: {', '.join(names)})")
            if last:
                raise ScenarioError(source, key, "set a key inside the table, e.g. radar[NAME].pd=0.9")
            node = items[idx]
        elif last:
            _drop_other_spellings(node, name)
            node[name] = parse_override_value(value_text, source, key)
        else:
            if name not in node:
                node[name] = {}
            node = node[name]
            if isinstance(node, list):
                raise ScenarioError(source, key, f"select one table: {name}[NAME] or {name}[INDEX]")
            if not isinstance(node, dict):
                raise ScenarioError(source, key, f"{'.'.join(trail)} is not a table")
    return doc


def override_key_value(scenario, key):
    """The value a scenario's file (with its overrides) gives an override key, as written: ``(spelling, value)``.

    ``key`` as ``--set`` writes it (``radar[Kirkuk PSR].availability``,
    ``radar["Kirkuk No. 2"].availability``). When the file spells the
    quantity in another unit (``range_nm`` for ``range_km``), that spelling
    and its value are returned; ``None`` when the file leaves the key at its
    default. A key that cannot be read raises :class:`ScenarioError`.

    >>> from sim.scenario import load_scenario
    >>> sc = load_scenario("scenarios/iraq_2012_baseline.toml")
    >>> override_key_value(sc, "radar[Kirkuk PSR].availability"), override_key_value(sc, "radar[Kirkuk PSR].range_km")
    (('availability', 0.9), ('range_nm', 60))
    """
    node = scenario.raw
    segments = read_key(key, scenario.path)
    for depth, seg in enumerate(segments):
        if not isinstance(node, dict):
            return None
        name = seg.field
        if seg.selector is not None:
            items = node.get(name)
            idx = _select(items, seg) if isinstance(items, list) else None
            if idx is None:
                return None
            node = items[idx]
        elif depth < len(segments) - 1:
            node = node.get(name)
        else:
            if name in node:
                return name, node[name]
            q = _quantity(name)
            other = [k for k in node if q is not None and _quantity(k) == q]
            return (other[0], node[other[0]]) if other else None
    return None


def _select(items, seg):
    """The index of the table ``seg`` selects: by exact name; a bare integer that names no table, by position."""
    for i, t in enumerate(items):
        if isinstance(t, dict) and t.get("name") == seg.selector:
            return i
    if not seg.quoted and _INDEX.fullmatch(seg.selector):
        i = int(seg.selector)
        if -len(items) <= i < len(items):
            return i % len(items)
    return None


_ALL_UNITS = tuple(sorted({u for units in UNITS.values() for u in units}, key=len, reverse=True))


def _quantity(key):
    """The quantity a key spells: its name without the unit (``flight_level`` is an altitude)."""
    if key.endswith("flight_level"):
        return key[: -len("flight_level")] + "altitude"
    m = re.fullmatch(rf"(.+?)_({'|'.join(_ALL_UNITS)})", key)
    return m.group(1) if m else None


def _drop_other_spellings(table, key):
    """Remove the other spellings of the quantity ``key`` sets (other units; a cruise level
    above mean sea level replaces one above ground, and the other way round)."""
    q = _quantity(key)
    if q is None:
        return
    same = {q}
    level = q[: -len("_agl")] if q.endswith("_agl") else q
    if level.endswith("altitude"):
        same |= {level, level + "_agl"}
    for k in list(table):
        if k != key and _quantity(k) in same:
            del table[k]


def override_text(key, value):
    """``KEY=VALUE`` with the value written as TOML (``true``, ``"text"``, ``3000``)."""
    return f"{key}={json.dumps(value)}"
