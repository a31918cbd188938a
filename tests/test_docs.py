"""The documentation site (``make docs``, issue 32): its internal links resolve, offline.

The site is built by ``make docs`` (Sphinx, warnings as errors, every gallery example run: .ci/run runs
it before the slow tests). These tests read the built HTML in build/docs/: every relative ``href`` and
``src`` names a file of the site, every ``#fragment`` an element of its page, and nothing the pages load
(images, scripts, style sheets, fonts) comes from the network. Outside CI they skip when the site is not
built; in CI (``CI`` set) a missing site fails.
"""
import os
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT / "build" / "docs"

pytestmark = pytest.mark.slow

#: Pages the issue asks for (docs/*.md and docs/api.rst built), and the gallery's examples (at least 8).
PAGES = ("index", "getting-started", "what-ifs", "batch-runs", "briefing", "response", "routes-and-placement",
         "evade", "place", "infer", "scenario-format", "command-line", "performance", "validation", "api",
         "architecture", "layout", "dependencies")


class _Page(HTMLParser):
    """The ids and the links of one HTML page: (tag, attribute, value) of every href and src."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.ids, self.links = set(), []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in ("id", "name") and value is not None and (name == "id" or tag == "a"):
                self.ids.add(value)
            if name in ("href", "src") and value is not None:
                self.links.append((tag, name, value, dict(attrs)))


def _parse(path):
    page = _Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page


@pytest.fixture(scope="module")
def site():
    if not (SITE / "index.html").is_file():
        if os.environ.get("CI"):
            pytest.fail("build/docs/index.html is missing: .ci/run builds the site (make docs) before these tests")
        pytest.skip("the docs site is not built: make docs")
    return {p: _parse(p) for p in sorted(SITE.rglob("*.html"))}


def test_the_pages_and_at_least_eight_executed_examples_are_built(site):
    missing = [p for p in PAGES if not (SITE / f"{p}.html").is_file()]
    assert not missing, missing
    examples = sorted((SITE / "gallery").glob("plot_*.html"))
    assert len(examples) >= 8, examples
    for page in examples:          # each example ran and kept at least one figure
        images = [v for tag, a, v, _ in site[page].links if tag == "img" and "sphx_glr_plot_" in v]
        assert images, f"{page.name}: no figure"


def test_every_internal_link_resolves_to_a_file_and_its_anchor(site):
    broken = []
    for page, parsed in site.items():
        for tag, attr, value, _ in parsed.links:
            url = urlsplit(value)
            if url.scheme or url.netloc or value.startswith("//"):
                continue                                     # external: the next test says which may be
            target = page if not url.path else (page.parent / unquote(url.path)).resolve()
            if target.is_dir():
                target = target / "index.html"
            if not target.is_file():
                broken.append(f"{page.relative_to(SITE)}: {tag} {attr}={value!r}: no file {target}")
                continue
            if url.fragment and target.suffix == ".html":
                ids = site[target].ids if target in site else _parse(target).ids
                if unquote(url.fragment) not in ids:
                    broken.append(f"{page.relative_to(SITE)}: {tag} {attr}={value!r}: no #{url.fragment} there")
    assert not broken, "\n".join(broken[:50])


def test_nothing_a_page_loads_comes_from_the_network(site):
    remote = []
    for page, parsed in site.items():
        for tag, attr, value, attrs in parsed.links:
            loads = attr == "src" or (tag == "link" and "stylesheet" in (attrs.get("rel") or "")) \
                or (tag == "link" and (attrs.get("rel") or "") in ("preload", "icon", "shortcut icon"))
            if loads and (urlsplit(value).scheme in ("http", "https") or value.startswith("//")):
                remote.append(f"{page.relative_to(SITE)}: {tag} {attr}={value!r}")
    assert not remote, "\n".join(remote)
