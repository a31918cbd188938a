"""Counter-based random numbers: every draw of a run is addressed, not consumed.

A uniform is a pure function of ``(seed, campaign, flight, stream,
counter)``: the SplitMix64 output function (Steele, Lea and Flood 2014)
applied to a key hashed from the first four and stepped by the counter with
the generator's golden-ratio increment. So, for one key, the counters
0, 1, 2, ... give exactly the SplitMix64 sequence (which passes BigCrush),
and different keys give sequences starting at hashed, unrelated points.

Why addresses instead of one generator per campaign: the draw of scan
``k`` of radar ``j`` for flight ``f`` of campaign ``c`` is the same number
whoever computes it, in whatever order, in whatever block: the exact
per-scan path and the fast path that starts at a flight's first covered
scan and stops at its track read the same uniforms; chunks, workers and
engines never change results; a later feature adds a stream without
shifting any other draw; and draws are vectorized over flights and scans,
with no Python loop per campaign.

Streams in use (:data:`STREAMS`): per flight, the route, the sideways
offset, the transponder, each radar's availability, scan phase and orbit
phase, whether the crew obeys an order to land and whether it obeys an
escort, whether the state acts on a flight it holds in track in time
(``[response] will``), and the rank of the flight in the brief's sample (:mod:`sim.sample`;
it changes no outcome); per flight, radar and scan, the detection draw. Campaign-level
draws (one per campaign, e.g. a campaign's transponder policy or a
radar's outage calendar) use ``flight = CAMPAIGN``.

>>> u = uniforms(2012, 0, 0, STREAMS["route"], 0)
>>> 0.0 < float(u) < 1.0
True
>>> bool(uniforms(2012, 5, 3, 7, 11) == uniforms(2012, 5, 3, 7, 11))
True

References
----------
G. L. Steele, D. Lea, C. H. Flood, "Fast splittable pseudorandom number
generators", OOPSLA 2014, 453-472 (SplitMix64).
"""
import numpy as np

__all__ = ["uniforms", "stream_keys", "flight_keys", "keys_of_streams", "uniforms_at", "STREAMS", "CAMPAIGN",
           "RADAR_STREAM_BASE"]

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_K_CAMPAIGN = np.uint64(0xD1B54A32D192ED03)
_K_FLIGHT = np.uint64(0xAEF17502108EF2D9)
_K_STREAM = np.uint64(0xDB4F0B9175AE2165)

#: Stream numbers of the per-flight draws; the per-radar ones add the radar's index times 1,000.
STREAMS = {"route": 1, "offset": 2, "transponder": 3, "up": 4, "scan_phase": 5, "orbit_phase": 6, "scan": 7,
           "comply": 8, "escort": 9, "sample": 10, "will": 11}
#: Per-radar streams are ``STREAMS[name] + RADAR_STREAM_BASE * (1 + radar index)``.
RADAR_STREAM_BASE = 1000
#: The ``flight`` of campaign-level draws.
CAMPAIGN = 2**32 - 1


def _mix(z):
    """SplitMix64's output function (a bijection of uint64), in place on a fresh array."""
    z ^= z >> np.uint64(30)
    z *= _M1
    z ^= z >> np.uint64(27)
    z *= _M2
    z ^= z >> np.uint64(31)
    return z


def stream_keys(seed, campaign, flight, stream):
    """The 64-bit key of each ``(seed, campaign, flight, stream)`` (broadcast), as uint64."""
    return keys_of_streams(flight_keys(seed, campaign, flight), stream)


def flight_keys(seed, campaign, flight):
    """What every stream of a ``(seed, campaign, flight)`` shares of its key (broadcast, uint64): a chunk
    hashes its flights once and each stream from there (:func:`keys_of_streams`), the same bits as
    :func:`stream_keys`."""
    with np.errstate(over="ignore"):
        k = _mix(np.asarray(seed, dtype=np.uint64) * _GOLDEN + _GOLDEN)
        k = _mix(k + np.asarray(campaign, dtype=np.uint64) * _K_CAMPAIGN)
        return _mix(k + np.asarray(flight, dtype=np.uint64) * _K_FLIGHT)


def keys_of_streams(flight_key, stream):
    """The keys of streams ``stream`` from :func:`flight_keys` (broadcast): ``stream_keys`` in two steps."""
    with np.errstate(over="ignore"):
        return _mix(np.asarray(flight_key, dtype=np.uint64) + np.asarray(stream, dtype=np.uint64) * _K_STREAM)


def uniforms_at(keys, counter):
    """Uniforms in (0, 1) at ``counter`` of the streams ``keys`` (from :func:`stream_keys`), broadcast.

    53 random bits, offset by half a step so that 0 and 1 never occur.
    """
    with np.errstate(over="ignore"):
        z = _mix(np.asarray(keys, dtype=np.uint64) + (np.asarray(counter, dtype=np.uint64) + np.uint64(1)) * _GOLDEN)
    return ((z >> np.uint64(11)).astype(np.float64) + 0.5) * (1.0 / 9007199254740992.0)


def uniforms(seed, campaign, flight, stream, counter):
    """The uniform in (0, 1) at address ``(seed, campaign, flight, stream, counter)``, broadcast."""
    return uniforms_at(stream_keys(seed, campaign, flight, stream), counter)
