"""Import architecture of the packages ``geo`` and ``sim``: no cycles, no upward imports.

Every ``*.py`` file under ``geo/`` and ``sim/`` is parsed with :mod:`ast` (nothing
is imported) and every ``import X`` / ``from X import Y`` anywhere in it --
module level, inside functions, under ``if TYPE_CHECKING`` -- becomes an edge of
the module import graph, keeping only targets inside ``geo`` or ``sim``.
Relative imports are resolved; ``from pkg import name`` counts the module
``pkg.name`` when that is a module file, otherwise the package ``pkg``.

Layers, lowest first; a module may import its own layer or a lower one only:

    0 geo           geo, geo.*  (never imports sim)
    1 core          sim (the package __init__), every module directly in sim/ that is
                    not a front door, and sim.scenario, sim.scenario.* (the format)
    2 analysis      sim.analysis, sim.analysis.*
    3 optimise      sim.optimise, sim.optimise.* (the route search, the placement: they
                    call the analysis, the core and geo; nothing below calls them)
    4 products      sim.products, sim.products.*
    5 front doors   sim.pipeline, sim.api, sim.__main__, sim.cli, sim.cli.* (the command line,
                    a module per command) and sim.serve, sim.serve.* (the planner's page)

A new module directly in ``sim/`` is core; a module in a sim subpackage that is
not in the table makes :func:`layer_of` raise (add the subpackage to the table).

Nevers, though the order would allow them (:data:`NEVER`): products never import
analysis or the optimisers (a product draws what it is given: the words for a metric
live in the core, :mod:`sim.labels`; a racetrack with the platforms, :mod:`sim.platforms`;
the phases a placement averaged over come with its result); no other front door imports
the command line (:data:`FRONT_DOOR_NEVER`: the API, the pipeline and the page never run
through it); the page is a front door like the others (:data:`PAGE_NEVER`): it runs what-ifs,
sweeps, routes, placements and inferences through the Python API (:mod:`sim.api`, or the one
pipeline behind it), never the Monte Carlo, its engines and walks, the analysis or the optimisers
themselves.
"""
import ast
import functools
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("geo", "sim")

LAYER_NAMES = {0: "geo", 1: "core", 2: "analysis", 3: "optimise", 4: "products", 5: "front doors"}
#: The front doors' layer (the top).
TOP = max(LAYER_NAMES)

#: Modules of the top layer directly in sim/ (the ways in: pipeline, API); the command line and the page are
#: subpackages (:data:`SIM_SUBPACKAGE_LAYERS`).
FRONT_DOORS = frozenset({"sim.pipeline", "sim.api", "sim.__main__"})

#: Subpackages of ``sim`` and their layers; a subpackage not listed here is an error.
SIM_SUBPACKAGE_LAYERS = {"scenario": 1, "analysis": 2, "optimise": 3, "products": 4, "cli": 5, "serve": 5}


#: Packages that never import one another, though the layers' order allows it: (importer, imported).
NEVER = (("sim.products", "sim.analysis"), ("sim.products", "sim.optimise"))

#: Front doors that never import the command line: each way in calls the layers below, never another door's
#: command modules (the command line may start the page: ``airpicture serve``).
FRONT_DOOR_NEVER = (("sim.api", "sim.cli"), ("sim.pipeline", "sim.cli"), ("sim.serve", "sim.cli"))

#: What the page never imports: it asks :mod:`sim.api` (or :mod:`sim.pipeline`) for every run, so the page and
#: the other front doors cannot drift apart (products, the catalog, the scenario's validation and the results'
#: formatting it may use).
PAGE_NEVER = tuple(("sim.serve", core) for core in ("sim.montecarlo", "sim.engine", "sim.walk", "sim.walk_ready",
                                                      "sim.analysis", "sim.optimise"))


class UnknownLayer(LookupError):
    """A module that the layer table does not place."""


def layer_of(module, is_package=False):
    """Layer number of a module (see the module docstring for the table).

    ``is_package`` tells ``sim.x`` the package (``sim/x/__init__.py``) from
    ``sim.x`` the module (``sim/x.py``): the first must be in
    :data:`SIM_SUBPACKAGE_LAYERS`, the second is core unless it is a front door.
    """
    parts = module.split(".")
    if parts[0] == "geo":
        return 0
    if parts[0] != "sim":
        raise UnknownLayer(f"{module}: not in the packages geo or sim")
    if module == "sim":
        return 1
    if module in FRONT_DOORS:
        return TOP
    if len(parts) == 2 and not is_package:
        return 1
    sub = parts[1]
    if sub not in SIM_SUBPACKAGE_LAYERS:
        raise UnknownLayer(
            f"{module}: in the sim subpackage sim.{sub}, which has no layer; "
            f"add 'sim.{sub}' to SIM_SUBPACKAGE_LAYERS in tests/test_layers.py"
        )
    return SIM_SUBPACKAGE_LAYERS[sub]


# ---------------------------------------------------------------- the graph


def discover_modules(root=ROOT, packages=PACKAGES):
    """``{module name: (path, is_package)}`` for every ``*.py`` under the packages."""
    found = {}
    for pkg in packages:
        for path in sorted((root / pkg).rglob("*.py")):
            rel = path.relative_to(root).with_suffix("")
            parts = list(rel.parts)
            is_package = parts[-1] == "__init__"
            if is_package:
                parts = parts[:-1]
            found[".".join(parts)] = (path, is_package)
    return found


def _in_scope(name, packages):
    return name.split(".")[0] in packages


def _known_prefix(name, known):
    """The longest prefix of a dotted name that is a known module (or None)."""
    parts = name.split(".")
    for n in range(len(parts), 0, -1):
        cand = ".".join(parts[:n])
        if cand in known:
            return cand
    return None


def imports_from_source(source, module, is_package, known, packages=PACKAGES, filename="<string>"):
    """Modules (in ``known``) that the source of ``module`` imports, anywhere in it.

    ``known`` is the set of module names (packages included). Returns
    ``{target: first line number}``; the module itself is left out.
    """
    tree = ast.parse(source, filename=filename)
    package = module if is_package else module.rpartition(".")[0]
    out = {}

    def add(target, lineno):
        if target is not None and target != module and _in_scope(target, packages):
            out.setdefault(target, lineno)

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if _in_scope(alias.name, packages):
                    add(_known_prefix(alias.name, known) or alias.name, node.lineno)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".") if package else []
                up = node.level - 1
                if up > len(base) - 1:
                    raise ImportError(f"{filename}:{node.lineno}: relative import beyond the top package")
                base = base[: len(base) - up]
                src = ".".join(base + ([node.module] if node.module else []))
            else:
                src = node.module
            if not _in_scope(src, packages):
                continue
            for alias in node.names:
                sub = f"{src}.{alias.name}"
                if alias.name != "*" and sub in known:
                    add(sub, node.lineno)
                else:
                    add(_known_prefix(src, known) or src, node.lineno)
    return out


def build_graph(root=ROOT, packages=PACKAGES):
    """``(graph, modules)``: graph is ``{module: {imported module: line}}``."""
    modules = discover_modules(root, packages)
    known = set(modules)
    graph = {}
    for name, (path, is_package) in modules.items():
        graph[name] = imports_from_source(
            path.read_text(encoding="utf-8"), name, is_package, known, packages, filename=str(path)
        )
    return graph, modules


# ---------------------------------------------------------------- the checks


def find_cycles(graph):
    """One concrete cycle per strongly connected component with more than one module.

    ``graph`` maps a module to an iterable (or dict) of the modules it imports.
    Returns a sorted list of cycles, each a list ``[a, b, ..., a]``.
    """
    nodes = sorted(set(graph) | {t for ts in graph.values() for t in ts})
    succ = {n: sorted(t for t in graph.get(n, ()) if t != n) for n in nodes}

    # Tarjan's strongly connected components (iterative).
    index, low, on_stack, stack, comps = {}, {}, set(), [], []
    counter = 0
    for start in nodes:
        if start in index:
            continue
        work = [(start, iter(succ[start]))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            v, it = work[-1]
            for w in it:
                if w not in index:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(succ[w])))
                    break
                if w in on_stack:
                    low[v] = min(low[v], index[w])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[v])
                if low[v] == index[v]:
                    comp = []
                    while True:
                        w = stack.pop()
                        on_stack.discard(w)
                        comp.append(w)
                        if w == v:
                            break
                    if len(comp) > 1:
                        comps.append(set(comp))

    cycles = []
    for comp in comps:
        start = min(comp)
        # Shortest path start -> ... -> start inside the component (BFS).
        prev, frontier, end = {}, [start], None
        while frontier and end is None:
            nxt = []
            for v in frontier:
                for w in succ[v]:
                    if w not in comp:
                        continue
                    if w == start:
                        end = v
                        break
                    if w not in prev:
                        prev[w] = v
                        nxt.append(w)
                if end is not None:
                    break
            frontier = nxt
        path = [end]
        while path[-1] != start:
            path.append(prev[path[-1]])
        cycles.append(path[::-1] + [start])
    return sorted(cycles)


def upward_imports(graph, layer=layer_of, packages_set=frozenset()):
    """Imports from a lower layer to a higher one: list of (importer, imported, layer, layer)."""
    bad = []
    for src in sorted(graph):
        ls = layer(src, src in packages_set)
        for dst in sorted(graph[src]):
            ld = layer(dst, dst in packages_set)
            if ld > ls:
                bad.append((src, dst, ls, ld))
    return bad


def _describe_cycle(cycle, graph):
    steps = []
    for a, b in zip(cycle, cycle[1:]):
        line = graph.get(a, {}).get(b) if isinstance(graph.get(a), dict) else None
        steps.append(f"{a} imports {b}" + (f" (line {line})" if line else ""))
    return " -> ".join(cycle) + "\n      " + "\n      ".join(steps)


def _describe_upward(item, graph):
    src, dst, ls, ld = item
    line = graph.get(src, {}).get(dst) if isinstance(graph.get(src), dict) else None
    where = f" (line {line})" if line else ""
    return f"{src} [{ls} {LAYER_NAMES.get(ls, ls)}] imports {dst} [{ld} {LAYER_NAMES.get(ld, ld)}]{where}"


# ---------------------------------------------------------------- the real code


@functools.cache
def _real():
    """``(graph, modules, package names)`` of the repository (read once per session)."""
    graph, modules = build_graph()
    packages = frozenset(name for name, (_, is_pkg) in modules.items() if is_pkg)
    return graph, modules, packages


def test_graph_is_not_empty():
    # Guards against a checker that silently finds nothing to check.
    graph, modules, _ = _real()
    assert {"geo", "sim", "geo.terrain"} <= set(modules), sorted(modules)
    n_edges = sum(len(v) for v in graph.values())
    assert len(modules) >= 10 and n_edges >= 10, (len(modules), n_edges)
    assert any(t.startswith("geo") for ts in graph.values() for t in ts)


def test_every_module_has_a_layer():
    graph, modules, packages = _real()
    problems = []
    for name in sorted(modules):
        try:
            layer_of(name, name in packages)
        except UnknownLayer as e:
            problems.append(str(e))
    assert not problems, "modules without a layer:\n  " + "\n  ".join(problems)


def test_no_import_cycles():
    graph, _, _ = _real()
    cycles = find_cycles(graph)
    assert not cycles, (
        f"{len(cycles)} import cycle(s) among the modules of geo and sim:\n  "
        + "\n  ".join(_describe_cycle(c, graph) for c in cycles)
    )


def test_geo_does_not_import_sim():
    graph, _, _ = _real()
    bad = [f"{src} imports {dst} (line {line})"
           for src in sorted(graph) if src.split(".")[0] == "geo"
           for dst, line in sorted(graph[src].items()) if dst.split(".")[0] == "sim"]
    assert not bad, "geo must not import sim:\n  " + "\n  ".join(bad)


def test_no_upward_imports():
    graph, _, packages = _real()
    bad = upward_imports(graph, layer_of, packages)
    assert not bad, (
        f"{len(bad)} import(s) run upward across layers "
        "(" + " < ".join(f"{k} {v}" for k, v in sorted(LAYER_NAMES.items())) + "):\n  "
        + "\n  ".join(_describe_upward(b, graph) for b in bad)
    )


def _within(module, package):
    return module == package or module.startswith(package + ".")


def never_imports(graph, never=NEVER):
    """Imports that :data:`NEVER` forbids: list of (importer, imported)."""
    return [(src, dst) for src in sorted(graph) for dst in sorted(graph[src])
            for a, b in never if _within(src, a) and _within(dst, b)]


def test_products_never_import_analysis_or_optimise():
    graph, _, _ = _real()
    bad = [f"{src} imports {dst} (line {graph[src][dst]})" for src, dst in never_imports(graph)]
    assert not bad, ("a product draws what it is given; it never imports the analysis or the optimisers:\n  "
                     + "\n  ".join(bad))


def test_optimise_floor():
    # The optimisers' floor: they use the analysis, the core and geo (and one another); nothing below them
    # (geo, the core, the analysis) imports them.
    graph, _, packages = _real()
    optimise = SIM_SUBPACKAGE_LAYERS["optimise"]
    assert {"sim.optimise", "sim.optimise.route", "sim.optimise.placement"} <= set(graph)
    above = [f"{src} imports {dst} (line {graph[src][dst]})" for src in sorted(graph) if _within(src, "sim.optimise")
             for dst in sorted(graph[src]) if layer_of(dst, dst in packages) > optimise]
    assert not above, "the optimisers use the analysis, the core and geo only:\n  " + "\n  ".join(above)
    below = [f"{src} imports {dst} (line {graph[src][dst]})" for src in sorted(graph)
             if layer_of(src, src in packages) < optimise
             for dst in sorted(graph[src]) if _within(dst, "sim.optimise")]
    assert not below, "nothing below the optimisers imports them:\n  " + "\n  ".join(below)


def test_no_other_front_door_imports_the_command_line():
    graph, _, _ = _real()
    bad = [f"{src} imports {dst} (line {graph[src][dst]})" for src, dst in never_imports(graph, FRONT_DOOR_NEVER)]
    assert not bad, "the command line is a front door of its own; no other imports it:\n  " + "\n  ".join(bad)


def test_the_page_runs_through_the_api():
    graph, _, _ = _real()
    assert "sim.api" in {dst for src in graph if _within(src, "sim.serve") for dst in graph[src]}
    bad = [f"{src} imports {dst} (line {graph[src][dst]})" for src, dst in never_imports(graph, PAGE_NEVER)]
    assert not bad, ("the page is a front door like the others: it runs through sim.api (or sim.pipeline), "
                     "never the Monte Carlo, the analysis or the optimisers:\n  " + "\n  ".join(bad))


# ---------------------------------------------------------------- the checker itself


def test_layer_table():
    assert layer_of("geo") == 0
    assert layer_of("geo.terrain") == 0
    assert layer_of("geo.data.rebuild_dem") == 0
    assert layer_of("sim", True) == 1
    for m in ("sim.scenario", "sim.radar", "sim.engine", "sim.results", "sim.brand_new_module"):
        assert layer_of(m) == 1, m
    assert layer_of("sim.analysis", True) == 2
    assert layer_of("sim.analysis.sweep") == 2
    assert layer_of("sim.optimise", True) == 3              # the optimisers: route search, placement
    for m in ("sim.optimise.fieldread", "sim.optimise.route.graph", "sim.optimise.placement.driver"):
        assert layer_of(m) == 3, m
    assert layer_of("sim.optimise.route", True) == layer_of("sim.optimise.placement", True) == 3
    assert layer_of("sim.products", True) == 4
    assert layer_of("sim.products.brief") == 4
    assert layer_of("sim.serve", True) == 5
    assert layer_of("sim.serve.planner") == 5
    for m in ("sim.pipeline", "sim.api", "sim.__main__"):
        assert layer_of(m) == 5, m
    assert layer_of("sim.cli", True) == 5                   # the command line: a module per command
    for m in ("sim.cli.common", "sim.cli.run", "sim.cli.place", "sim.cli.__main__"):
        assert layer_of(m) == 5, m
    assert layer_of("sim.scenario", True) == 1              # the format: its types, reading, limits, keys
    for m in ("sim.scenario.types", "sim.scenario.reading", "sim.scenario.limits", "sim.scenario.keys"):
        assert layer_of(m) == 1, m
    with pytest.raises(UnknownLayer, match="sim.newpkg"):
        layer_of("sim.newpkg", True)
    with pytest.raises(UnknownLayer, match="sim.newpkg"):
        layer_of("sim.newpkg.mod")
    with pytest.raises(UnknownLayer):
        layer_of("numpy")


def test_checker_finds_a_cycle():
    graph = {
        "sim.a": {"sim.b": 1},
        "sim.b": {"sim.c": 1, "geo.x": 2},
        "sim.c": {"sim.a": 3},
        "geo.x": {},
        "sim.d": {"sim.d": 1, "sim.a": 1},  # a self-import is not a cycle
    }
    assert find_cycles(graph) == [["sim.a", "sim.b", "sim.c", "sim.a"]]
    assert "sim.c imports sim.a (line 3)" in _describe_cycle(find_cycles(graph)[0], graph)
    # two separate cycles, one of them a pair (like pipeline <-> products.brief)
    graph2 = {"p": ["q"], "q": ["p"], "x": ["y"], "y": ["z"], "z": ["x", "p"]}
    assert find_cycles(graph2) == [["p", "q", "p"], ["x", "y", "z", "x"]]
    assert find_cycles({"a": ["b"], "b": ["c"], "c": []}) == []


def test_checker_finds_an_upward_import():
    graph = {
        "geo.earth": {"sim.radar": 5},            # geo must not import sim
        "sim.radar": {"geo.earth": 1},
        "sim.products.brief": {"sim.pipeline": 7, "sim.radar": 1},  # products -> front door
        "sim.pipeline": {"sim.products.brief": 2},
        "sim.analysis.sweep": {"sim.analysis": 1, "sim.products.maps": 3, "sim.optimise.route": 4},
        "sim.analysis": {},
        "sim.products.maps": {},
        "sim.optimise.route": {"sim.analysis.sweep": 1, "sim.radar": 2, "geo.earth": 3},   # down: allowed
        "sim.detection": {"sim.optimise.route.graph": 9},       # the core calls an optimiser: upward
        "sim.optimise.route.graph": {},
    }
    bad = upward_imports(graph, layer_of, frozenset({"sim.analysis", "sim.optimise.route"}))
    assert bad == [
        ("geo.earth", "sim.radar", 0, 1),
        ("sim.analysis.sweep", "sim.optimise.route", 2, 3),
        ("sim.analysis.sweep", "sim.products.maps", 2, 4),
        ("sim.detection", "sim.optimise.route.graph", 1, 3),
        ("sim.products.brief", "sim.pipeline", 4, 5),
    ]
    assert _describe_upward(bad[4], graph) == (
        "sim.products.brief [4 products] imports sim.pipeline [5 front doors] (line 7)"
    )
    assert upward_imports({"sim.cli": {"sim.radar": 1, "geo.units": 1}, "sim.radar": {}, "geo.units": {}},
                          layer_of, frozenset({"sim.cli"})) == []


def test_checker_finds_a_never():
    graph = {"sim.products.charts": {"sim.analysis.metrics": 3, "sim.labels": 4},
             "sim.products": {"sim.analysis": 1}, "sim.analysis.metrics": {"sim.labels": 1},
             "sim.productsx": {"sim.analysis": 1},          # a name that only starts like the package
             "sim.products.place": {"sim.optimise.placement": 2, "sim.platforms": 3},
             "sim.optimise.placement": {"sim.analysis": 1}}    # the optimisers may use the analysis
    assert never_imports(graph) == [("sim.products", "sim.analysis"), ("sim.products.charts", "sim.analysis.metrics"),
                                    ("sim.products.place", "sim.optimise.placement")]


def test_checker_finds_a_page_import_of_the_core():
    graph = {"sim.serve.planner": {"sim.api": 1, "sim.montecarlo": 2, "sim.optimise.route": 3,
                                   "sim.analysis.infer": 4, "sim.pipeline": 5, "sim.results": 6},
             "sim.serve.layers": {"sim.products.brief": 1, "sim.walkers": 2}}     # only starts like sim.walk
    assert never_imports(graph, PAGE_NEVER) == [("sim.serve.planner", "sim.analysis.infer"),
                                                ("sim.serve.planner", "sim.montecarlo"),
                                                ("sim.serve.planner", "sim.optimise.route")]


def test_import_resolution():
    known = {"sim", "sim.pipeline", "sim.products", "sim.products.brief", "sim.products.style",
             "sim.radar", "geo", "geo.earth"}
    src = (
        "import numpy\n"
        "from . import style\n"                       # sim.products.style (module)
        "from .. import radar, __version__\n"         # sim.radar (module), sim (name)
        "from geo.earth import EARTH_RADIUS_M\n"      # geo.earth
        "import geo.earth.sub\n"                      # not a module: the longest known prefix
        "def f():\n"
        "    from sim.pipeline import sweep\n"        # inside a function
        "    import os\n"
        "from .brief import x\n"                      # itself: left out
    )
    got = imports_from_source(src, "sim.products.brief", False, known)
    assert got == {"sim.products.style": 2, "sim.radar": 3, "sim": 3, "geo.earth": 4, "sim.pipeline": 7}
    # in a package __init__, "from . import x" is relative to the package itself
    got = imports_from_source("from . import brief\nfrom .style import y\n", "sim.products", True, known)
    assert got == {"sim.products.brief": 1, "sim.products.style": 2}
    with pytest.raises(ImportError):
        imports_from_source("from ... import x\n", "sim.radar", False, known)


# ---------------------------------------------------------------- the view
def render_view(root=ROOT):
    """The import graph by layer, as Markdown (docs/architecture.md is this text)."""
    graph, modules = build_graph(root)
    lines = ["# Architecture: the import graph by layer", "",
             "Generated by `make architecture` (`python tests/test_layers.py`) from the imports of every module;",
             "`tests/test_layers.py` fails on a cycle or an import that runs upward, and on this file being stale.",
             "Each module lists the project modules it imports; a layer imports only its own and lower layers.", ""]
    by_layer = {}
    for name, (_path, is_package) in modules.items():
        by_layer.setdefault(layer_of(name, is_package), []).append(name)
    for layer in sorted(by_layer, reverse=True):
        lines += [f"## {layer}: {LAYER_NAMES[layer]}", ""]
        for name in sorted(by_layer[layer]):
            deps = sorted(graph[name])
            lines.append(f"- `{name}` <- " + (", ".join(f"`{d}`" for d in deps) if deps else "(nothing)"))
        lines.append("")
    return "\n".join(lines)


def test_architecture_doc_is_current():
    doc = ROOT / "docs" / "architecture.md"
    assert doc.read_text(encoding="utf-8") == render_view(), "run `make architecture`"


if __name__ == "__main__":
    print(render_view(), end="")
