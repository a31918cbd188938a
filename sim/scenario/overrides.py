"""A validated scenario changed by overrides: ``--set KEY=VALUE`` texts (:func:`with_overrides`), one cruise
level for every route (:func:`with_cruise_level`), and each end of each declared ``[uncertainty]`` range
(:func:`uncertainty_variants`). Each is read, applied and validated as a scenario file is.
"""
import copy

from sim.scenario.fields import _CRUISE_AGL_SPELLINGS, _CRUISE_AMSL_SPELLINGS
from sim.scenario.keys import _drop_other_spellings, apply_override, override_text
from sim.scenario.messages import ScenarioError
from sim.scenario.reading import parse_scenario

__all__ = ["with_overrides", "with_cruise_level", "uncertainty_variants"]


def uncertainty_variants(scenario, applicable_only=False):
    """The scenario at each end of each declared ``[uncertainty]`` range, checked against it now.

    Returns one ``(key, low, high, scenario at low, scenario at high)`` per
    input, in the file's order; each variant is ``scenario`` (its what-if
    overrides included) with ``--set KEY=VALUE``. A range that does not
    apply to the scenario (a key it does not have, a value it refuses)
    raises :class:`ScenarioError` naming ``[uncertainty]``, or with
    ``applicable_only`` is left out (the brief's tornado of a what-if).
    """
    out = []
    for key, low, high in scenario.uncertainty:
        variants = []
        for value in (low, high):
            try:
                variants.append(with_overrides(scenario, [override_text(key, value)]))
            except ScenarioError as e:
                if applicable_only:
                    break
                why = f"{e.key}: {e.message}" if e.key and e.key != key else e.message
                raise ScenarioError(scenario.path, f"uncertainty.{key}",
                                    f"the [uncertainty] range [{low!r}, {high!r}] does not apply to this scenario"
                                    f"{' with its --set overrides' if scenario.overrides else ''} at {value!r}: "
                                    f"{why}") from None
        if len(variants) == 2:
            out.append((key, low, high, *variants))
    return tuple(out)


def with_overrides(scenario, overrides):
    """A new validated scenario: ``scenario`` with ``KEY=VALUE`` overrides applied (and added to its
    :attr:`~Scenario.overrides`)."""
    doc = copy.deepcopy(scenario.raw)
    for text in overrides:
        apply_override(doc, text, source=scenario.path)
    return parse_scenario(doc, source=scenario.path, overrides=(*scenario.overrides, *overrides))


def with_cruise_level(scenario, altitude_m=None, agl_m=None):
    """The scenario with every route cruising at one level, validated.

    Give ``altitude_m`` (above mean sea level) or ``agl_m`` (above the
    ground: terrain following). The routes' own cruise levels are dropped,
    so the aircraft's applies to all. The scenario's overrides are kept and
    this change is not added to them: a point of the altitude curve is not
    a what-if of the user's.
    """
    if (altitude_m is None) == (agl_m is None):
        raise ValueError("give exactly one of altitude_m and agl_m")
    doc = copy.deepcopy(scenario.raw)
    for table in doc.get("route", []):
        for k in (*_CRUISE_AMSL_SPELLINGS, *_CRUISE_AGL_SPELLINGS):
            table.pop(k, None)
    aircraft = doc.setdefault("aircraft", {})
    key, value = ("cruise_altitude_m", altitude_m) if agl_m is None else ("cruise_altitude_agl_m", agl_m)
    _drop_other_spellings(aircraft, key)
    aircraft[key] = float(value)
    return parse_scenario(doc, source=scenario.path, overrides=scenario.overrides)
