"""What the planner's page lets a planner change, read from a validated scenario.

Each control names the ``--set`` key it writes (:func:`sim.scenario.apply_override`
spellings; a named table's key written by :func:`sim.scenario.table_key`, so that
any legal name is addressable: ``radar["Kirkuk No. 2"].availability``) and its
value in the scenario as the page shows it (text, in the key's unit). The
page sends back only the controls a planner changed, as ``KEY=TEXT``
overrides: the same texts ``airpicture run --set`` takes, read and validated
by the same code.

>>> from sim.pipeline import load
>>> groups = scenario_controls(load("iraq_2012_baseline"))
>>> [g["group"] for g in groups]
['Aircraft', 'Radars', 'Track rule', 'Routes', 'Response']
>>> groups[0]["controls"][0]["key"], groups[0]["controls"][0]["value"]
('aircraft.transponder_on_probability', '1')
"""
from sim.scenario import table_key

__all__ = ["scenario_controls", "number_text", "control_keys"]


def number_text(x):
    """A number as the page shows it: the shortest text that reads back as the same value (12 digits).

    >>> number_text(10100.0), number_text(0.95), number_text(1e-6), number_text(3)
    ('10100', '0.95', '1e-06', '3')
    """
    return format(float(x), ".12g")


def _number(key, label, value, unit="", hint="", integer=False):
    return {"type": "int" if integer else "number", "key": key, "label": label,
            "value": str(int(value)) if integer else number_text(value), "unit": unit, "hint": hint}


def _aircraft(sc):
    a = sc.aircraft
    own = [r.name for r in sc.routes if r.cruise_altitude_m is not None or r.cruise_altitude_agl_m is not None]
    agl = a.cruise_altitude_agl_m is not None
    level = {"type": "level", "key": "aircraft.cruise_altitude_agl_m" if agl else "aircraft.cruise_altitude_m",
             "label": "Cruise level", "modes": {"amsl": "aircraft.cruise_altitude_m",
                                                "agl": "aircraft.cruise_altitude_agl_m"},
             "mode": "agl" if agl else "amsl",
             "value": number_text(a.cruise_altitude_agl_m if agl else a.cruise_altitude_m), "unit": "m",
             "hint": "above mean sea level, or above ground (terrain following)"
                     + (f"; route{'s' if len(own) > 1 else ''} {', '.join(own)} keep{'' if len(own) > 1 else 's'} "
                        "its own level" if own else "")}
    return [_number("aircraft.transponder_on_probability", "Transponder on", a.transponder_on_probability,
                    "probability", "0: every flight dark to secondary radars"),
            level]


def _radars(sc):
    out = []
    for r in sc.radars:
        days = r.mean_outage_s / 86_400.0 if r.mean_outage_s is not None else None
        avail_key, outage_key = (table_key("radar", r.name, f) for f in ("availability", "mean_outage_days"))
        out.append({"type": "radar", "name": r.name, "kind": r.kind.name, "kind_label": r.kind.label,
                    "availability": _number(avail_key, "availability", r.availability),
                    "outage": {"type": "number", "key": outage_key, "label": "outage",
                               "value": "" if days is None else number_text(days), "unit": "days",
                               "hint": "mean outage length (empty: up or down per flight)"}})
    return out


def _detection(sc):
    d = sc.detection
    return [_number("detection.track_m", "Detections", d.track_m, "", "detections needed ...", integer=True),
            _number("detection.track_n", "in scans", d.track_n, "", "... within this many scans", integer=True),
            {"type": "bool", "key": "detection.terrain", "label": "Terrain masking",
             "value": "true" if d.terrain else "false", "unit": "", "hint": "GLOBE elevation model"}]


def _routes(sc):
    return [_number(table_key("route", r.name, "weight"), r.name, r.weight, "weight", "relative share of flights")
            for r in sc.routes]


def _response(sc):
    r = sc.response
    if r is None:
        return []
    out = [_number("response.decision_delay_min", "Decision delay", r.decision_delay_s / 60.0, "min",
                   "from a track in the airspace to the decision"),
           _number("response.will", "Will to act", r.will, "probability",
                   "the state orders a flight held in time to land (and sends interceptors); 1: always")]
    if r.land_airports:
        out.append(_number("response.order_to_land.compliance", "Order to land obeyed", r.compliance, "probability"))
    if sc.interceptors:
        out.append(_number("response.intercept_compliance", "Escort obeyed", r.intercept_compliance, "probability"))
    for i in sc.interceptors:
        out.append(_number(table_key("interceptor", i.name, "ready_min"), f"{i.name} ready", i.ready_s / 60.0, "min",
                           "from the decision to airborne"))
    return out


def scenario_controls(scenario):
    """The page's controls for a scenario: a list of ``{"group": title, "controls": [...]}``.

    A control is a dict with ``type`` (``number``, ``int``, ``bool``,
    ``level`` or ``radar``), ``key`` (the ``--set`` key), ``label``,
    ``value`` (text, in the key's unit), ``unit`` and ``hint``. A ``level``
    also has ``modes`` (``amsl``/``agl`` -> key) and ``mode``; a ``radar``
    has ``name``, ``kind`` and two number controls, ``availability`` and
    ``outage`` (its mean outage in days; empty when the scenario has none).
    Groups without controls are left out.
    """
    groups = [("Aircraft", _aircraft(scenario)), ("Radars", _radars(scenario)),
              ("Track rule", _detection(scenario)), ("Routes", _routes(scenario)),
              ("Response", _response(scenario))]
    return [{"group": name, "controls": controls} for name, controls in groups if controls]


def control_keys(groups):
    """Every ``--set`` key the controls write (a radar's two included, a level's modes both).

    >>> from sim.pipeline import load
    >>> keys = control_keys(scenario_controls(load("iraq_2012_baseline")))
    >>> "radar[Kirkuk PSR].availability" in keys, "aircraft.cruise_altitude_agl_m" in keys
    (True, True)
    """
    keys = []
    for g in groups:
        for c in g["controls"]:
            if c["type"] == "radar":
                keys += [c["availability"]["key"], c["outage"]["key"]]
            elif c["type"] == "level":
                keys += list(c["modes"].values())
            else:
                keys.append(c["key"])
    return keys
