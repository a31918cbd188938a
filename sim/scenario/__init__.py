"""Scenario files: TOML in, validated frozen dataclasses in SI out (the package of the format).

Every name of the former module ``sim.scenario`` is importable from here, as before.
"""
from sim.scenario.reading import (SEED_MAX, ROUTE_WEIGHT_MAX, RCS_MAX_M2, RCS_MIN_M2, IL76TD_RANGE_M, AIRCRAFT_RANGE_MAX_M, FLIGHT_TIME_MAX_S,
                                  WAYPOINT_SPACING_MIN_M, ROUTE_WAYPOINTS_MAX, ROUTES_MAX, RADARS_MAX, INTERCEPTORS_MAX, ORBIT_WAYPOINTS_MAX,
                                  ORBIT_LOOP_MAX_M, LAND_AIRPORTS_MAX, UNCERTAIN_MAX, SOURCES_MAX, NAME_MAX_CHARS, TITLE_MAX_CHARS,
                                  TEXT_MAX_CHARS, SCAN_PERIOD_MIN_S, REFERENCE_RANGE_MIN_M, SPEED_MIN_MPS, RATE_MIN_MPS, CAMPAIGNS_MAX,
                                  FLIGHTS_MAX, SHIPPED_PACKAGE, shipped_dir, shown_source, ScenarioError, text_refusal, shown_text,
                                  SUGGESTIONS_MAX, SUGGESTION_CUTOFF, closest_spellings, ScenarioInfo, RunConfig, Aircraft, Waypoint, RouteSpec,
                                  PdReference, ResponseSpec, InterceptorSpec, OrbitSpec, RadarSpec, DetectionConfig, DEFAULT_AIRSPACE,
                                  AirspaceConfig, Scenario, AIRCRAFT_MODELS, POLICIES, DEFAULT_ANTENNA_HEIGHT_M, parse_scenario,
                                  uncertainty_variants, SCENARIO_MAX_BYTES, read_toml, load_scenario, KeySegment, table_key, read_key,
                                  split_override, parse_override_value, apply_override, override_key_value, override_text, with_overrides,
                                  with_cruise_level)

__all__ = ['SEED_MAX', 'ROUTE_WEIGHT_MAX', 'RCS_MAX_M2', 'RCS_MIN_M2', 'IL76TD_RANGE_M', 'AIRCRAFT_RANGE_MAX_M',
           'FLIGHT_TIME_MAX_S', 'WAYPOINT_SPACING_MIN_M', 'ROUTE_WAYPOINTS_MAX', 'ROUTES_MAX', 'RADARS_MAX',
           'INTERCEPTORS_MAX', 'ORBIT_WAYPOINTS_MAX', 'ORBIT_LOOP_MAX_M', 'LAND_AIRPORTS_MAX', 'UNCERTAIN_MAX',
           'SOURCES_MAX', 'NAME_MAX_CHARS', 'TITLE_MAX_CHARS', 'TEXT_MAX_CHARS', 'SCAN_PERIOD_MIN_S',
           'REFERENCE_RANGE_MIN_M', 'SPEED_MIN_MPS', 'RATE_MIN_MPS', 'CAMPAIGNS_MAX', 'FLIGHTS_MAX', 'SHIPPED_PACKAGE',
           'shipped_dir', 'shown_source', 'ScenarioError', 'text_refusal', 'shown_text', 'SUGGESTIONS_MAX',
           'SUGGESTION_CUTOFF', 'closest_spellings', 'ScenarioInfo', 'RunConfig', 'Aircraft', 'Waypoint', 'RouteSpec',
           'PdReference', 'ResponseSpec', 'InterceptorSpec', 'OrbitSpec', 'RadarSpec', 'DetectionConfig',
           'DEFAULT_AIRSPACE', 'AirspaceConfig', 'Scenario', 'AIRCRAFT_MODELS', 'POLICIES', 'DEFAULT_ANTENNA_HEIGHT_M',
           'parse_scenario', 'uncertainty_variants', 'SCENARIO_MAX_BYTES', 'read_toml', 'load_scenario', 'KeySegment',
           'table_key', 'read_key', 'split_override', 'parse_override_value', 'apply_override', 'override_key_value',
           'override_text', 'with_overrides', 'with_cruise_level']
