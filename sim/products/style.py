"""The one look of every airpicture product (maps, charts, brief, KML).

Colours are the Okabe-Ito colour-blind-safe palette; every colour that
carries meaning is paired with a line style or a marker, so the products
still read in black-and-white print. Nothing here touches matplotlib's
global settings at import: :func:`use_style` applies :data:`RC` inside a
``with`` block only, and :data:`SAVE_METADATA` keeps saved files free of
creation dates (byte-reproducible outputs).

>>> from sim.products.style import use_style, new_figure
>>> with use_style():
...     fig = new_figure("chart")
...     ax = fig.add_subplot()
"""
import contextlib
import textwrap
import datetime
import os

import matplotlib
from matplotlib.figure import Figure

__all__ = [
    "PALETTE",
    "COLORS",
    "LINES",
    "MARKERS",
    "COVERAGE_FILL",
    "FONT_SIZE",
    "FIGSIZE_IN",
    "RC",
    "SAVE_METADATA",
    "use_style",
    "new_figure",
    "save_figure",
    "save_pages",
    "product_date",
    "kml_color",
]

#: Okabe & Ito (2008) colour-blind-safe palette.
PALETTE = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "purple": "#CC79A7",
}

#: Colours by meaning (never by position in a cycle).
COLORS = {
    "detected": PALETTE["blue"],
    "undetected": PALETTE["vermillion"],
    "route": PALETTE["black"],
    "first_detection": PALETTE["purple"],
    "primary": PALETTE["orange"],
    "secondary": PALETTE["green"],
    "radar_edge": PALETTE["black"],
    "airport": "#FFFFFF",
    "sea": "#E8F1F8",
    "land": "#F3F1EC",
    "focus_land": "#FFFBEA",
    "border": "#8C8C8C",
    "focus_border": "#222222",
    "country_label": "#6E6E6E",
    "text": "#111111",
    "muted": "#555555",
    "bar": "#BBBBBB",
    "band": "#999999",
    "cruise": PALETTE["vermillion"],
    "off": "#8F8F8F",          # a radar switched off (availability 0): its marker and its coverage's outline
}

#: Line styles by meaning: ``dict(linestyle=..., linewidth=...)`` keyword sets.
LINES = {
    "route": dict(linestyle=(0, (6, 2, 1.5, 2)), linewidth=1.8),
    "detected": dict(linestyle="-", linewidth=0.6),
    "undetected": dict(linestyle=(0, (3, 1.5)), linewidth=0.8),
    "primary": dict(linestyle=(0, (4, 2)), linewidth=0.9),
    "secondary": dict(linestyle="-", linewidth=0.9),
    "off": dict(linestyle=(0, (1.5, 2.5)), linewidth=0.9),      # a radar switched off: dotted grey, no fill
    "border": dict(linestyle="-", linewidth=0.5),
    "focus_border": dict(linestyle="-", linewidth=1.6),
    "mean": dict(linestyle="-", linewidth=1.6),
    "band": dict(linestyle=(0, (4, 2)), linewidth=1.0),
    "cruise": dict(linestyle=(0, (1.5, 1.5)), linewidth=1.2),
    "orbit": dict(linestyle=(0, (6, 2, 1.5, 2)), linewidth=1.6),
    # the least-detectable route (brief --evade): solid magenta, above the tracks, distinct from the routes
    "evade": dict(linestyle="-", linewidth=2.2, color="#C2185B", zorder=6.4),
}

#: Coverage fill by radar kind, in drawing order (bottom first): primary filled, secondary hatched
#: without fill, so that where both overlap the colours do not mix (orange under green turns olive).
COVERAGE_FILL = {
    "secondary": dict(facecolor="none", hatch="////", alpha=0.55),
    "primary": dict(alpha=0.24),
}

#: Marker kwargs by meaning (shape first: readable without colour).
MARKERS = {
    "primary": dict(marker="^", markersize=7.5, markeredgewidth=0.9),
    "secondary": dict(marker="s", markersize=6.0, markeredgewidth=0.9),
    "orbit": dict(marker="D", markersize=5.5, markeredgewidth=0.9),
    "interceptor": dict(marker="*", markersize=11.0, markeredgewidth=0.6),
    "intercept": dict(marker="*", markersize=5.0, markeredgewidth=0.6),
    "airport": dict(marker="o", markersize=4.0, markeredgewidth=0.8),
    "first_detection": dict(marker="x", markersize=3.5, markeredgewidth=0.7),
    "sweep": dict(marker="o", markersize=4.5, markeredgewidth=0.8),
}

#: Font sizes [pt].
FONT_SIZE = {"base": 8.0, "small": 6.5, "tiny": 5.5, "label": 8.0, "title": 10.0, "country": 8.5}

#: Figure sizes [inch] (A4 landscape for the brief).
FIGSIZE_IN = {"map": (11.0, 8.0), "chart": (5.5, 3.6), "brief": (11.69, 8.27)}

#: rcParams applied by :func:`use_style` (fixed font, fixed SVG hash salt).
RC = {
    "font.family": "DejaVu Sans",
    "font.size": FONT_SIZE["base"],
    "axes.titlesize": FONT_SIZE["title"],
    "axes.labelsize": FONT_SIZE["label"],
    "xtick.labelsize": FONT_SIZE["small"] + 0.5,
    "ytick.labelsize": FONT_SIZE["small"] + 0.5,
    "legend.fontsize": FONT_SIZE["small"] + 0.5,
    "legend.frameon": True,
    "legend.framealpha": 0.92,
    "legend.edgecolor": "#888888",
    "axes.edgecolor": "#333333",
    "axes.linewidth": 0.8,
    "axes.grid": False,
    "axes.spines.top": True,
    "axes.spines.right": True,
    "grid.color": "#DDDDDD",
    "grid.linewidth": 0.5,
    "hatch.linewidth": 0.5,
    "figure.facecolor": "white",
    "savefig.facecolor": "white",
    "svg.hashsalt": "airpicture",
    "svg.fonttype": "path",
    "pdf.fonttype": 42,
    "path.simplify": True,
    # names and titles are data: shown as written, never read as mathtext ("$x$" stays "$x$")
    "text.parse_math": False,
}

#: ``savefig(metadata=...)`` per format: no creation dates in the files.
SAVE_METADATA = {
    "png": {"Software": None},
    "pdf": {"CreationDate": None, "ModDate": None, "Producer": None, "Creator": "airpicture"},
    "svg": {"Date": None, "Creator": "airpicture"},
}


@contextlib.contextmanager
def use_style():
    """Apply :data:`RC` inside a ``with`` block (matplotlib's settings restored after)."""
    with matplotlib.rc_context(rc=RC):
        yield


def new_figure(kind="chart", figsize=None):
    """A pyplot-free :class:`~matplotlib.figure.Figure` of a standard size (call inside :func:`use_style`)."""
    return Figure(figsize=figsize or FIGSIZE_IN[kind])


#: Where a figure's heading goes, by kind: the title's size above FONT_SIZE["title"] and the subtitle's top.
_HEADING = {"chart": (0.0, 0.93), "map": (1.0, 0.945)}


def figure_heading(fig, title, subtitle, kind="chart"):
    """A figure's bold title, centred at the top, and its subtitle under it (a chart's or a map's layout)."""
    bump, subtitle_y = _HEADING[kind]
    fig.text(0.5, 0.975, title, ha="center", va="top", fontsize=FONT_SIZE["title"] + bump, fontweight="bold")
    fig.text(0.5, subtitle_y, subtitle, ha="center", va="top", fontsize=FONT_SIZE["small"])


def figure_footnote(fig, text, width):
    """A figure's footnote (how it was made, its assumptions): small, muted, wrapped at ``width`` characters."""
    fig.text(0.01, 0.01, textwrap.fill(text, width), ha="left", va="bottom", fontsize=FONT_SIZE["tiny"],
             color=COLORS["muted"])


#: Metadata keys of a product's title and description, by format.
_DESCRIBE_KEYS = {"png": ("Title", "Description"), "pdf": ("Title", "Subject"), "svg": ("Title", "Description")}


def save_figure(fig, path, dpi=200, title=None, description=None):
    """Save with the format's reproducible metadata (format from the file suffix).

    ``title`` and ``description`` (the scenario, the run and the open-source
    note) go into the file's own metadata, so a copied image still says
    where it comes from.
    """
    fmt = str(path).rsplit(".", 1)[-1].lower()
    meta = dict(SAVE_METADATA.get(fmt, {}))
    if fmt in _DESCRIBE_KEYS:
        for key, value in zip(_DESCRIBE_KEYS[fmt], (title, description)):
            if value is not None:
                meta[key] = value
    fig.savefig(path, dpi=dpi, format=fmt, metadata=meta)


def save_pages(figs, path, dpi=200, title=None, description=None):
    """Save figures as the pages of one PDF, in order, with the reproducible metadata of :func:`save_figure`
    (no creation date: the same figures give the same bytes)."""
    from matplotlib.backends.backend_pdf import PdfPages     # the PDF backend, loaded only to write pages

    meta = dict(SAVE_METADATA["pdf"])
    for key, value in zip(_DESCRIBE_KEYS["pdf"], (title, description)):
        if value is not None:
            meta[key] = value
    with PdfPages(path, metadata=meta) as pdf:
        for fig in figs:
            pdf.savefig(fig, dpi=dpi)


def product_date():
    """Date stamped on products: ``SOURCE_DATE_EPOCH`` (UTC) if set, else today, ISO format."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch:
        return datetime.datetime.fromtimestamp(int(epoch), tz=datetime.timezone.utc).date().isoformat()
    return datetime.date.today().isoformat()


def kml_color(hex_rgb, alpha=1.0):
    """KML colour string ``aabbggrr`` from ``#rrggbb`` and an opacity in [0, 1].

    >>> kml_color("#0072B2", 0.5)
    '7fb27200'
    """
    h = hex_rgb.lstrip("#")
    a = int(max(0.0, min(1.0, alpha)) * 255)
    return f"{a:02x}{h[4:6]}{h[2:4]}{h[0:2]}".lower()
