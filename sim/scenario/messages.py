"""What a scenario error says and how it shows what it names: :class:`ScenarioError` (one line: the file, the
key, the message), a shipped scenario named by its name, text made safe to print, the strings a scenario may
not hold, and "did you mean" suggestions.
"""
import difflib
import re
import unicodedata
from importlib.resources import files
from pathlib import Path

__all__ = ["ScenarioError", "SHIPPED_PACKAGE", "shipped_dir", "shown_source", "text_refusal", "shown_text",
           "SUGGESTIONS_MAX", "SUGGESTION_CUTOFF", "closest_spellings"]


#: The data package that holds the shipped scenario files (:mod:`sim.catalog` finds them by name).
SHIPPED_PACKAGE = "scenarios"


def shipped_dir():
    """The folder of the shipped scenario files (a real folder: the package is installed on disk)."""
    return Path(str(files(SHIPPED_PACKAGE)))


def shown_source(source):
    """How a message names a scenario file: a shipped one as ``scenarios/<file>``, never by the folder it is
    installed in (``.../site-packages/scenarios/iraq_2012_baseline.toml``); anything else as given.

    >>> shown_source(shipped_dir() / "iraq_2012_baseline.toml"), shown_source("mine.toml")
    ('scenarios/iraq_2012_baseline.toml', 'mine.toml')
    """
    text = str(source)
    path = Path(text)
    if path.is_absolute() and path.suffix == ".toml":
        try:
            if path.parent.resolve() == shipped_dir().resolve():
                return f"{SHIPPED_PACKAGE}/{path.name}"
        except (OSError, RuntimeError, ValueError):      # a path that cannot be resolved is no shipped one
            pass
    return text


class ScenarioError(ValueError):
    """A scenario file or override is invalid; ``str()`` is the one-line message (a shipped scenario named as
    :func:`shown_source` names it)."""

    def __init__(self, source, key, message):
        self.source = shown_text(shown_source(source))
        self.key = None if key is None else shown_text(key)
        self.message = shown_text(message)
        super().__init__(f"{self.source}: {self.key}: {self.message}" if key else f"{self.source}: {self.message}")


class _Err(Exception):
    """Internal: a key-path error, turned into ScenarioError with the file name."""

    def __init__(self, key, message):
        super().__init__(key, message)
        self.key = key
        self.message = message


#: Unicode's format characters (category Cf, as of Unicode 15.1; tested against :mod:`unicodedata`): they
#: draw nothing, so two names that look the same can differ by one (a zero-width space U+200B, the joiners
#: U+200C/D, the direction marks U+200E/F and U+061C, the byte-order mark U+FEFF, the soft hyphen U+00AD),
#: and the bidirectional embedding, override and isolate characters (U+202A-U+202E, U+2066-U+2069) make a
#: name read differently from what it is.
_FORMAT_CHARS = ("\xad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e\u200b-\u200f\u202a-\u202e"
                 "\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\U000110bd\U000110cd\U00013430-\U0001343f"
                 "\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f")
#: The code points XML 1.0 cannot carry or discourages (its ``Char`` production; KML, SVG and the PDF's
#: metadata are XML): the surrogates (a command line's undecodable bytes arrive as lone ones) and the 66
#: noncharacters, U+FDD0-U+FDEF and U+nFFFE, U+nFFFF of each of the 17 planes.
_NOT_XML = "\ud800-\udfff\ufdd0-\ufdef" + "".join(f"{chr(p * 0x10000 + 0xfffe)}{chr(p * 0x10000 + 0xffff)}"
                                                  for p in range(17))
#: Characters refused in every string of a scenario (names, titles, sources, notes), at load (exit 2, the
#: key named): the control characters (category Cc: C0 and C1, DEL; newlines, tab, ESC and so terminal
#: escape sequences), the line and paragraph separators (Zl, Zp), the format characters (Cf, above:
#: invisible, or reordering), and what XML 1.0 cannot carry (surrogates Cs, noncharacters). Every output
#: (terminal, CSV, KML, SVG, PDF, the page) then shows a string as it is, and no string fails one of them
#: late. (Persian's zero-width non-joiner is a format character too: write such a name without it.)
#: Strings are shown, never run.
_UNSAFE_TEXT = re.compile(f"[\x00-\x1f\x7f-\x9f\u2028\u2029{_FORMAT_CHARS}{_NOT_XML}]")


def text_refusal(text):
    """Why ``text`` cannot be a scenario string: its first refused character (:data:`_UNSAFE_TEXT`) named
    by its code point, or None when it has none.

    >>> text_refusal("Kirkuk") is None
    True
    >>> text_refusal("Kir\\u200bkuk").split(" at ")[0]
    'holds the invisible format character U+200B (ZERO WIDTH SPACE)'
    """
    m = _UNSAFE_TEXT.search(text)
    if m is None:
        return None
    c = m.group()
    cp = ord(c)
    category = unicodedata.category(c)
    if 0xFDD0 <= cp <= 0xFDEF or cp & 0xFFFE == 0xFFFE:
        what = "the noncharacter"
    else:
        what = {"Cc": "the control character", "Cs": "the surrogate", "Zl": "the line separator",
                "Zp": "the paragraph separator"}.get(category, "the invisible format character")
    name = unicodedata.name(c, "")
    return (f"holds {what} U+{cp:04X}{f' ({name})' if name else ''} at position {m.start()} (no control, "
            "line-break or invisible format characters, and no code point XML 1.0 cannot carry: strings are "
            "shown as they are)")


def _check_text(value, key):
    why = text_refusal(value)
    if why:
        raise _Err(key, why)


def shown_text(text):
    """``text`` safe to print on a terminal: each character a scenario string may not hold (control,
    line-break, format, surrogate, noncharacter: :data:`_UNSAFE_TEXT`) escaped as Python's ``repr`` writes
    it (``\\x1b``, ``\\n``, ``\\u202e``, ``\\u200b``); other text unchanged."""
    return _UNSAFE_TEXT.sub(lambda m: repr(m.group())[1:-1], str(text))


#: The most spellings a "did you mean" names.
SUGGESTIONS_MAX = 3
#: How alike a known key must be to a mistyped one to be suggested (:func:`difflib.get_close_matches`' ratio).
SUGGESTION_CUTOFF = 0.6


def closest_spellings(word, known, n=SUGGESTIONS_MAX, cutoff=SUGGESTION_CUTOFF):
    """At most ``n`` of ``known`` closest to a mistyped ``word``, closest first.

    >>> closest_spellings("cruise_altitude_mm", ["cruise_altitude_m", "cruise_altitude_km", "cruise_altitude_ft",
    ...                                          "cruise_altitude_fl", "rcs_m2"])
    ['cruise_altitude_m', 'cruise_altitude_km', 'cruise_altitude_ft']
    """
    return difflib.get_close_matches(word, list(known), n=n, cutoff=cutoff)
