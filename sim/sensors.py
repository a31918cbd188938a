"""Radar kinds: what a kind of radar needs from a target, in one table.

A radar is a sensor (a kind, a range, a scan period, a per-scan Pd) on a
platform (:mod:`sim.platforms`). Code that treats kinds differently asks
the kind's properties here, never compares kind names.

>>> RADAR_KINDS["secondary"].needs_transponder
True
>>> RADAR_KINDS["primary"].skin_return
True
"""
from dataclasses import dataclass

__all__ = ["RadarKind", "RADAR_KINDS"]


@dataclass(frozen=True)
class RadarKind:
    """One kind of radar.

    Attributes
    ----------
    name : str
        The scenario spelling (``kind = "primary"``).
    needs_transponder : bool
        It sees only flights whose transponder is on (secondary radar: the
        target replies to interrogations).
    skin_return : bool
        It sees the target's echo (primary radar): its Pd may follow from a
        reference target through the radar equation and the Swerling cases.
    label : str
        For legends and tables.
    """

    name: str
    needs_transponder: bool
    skin_return: bool
    label: str


#: The kinds a scenario may name, by their spelling.
RADAR_KINDS = {
    "primary": RadarKind("primary", needs_transponder=False, skin_return=True, label="primary radar (skin return)"),
    "secondary": RadarKind("secondary", needs_transponder=True, skin_return=False,
                           label="secondary radar (transponder reply)"),
}
