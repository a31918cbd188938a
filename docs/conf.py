"""Sphinx configuration of airpicture's documentation (``make docs`` builds it into build/docs/).

Sphinx with myst-parser reads the Markdown pages of docs/ as they are (the README links to them,
and the wheel ships docs/scenario-format.md), sphinx-gallery runs every script of docs/examples/
on each build and keeps its figures, and autodoc with napoleon renders the numpydoc docstrings of
the API. The build reads nothing from the network: no intersphinx, no remote image, and the furo
theme ships its own assets.
"""
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))          # the packages of this checkout, installed or not
os.environ.setdefault("MPLBACKEND", "Agg")
# The examples run in this process: once one has started a Dask cluster (which sets up logging), the PDF
# writer's font subsetting would log every glyph into the next example's output.
import logging  # noqa: E402
logging.getLogger("fontTools").setLevel(logging.WARNING)

from sim import __version__  # noqa: E402

project = "airpicture"
author = "the airpicture authors"
copyright = "the airpicture authors, MIT licence"
version = release = __version__

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx_gallery.gen_gallery",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
# docs/ also holds the JSON schemas, the README's pictures and a candidates CSV: only the pages are read
exclude_patterns = ["examples/README.txt", "gallery/*.ipynb", "gallery/*.py", "gallery/*.zip",
                    "gallery/*.md5", "gallery/*.pickle", "gallery/*.json"]
myst_heading_anchors = 3                # [text](page.md#a-heading) links resolve, and are checked
myst_enable_extensions = ["colon_fence"]

# -- API reference ----------------------------------------------------------
autodoc_member_order = "bysource"
autodoc_default_options = {"members": True, "undoc-members": False, "show-inheritance": False}
autodoc_typehints = "none"              # the docstrings give the types and units
napoleon_numpy_docstring = True
napoleon_google_docstring = False
napoleon_use_rtype = False

# -- The gallery: every example runs on every build; one that raises fails it --
sphinx_gallery_conf = {
    "examples_dirs": ["examples"],
    "gallery_dirs": ["gallery"],
    "filename_pattern": r"/plot_",      # every plot_*.py is executed
    "abort_on_example_error": True,
    "only_warn_on_example_error": False,
    "download_all_examples": False,
    "remove_config_comments": True,
    "write_computation_times": False,
    "matplotlib_animations": False,
    "image_scrapers": ("matplotlib",),
    "reset_modules": ("matplotlib",),
    "capture_repr": ("_repr_html_", "__repr__"),
    "within_subsection_order": "FileNameSortKey",
    "min_reported_time": 1,
    "show_memory": False,
    "plot_gallery": "True",
}

# -- Tables written from the code at each build (docs/_generated/, not kept in git) ---------------------------
GENERATED = Path(__file__).resolve().parent / "_generated"


def _write_generated():
    """The response's outcome codes, from :mod:`sim.response` itself, so the page never lists stale ones."""
    from sim.response import OUTCOME_LABELS, OUTCOMES, STOPPED
    GENERATED.mkdir(exist_ok=True)
    rows = [f"| `{code}` | {OUTCOME_LABELS[code]} | {'yes' if code in STOPPED else 'no'} |" for code in OUTCOMES]
    text = "| code | what happened | stopped |\n| --- | --- | --- |\n" + "\n".join(rows) + "\n"
    path = GENERATED / "outcomes.md"
    if not path.exists() or path.read_text(encoding="utf-8") != text:     # rewritten only when it changes
        path.write_text(text, encoding="utf-8")


_write_generated()
exclude_patterns.append("_generated/*")     # included by the pages, not pages of their own

# -- HTML ---------------------------------------------------------------------
html_theme = "furo"
html_title = f"airpicture {release}"
html_static_path = []
html_show_sourcelink = False
html_copy_source = False
html_last_updated_fmt = None
