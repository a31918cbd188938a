"""A fixed, reproducible sample of a run's flights: what a brief draws, in memory flat in the flights.

The brief maps a hundred tracks, two hundred first detections and fifty
intercepts; it needs those flights, not every flight of a run of millions.
Each flight gets a rank, a uniform drawn from its own addressed stream
(``STREAMS["sample"]``, :mod:`sim.streams`), and each stratum of the run
(detected, undetected, interceptable) keeps the ``k`` flights of lowest
rank (ties broken by campaign, then flight). The lowest ``k`` of a union
are the lowest ``k`` of the parts' lowest ``k``: chunks are sampled where
they run and merged in any order, and the sample is the same whatever the
chunk size, the engine or the number of workers, and the same as the
sample of the whole run's arrays (:meth:`FlightSample.of_flights`).

>>> import numpy as np
>>> from sim.flights import FlightBatch
>>> n = 10
>>> part = {"batch": FlightBatch(np.zeros(n, dtype=np.int64), np.arange(n), np.zeros(n, dtype=np.int64),
...                              np.zeros(n), np.ones(n, dtype=bool)),
...         "detected": np.arange(n) % 2 == 0}
>>> whole = FlightSample.of_flights(part, seed=1, k=3)
>>> halves = [FlightSample.of_flights({"batch": FlightBatch(*(getattr(part["batch"], f)[s] for f in
...           ("campaign", "flight", "route_index", "cross_track_m", "transponder_on"))), "detected": part["detected"][s]},
...           seed=1, k=3) for s in (slice(0, 4), slice(4, 10))]
>>> merged = halves[1].merged(halves[0])
>>> all(np.array_equal(whole.flights(s)["flight"], merged.flights(s)["flight"]) for s in STRATA)
True
"""
from dataclasses import dataclass

import numpy as np

from sim.streams import STREAMS, stream_keys, uniforms_at

__all__ = ["FlightSample", "SAMPLE_PER_STRATUM", "STRATA"]

#: Flights kept per stratum (the brief draws at most 200 of a stratum).
SAMPLE_PER_STRATUM = 256
#: The strata, each sampled on its own: a flight in two strata is in both samples.
STRATA = ("detected", "undetected", "interceptable")
_BATCH_FIELDS = ("campaign", "flight", "route_index", "cross_track_m", "transponder_on")


def _flat(part):
    """The per-flight arrays of a chunk or run (``simulate_chunk``'s dict, or a ``RunResult``'s fields) as
    one dict; the batch's fields by name."""
    get = part.get if isinstance(part, dict) else (lambda k, d=None: getattr(part, k, d))
    out = {f: getattr(get("batch"), f) for f in _BATCH_FIELDS}
    n = len(out["campaign"])
    for k, v in (part.items() if isinstance(part, dict) else
                 ((k, getattr(part, k)) for k in part.__dataclass_fields__)):
        if k != "batch" and isinstance(v, np.ndarray) and v.ndim >= 1 and v.shape[0] == n:
            out[k] = v
    return out


def _lowest(arrays, k):
    """The ``k`` rows of lowest rank (``arrays["rank"]``; ties by campaign, then flight), in that order."""
    order = np.lexsort((arrays["flight"], arrays["campaign"], arrays["rank"]))[:k]
    return {name: a[order] for name, a in arrays.items()}


@dataclass(frozen=True)
class FlightSample:
    """Per stratum, the ``k`` flights of lowest rank: a dict of per-flight arrays each (axis 0 = flight,
    in rank order; ``rank`` is the flight's sample uniform)."""

    k: int
    strata: dict

    @classmethod
    def of_flights(cls, part, seed, k=SAMPLE_PER_STRATUM):
        """The sample of a chunk's or a whole run's per-flight arrays (``simulate_chunk``'s dict or a
        :class:`~sim.montecarlo.RunResult` with its arrays)."""
        flat = _flat(part)
        flat["rank"] = uniforms_at(stream_keys(seed, flat["campaign"].astype(np.uint64),
                                               flat["flight"].astype(np.uint64), STREAMS["sample"]), 0)
        masks = {"detected": flat["detected"], "undetected": ~flat["detected"]}
        if flat.get("interceptable") is not None:
            masks["interceptable"] = flat["interceptable"]
        strata = {}
        for name in STRATA:
            mask = masks.get(name)
            sel = np.zeros(len(flat["rank"]), dtype=bool) if mask is None else np.asarray(mask, dtype=bool)
            strata[name] = _lowest({key: a[sel] for key, a in flat.items()}, k)
        return cls(int(k), strata)

    def merged(self, other):
        """The sample of both (commutative and associative: the lowest ranks of the union)."""
        strata = {}
        for name in STRATA:
            a, b = self.strata[name], other.strata[name]
            keys = [key for key in a if key in b]
            strata[name] = _lowest({key: np.concatenate([a[key], b[key]]) for key in keys}, min(self.k, other.k))
        return FlightSample(min(self.k, other.k), strata)

    def flights(self, stratum):
        """The sampled flights of a stratum: a dict of arrays in rank order."""
        return self.strata[stratum]
