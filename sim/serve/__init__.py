"""The planner's page: ``airpicture serve``, an offline what-if page in the browser (a front door).

A local web app (Starlette on uvicorn, the ``serve`` extra: ``pip install
'airpicture[serve]'``) on the loopback address: choose a shipped scenario or
upload one, change what planners change, press Run, and read the headline,
the per-radar table, P(stopped) and the map; sweep one key; compare the
what-ifs tried; download the what-if as a scenario file, the run's files
and the brief; for a scenario with a public record, read what it supports,
unwilling or unable (``airpicture infer``). Every script, style sheet and map layer is shipped in the
package (``static/``: the page, and Leaflet 1.9.4 with its licence; the
Natural Earth borders from :mod:`geo`), so the page works with no internet.

- :mod:`sim.serve.planner`: the what-ifs (no web framework): :class:`Planner`;
- :mod:`sim.serve.controls`: what the page lets a planner change;
- :mod:`sim.serve.layers`: the map of a run as GeoJSON;
- :mod:`sim.serve.app`: the ASGI app and its JSON API;
- :mod:`sim.serve.server`: the socket and uvicorn.

The page calls the same code as the command line: a what-if's headline is
the one ``airpicture run NAME --campaigns N --set KEY=VALUE`` prints.
"""
from sim.serve.app import create_app
from sim.serve.planner import MAX_FLIGHTS, PageError, Planner
from sim.serve.server import bind, is_loopback, make_server, url_of

__all__ = ["Planner", "PageError", "MAX_FLIGHTS", "create_app", "make_server", "bind", "is_loopback", "url_of"]
