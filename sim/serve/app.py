"""The planner's page as an ASGI app (Starlette): the static page and a small JSON API over a :class:`Planner`.

Endpoints (every answer to bad input is JSON ``{"error": one line, "field": control}`` with a 4xx
status; the server never stops on one):

- ``GET /``: the page, with this server's token in it (``<meta name="airpicture-token">``);
  ``GET /static/...``: its scripts, styles and the vendored Leaflet;
- ``GET /api/info``: version, scenarios offered, limits, the brief's colours;
- ``GET /api/borders``: the packaged Natural Earth borders (GeoJSON);
- ``GET /api/scenario?id=NAME``: a scenario's controls and run size (token);
- ``POST /api/upload`` (the file's bytes as the body, its name in ``X-Filename``): offer a scenario file;
- ``POST /api/run`` ``{"scenario", "overrides": [[key, text], ...], "campaigns", "seed"}``: a what-if;
- ``POST /api/sweep`` ``{... , "key", "values": "0,0.5,1", "metric"}``: a sweep of one key;
- ``POST /api/evade`` ``{... , "budgets_km": "0,100,200", "levels": "cruise"|"low"|"both", "campaigns"}``:
  the red team, the least-detectable routes of the what-if (``airpicture evade``), re-scored;
- ``POST /api/place`` ``{... , "add": 1-3, "like": RADAR, "grid_km": 50}``: the blue team, where more
  copies of a radar go against the fixed flyer (``airpicture place``; the adaptive flyer is the command line's);
- ``POST /api/infer`` ``{... , "samples": 32}``: unwilling or unable, the posterior of will and capability
  from the scenario's public record (``airpicture infer``, :func:`sim.api.infer`);
- ``GET /api/download/RUN/NAME?token=TOKEN``: a run's files (:data:`~sim.serve.planner.DOWNLOADS`), or an
  answer's of unwilling or unable (:data:`~sim.serve.planner.INFER_DOWNLOADS`).

A run, a sweep, a red-team answer and an answer of unwilling or unable carry the ``inputs`` they were computed for
(:meth:`~sim.serve.planner.Planner.inputs`: the scenario and its file's SHA-256, the overrides, campaigns
and seed), against which the page marks what it shows "not run for these inputs" and keeps one Compare
row per distinct run; a run and a scenario's details carry its identity (name, file hash, version:
:meth:`~sim.serve.planner.Planner.identity`), and a run's map layers each radar's state as run
(:mod:`sim.serve.layers`: a radar switched off is drawn as off).

Every endpoint that computes or reads what was uploaded or run (scenario, upload, run, sweep, evade,
place, infer, download) needs this server's token (:data:`TOKEN_HEADER`, or for a download, which a link
makes, the ``token`` query parameter); without it, or with another, the answer is 403 and nothing is
computed. The token is made when the app is (``app.state.token``, :func:`secrets.token_urlsafe`, 256
bits) and reaches the page inside ``GET /``, which another web page can request but never read: a
cross-site ``<img>`` or form cannot start a run or build a brief. The page itself, its static files,
``/api/info`` and ``/api/borders`` stay open: the same for every visitor, cheap, and computing nothing.
JSON bodies are read with bounds (:data:`JSON_MAX_DEPTH` levels, :data:`JSON_MAX_NUMBER_CHARS`
characters a number, no NaN or Infinity): hostile JSON answers 400 in one line.

Nothing on the page loads from another host: the Content-Security-Policy allows this origin only
(and ``data:`` images); requests with another ``Host`` are refused when serving on loopback (a web
page elsewhere cannot reach the API through DNS rebinding), and the API's POSTs need JSON or a
custom header (never a "simple" cross-site request).
"""
import json
import math
import re
import secrets
from importlib.resources import files
from pathlib import Path

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import ClientDisconnect
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from geo.coverage import BORDERS_FILENAME
from sim import __version__
from sim.products.style import COLORS, PALETTE
from sim.scenario import ScenarioError
from sim.serve.planner import (DOWNLOADS, INFER_DOWNLOADS, MAX_SWEEP_VALUES, PLACE_GRID_KM, UPLOAD_MAX_BYTES,
                                PageError)

__all__ = ["create_app", "host_name", "read_json", "STATIC_DIR", "JSON_MAX_BYTES", "JSON_MAX_DEPTH",
           "JSON_MAX_NUMBER_CHARS", "LOOPBACK_HOSTS", "TOKEN_HEADER", "TOKEN_QUERY"]

#: The page's files (index.html, app.js, style.css, leaflet/), shipped in the package.
STATIC_DIR = Path(__file__).resolve().parent / "static"
#: The largest JSON request body [bytes].
JSON_MAX_BYTES = 64 * 1024
#: The deepest nesting of arrays and objects a JSON request may hold.
JSON_MAX_DEPTH = 32
#: The longest number literal a JSON request may hold [characters].
JSON_MAX_NUMBER_CHARS = 100
#: Host names a loopback server answers to.
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
#: The request header that carries the server's token (the page's every fetch).
TOKEN_HEADER = "X-Airpicture-Token"
#: The query parameter that carries it on a download link (a link cannot send a header).
TOKEN_QUERY = "token"
#: The page's placeholder for the token, filled in when ``GET /`` is answered.
_TOKEN_META = '<meta name="airpicture-token" content="">'
#: A JSON string (skipped whole) or a bracket: the tokens the depth check counts.
_JSON_NESTING = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')

_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
                               "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
                               "form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def host_name(header):
    """The host name of a ``Host`` header, without its port (an IPv6 address without brackets).

    >>> host_name("127.0.0.1:8765"), host_name("[::1]:8765"), host_name("LocalHost")
    ('127.0.0.1', '::1', 'localhost')
    """
    h = header.strip().lower()
    if h.startswith("["):
        return h[1:h.find("]")] if "]" in h else h
    return h.split(":")[0]


class _Guard:
    """Pure ASGI middleware: the security headers above on every response and, when ``hosts`` is
    given, a 400 for a request whose ``Host`` is not one of them."""

    def __init__(self, app, hosts=None):
        self.app = app
        self.hosts = None if hosts is None else frozenset(hosts)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                have = {k.lower() for k, _ in message.get("headers", [])}
                extra = [(k.lower().encode(), v.encode()) for k, v in _HEADERS.items()
                         if k.lower().encode() not in have]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        if self.hosts is not None:
            host = dict(scope.get("headers", [])).get(b"host", b"").decode("latin-1")
            if host_name(host) not in self.hosts:
                response = _error(f"Host {host!r}: this server answers only to {', '.join(sorted(self.hosts))}",
                                  None, 400)
                return await response(scope, receive, send_with_headers)
        await self.app(scope, receive, send_with_headers)


def _error(message, field=None, status=400, errors=None):
    body = {"error": str(message), "field": field,
            "errors": [{"field": f, "error": m} for f, m in (errors or [(field, str(message))])]}
    return JSONResponse(body, status_code=status)


async def _body(request, limit, what):
    """The request body, at most ``limit`` bytes (refused with 413 before reading more)."""
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.strip().isdigit():
            raise PageError(f"{what}: bad Content-Length", what)
        if int(declared) > limit:
            raise PageError(f"{what}: {int(declared):,} bytes: at most {limit:,}", what, 413)
    data = bytearray()
    async for chunk in request.stream():
        data += chunk
        if len(data) > limit:
            raise PageError(f"{what}: over {limit:,} bytes: at most {limit:,}", what, 413)
    return bytes(data)


class _Hostile(ValueError):
    """A JSON value the page never sends (a number too long, NaN or Infinity)."""


def _number(kind):
    def parse(text):
        if len(text) > JSON_MAX_NUMBER_CHARS:
            raise _Hostile(f"a number of {len(text):,} characters: at most {JSON_MAX_NUMBER_CHARS}")
        value = kind(text)
        if isinstance(value, float) and not math.isfinite(value):
            raise _Hostile(f"{text[:20]} is not a finite number")
        return value
    return parse


def _constant(name):
    raise _Hostile(f"{name} is not a number JSON allows")


def read_json(text):
    """A JSON document read with bounds: at most :data:`JSON_MAX_DEPTH` levels of arrays and objects
    (counted without recursion before parsing), number literals of at most
    :data:`JSON_MAX_NUMBER_CHARS` characters, finite numbers only (no ``NaN``, ``Infinity``, ``1e999``).
    Raises :class:`PageError` (400, one line) otherwise.

    >>> read_json('{"campaigns": 4, "overrides": [["a", "1"]]}')
    {'campaigns': 4, 'overrides': [['a', '1']]}
    >>> read_json("[" * 33 + "]" * 33)
    Traceback (most recent call last):
    ...
    sim.serve.planner.PageError: request: nested deeper than 32 levels of arrays and objects
    """
    depth = 0
    for m in _JSON_NESTING.finditer(text):
        c = m.group(0)
        if c in "[{":
            depth += 1
            if depth > JSON_MAX_DEPTH:
                raise PageError(f"request: nested deeper than {JSON_MAX_DEPTH} levels of arrays and objects",
                                "request")
        elif c in "]}":
            depth -= 1
    try:
        return json.loads(text, parse_int=_number(int), parse_float=_number(float), parse_constant=_constant)
    except _Hostile as e:
        raise PageError(f"request: {e}", "request") from None
    except json.JSONDecodeError as e:
        raise PageError(f"request: not valid JSON: {e}", "request") from None
    except RecursionError:       # never reached after the depth check; a safety net all the same
        raise PageError("request: nested too deeply", "request") from None


async def _json(request):
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype != "application/json":
        raise PageError("request: send JSON (Content-Type: application/json)", "request", 415)
    data = await _body(request, JSON_MAX_BYTES, "request")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise PageError(f"request: not valid JSON: {e}", "request") from None
    doc = read_json(text)
    if not isinstance(doc, dict):
        raise PageError("request: must be a JSON object", "request")
    return doc


def _has_token(request, token, query=False):
    """Whether a request carries ``token`` (its header, or with ``query`` the ``token`` parameter),
    compared in constant time."""
    given = request.headers.get(TOKEN_HEADER)
    if given is None and query:
        given = request.query_params.get(TOKEN_QUERY)
    return given is not None and secrets.compare_digest(given.encode("utf-8", "replace"), token.encode("ascii"))


def create_app(planner, *, loopback=True):
    """The ASGI app of a :class:`~sim.serve.planner.Planner`, with a token of its own (``app.state.token``).

    ``loopback``: answer only requests addressed to a loopback host name
    (the default bind); False when serving on another address.
    """
    token = secrets.token_urlsafe(32)       # 256 bits, [A-Za-z0-9_-]: safe in an attribute and a URL
    page = (STATIC_DIR / "index.html").read_text(encoding="utf-8")
    if page.count(_TOKEN_META) != 1:
        raise RuntimeError(f"index.html: needs exactly one {_TOKEN_META}")
    page = page.replace(_TOKEN_META, f'<meta name="airpicture-token" content="{token}">')

    async def index(request):
        return HTMLResponse(page)

    async def info(request):
        return JSONResponse({"version": __version__, "scenarios": planner.scenario_list(),
                             "default_scenario": planner.default_scenario(), "max_flights": planner.max_flights,
                             "max_sweep_values": MAX_SWEEP_VALUES, "upload_max_bytes": UPLOAD_MAX_BYTES,
                             "runs_started": planner.runs_started,
                             "downloads": {k: v[1] for k, v in {**DOWNLOADS, **INFER_DOWNLOADS}.items()},
                             "colors": COLORS, "palette": PALETTE})

    async def borders(request):
        path = Path(str(files("geo.data").joinpath(BORDERS_FILENAME)))
        return FileResponse(path, media_type="application/geo+json")

    async def scenario(request):
        return JSONResponse(await run_in_threadpool(planner.describe, request.query_params.get("id", "")))

    async def upload(request):
        name = request.headers.get("x-filename")
        if name is None:
            raise PageError("upload: name the file in the X-Filename header", "upload")
        data = await _body(request, UPLOAD_MAX_BYTES, "upload")
        sid = await run_in_threadpool(planner.upload, name, data)
        return JSONResponse({"id": sid, "scenarios": planner.scenario_list()})

    async def run(request):
        doc = await _json(request)
        out = await run_in_threadpool(planner.run, doc.get("scenario"), doc.get("overrides") or [],
                                      doc.get("campaigns"), doc.get("seed"))
        return JSONResponse(out)

    async def sweep(request):
        doc = await _json(request)
        out = await run_in_threadpool(planner.sweep, doc.get("scenario"), doc.get("overrides") or [],
                                      doc.get("key"), doc.get("values"), doc.get("metric") or "p_detect",
                                      doc.get("campaigns"), doc.get("seed"))
        return JSONResponse(out)

    async def evade(request):
        doc = await _json(request)
        out = await run_in_threadpool(planner.evade, doc.get("scenario"), doc.get("overrides") or [],
                                      doc.get("budgets_km", "0,100,200"), doc.get("levels") or "cruise",
                                      doc.get("campaigns"), doc.get("seed"))
        return JSONResponse(out)

    async def place(request):
        doc = await _json(request)
        out = await run_in_threadpool(planner.place, doc.get("scenario"), doc.get("overrides") or [],
                                      doc.get("add", "1"), doc.get("like"), doc.get("grid_km", PLACE_GRID_KM),
                                      doc.get("against") or "fixed", doc.get("campaigns"), doc.get("seed"))
        return JSONResponse(out)

    async def infer(request):
        doc = await _json(request)
        out = await run_in_threadpool(planner.infer, doc.get("scenario"), doc.get("overrides") or [],
                                      doc.get("samples"), doc.get("campaigns"), doc.get("seed"))
        return JSONResponse(out)

    async def download(request):
        got, media, filename = await run_in_threadpool(planner.download, request.path_params["run_id"],
                                                       request.path_params["name"])
        headers = {"Content-Disposition": f'attachment; filename="{filename}"'}
        if isinstance(got, bytes):
            return Response(got, media_type=media, headers=headers)
        return FileResponse(got, media_type=media, headers=headers)

    async def page_error(request, exc):
        return _error(exc, exc.field, exc.status, exc.errors)

    async def http_error(request, exc):
        return _error(f"{request.method} {request.url.path}: {exc.detail}", None, exc.status_code)

    async def scenario_error(request, exc):   # the planner turns these into PageError; a safety net
        return _error(exc, exc.key, 400)

    async def disconnected(request, exc):
        return Response(status_code=400)

    async def unexpected(request, exc):   # a bug, not bad input: said in one line, the server goes on
        return _error(f"internal error: {type(exc).__name__}: {exc}", None, 500)

    def api(path, endpoint, methods=("GET",), guarded=True, query=False):
        """A route of the API; ``guarded``: 403 before anything else unless the request carries the token
        (``query``: also as the ``token`` parameter, for links)."""
        if not guarded:
            return Route(path, endpoint, methods=list(methods))

        async def checked(request):
            if not _has_token(request, token, query):
                raise PageError(f"{request.url.path}: this server's token is missing or wrong (reload the page "
                                "that this server gave)", "token", 403)
            return await endpoint(request)
        return Route(path, checked, methods=list(methods), name=endpoint.__name__)

    routes = [
        Route("/", index),
        api("/api/info", info, guarded=False), api("/api/borders", borders, guarded=False),
        api("/api/scenario", scenario),
        api("/api/upload", upload, ("POST",)), api("/api/run", run, ("POST",)), api("/api/sweep", sweep, ("POST",)),
        api("/api/evade", evade, ("POST",)), api("/api/place", place, ("POST",)), api("/api/infer", infer, ("POST",)),
        api("/api/download/{run_id}/{name}", download, query=True),
        Mount("/static", app=StaticFiles(directory=STATIC_DIR), name="static"),
    ]
    middleware = [Middleware(_Guard, hosts=LOOPBACK_HOSTS if loopback else None)]
    app = Starlette(routes=routes, middleware=middleware,
                    exception_handlers={PageError: page_error, ScenarioError: scenario_error,
                                        HTTPException: http_error, ClientDisconnect: disconnected,
                                        Exception: unexpected})
    app.state.token = token
    return app
