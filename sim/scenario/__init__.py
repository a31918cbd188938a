"""Scenario files: TOML in, validated frozen dataclasses in SI out.

Everything a scenario file can say is checked once, at load: unknown keys, missing keys, units, ranges,
airport codes. Errors raise :class:`ScenarioError` naming the file and the key path
(``radar[Baghdad PSR].scan_period_s: must be > 0``; by index when a table has no name). The format is
specified in ``docs/scenario-format.md`` and explained in ``scenarios/README.md``.

The package, by concern (each name below is importable from ``sim.scenario`` itself):

- :mod:`sim.scenario.types`: the format's types, the validated scenario's frozen dataclasses
  (:class:`Scenario`, :class:`RadarSpec`, :class:`RouteSpec`, ...) and the built-in aircraft;
- :mod:`sim.scenario.reading`: reading and validation (:func:`load_scenario`, :func:`parse_scenario`), with
  :mod:`sim.scenario.fields` (each table's keys, their spellings, units and bounds), :mod:`sim.scenario.tomlfile`
  (the file read safely) and :mod:`sim.scenario.messages` (:class:`ScenarioError`, names and text shown safely,
  "did you mean");
- :mod:`sim.scenario.limits`: the numeric limits (``SEED_MAX``, ``ROUTES_MAX``, ...) and the checks of a
  route's spacing and reach and of a radar's equation;
- :mod:`sim.scenario.keys`: the override key language (:func:`read_key`, :func:`split_override`,
  :func:`table_key`, :func:`apply_override`), and :mod:`sim.scenario.overrides`: a validated scenario with
  overrides (:func:`with_overrides`, :func:`with_cruise_level`, :func:`uncertainty_variants`).
"""
from sim.scenario.fields import DEFAULT_ANTENNA_HEIGHT_M, POLICIES
from sim.scenario.tomlfile import read_toml
from sim.scenario.keys import (KeySegment, apply_override, override_key_value, override_text, parse_override_value,
                               read_key, split_override, table_key)
from sim.scenario.limits import (AIRCRAFT_RANGE_MAX_M, CAMPAIGNS_MAX, FLIGHT_TIME_MAX_S, FLIGHTS_MAX, IL76TD_RANGE_M,
                                 INTERCEPTORS_MAX, LAND_AIRPORTS_MAX, NAME_MAX_CHARS, ORBIT_LOOP_MAX_M,
                                 ORBIT_WAYPOINTS_MAX, RADARS_MAX, RATE_MIN_MPS, RCS_MAX_M2, RCS_MIN_M2,
                                 REFERENCE_RANGE_MIN_M, ROUTE_WAYPOINTS_MAX, ROUTE_WEIGHT_MAX, ROUTES_MAX,
                                 SCAN_PERIOD_MIN_S, SCENARIO_MAX_BYTES, SEED_MAX, SOURCES_MAX, SPEED_MIN_MPS,
                                 TEXT_MAX_CHARS, TITLE_MAX_CHARS, UNCERTAIN_MAX, WAYPOINT_SPACING_MIN_M)
from sim.scenario.messages import (SHIPPED_PACKAGE, SUGGESTION_CUTOFF, SUGGESTIONS_MAX, ScenarioError,
                                   closest_spellings, shipped_dir, shown_source, shown_text, text_refusal)
from sim.scenario.overrides import uncertainty_variants, with_cruise_level, with_overrides
from sim.scenario.reading import load_scenario, parse_scenario
from sim.scenario.types import (AIRCRAFT_MODELS, DEFAULT_AIRSPACE, Aircraft, AirspaceConfig, DetectionConfig,
                                InterceptorSpec, OrbitSpec, PdReference, RadarSpec, ResponseSpec, RouteSpec, RunConfig,
                                Scenario, ScenarioInfo, Waypoint)

__all__ = [
    # reading and validation, messages
    "load_scenario", "parse_scenario", "read_toml", "ScenarioError", "SHIPPED_PACKAGE", "shipped_dir",
    "shown_source", "shown_text", "text_refusal", "SUGGESTIONS_MAX", "SUGGESTION_CUTOFF", "closest_spellings",
    # the format's types
    "ScenarioInfo", "RunConfig", "Aircraft", "Waypoint", "RouteSpec", "PdReference", "OrbitSpec", "ResponseSpec",
    "InterceptorSpec", "RadarSpec", "DetectionConfig", "AirspaceConfig", "Scenario", "AIRCRAFT_MODELS",
    "DEFAULT_AIRSPACE", "POLICIES", "DEFAULT_ANTENNA_HEIGHT_M",
    # the override key language; a validated scenario with overrides
    "KeySegment", "read_key", "split_override", "table_key", "apply_override", "parse_override_value",
    "override_text", "override_key_value", "with_overrides", "with_cruise_level", "uncertainty_variants",
    # limits
    "SEED_MAX", "CAMPAIGNS_MAX", "FLIGHTS_MAX", "ROUTE_WEIGHT_MAX", "RCS_MAX_M2", "RCS_MIN_M2", "IL76TD_RANGE_M",
    "AIRCRAFT_RANGE_MAX_M", "FLIGHT_TIME_MAX_S", "WAYPOINT_SPACING_MIN_M", "ROUTE_WAYPOINTS_MAX", "ROUTES_MAX",
    "RADARS_MAX", "INTERCEPTORS_MAX", "ORBIT_WAYPOINTS_MAX", "ORBIT_LOOP_MAX_M", "LAND_AIRPORTS_MAX",
    "UNCERTAIN_MAX", "SOURCES_MAX", "NAME_MAX_CHARS", "TITLE_MAX_CHARS", "TEXT_MAX_CHARS", "SCAN_PERIOD_MIN_S",
    "REFERENCE_RANGE_MIN_M", "SPEED_MIN_MPS", "RATE_MIN_MPS", "SCENARIO_MAX_BYTES",
]
