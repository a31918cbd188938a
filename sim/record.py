"""The public record of a scenario: what happened, period by period (``[[record]]``).

A record confronts the simulator with events. Each period has dates, a
number of flights (a range or a named distribution: the record says
"almost daily", not a count) and the counts it reports of what the state
did: ``ordered_to_land`` (the state acted on the flight: ordered it to land,
or sent interceptors where one could reach it), ``searched`` or
``stopped`` (the flight landed on that order and was inspected: one event
in the model, :data:`STOPPED` outcomes). Every value carries its
``source``; ``assumed = true`` marks one that no source gives.

.. code-block:: toml

    [[record]]
    name = "July 2012 - February 2013"
    start = 2012-07-01
    end = 2013-02-27
    flights = {per_day = [0.5, 1.0], distribution = "daily", source = "Reuters 2012-09-20", assumed = true}
    ordered_to_land = {count = 2, source = "Reuters 2012-10-02; 2012-10-27"}
    searched = {count = 2, source = "LA Times 2013-02-27"}

:func:`parse_record` checks a document's ``record`` value once (unknown keys,
dates, inverted ranges, counts that cannot be) and returns frozen
:class:`RecordPeriod` objects; :meth:`FlightCount.pmf` gives the number of
flights of a period as a probability mass function. No I/O here: the
scenario loader (:mod:`sim.scenario`) calls it and names the file in its
message.

>>> import datetime
>>> periods = parse_record([{"name": "p", "start": datetime.date(2012, 7, 1), "end": datetime.date(2012, 7, 10),
...                          "flights": [4, 6], "searched": {"count": 1, "source": "a report"}}])
>>> periods[0].days, periods[0].flights.pmf(periods[0].days)[0].tolist()
(10, [4, 5, 6])
"""
import datetime
import math
from dataclasses import dataclass

import numpy as np

__all__ = ["RecordError", "FlightCount", "Observation", "RecordPeriod", "parse_record", "OBSERVED_KINDS",
           "FLIGHT_DISTRIBUTIONS", "RECORD_PERIODS_MAX", "RECORD_FLIGHTS_MAX", "RECORD_DAYS_MAX"]

#: What a period may report, in the model's order: the state acted (an order to land, or an interceptor
#: sent), then the flight landed on it (searched and stopped are the same event of the model: give one).
OBSERVED_KINDS = ("ordered_to_land", "searched", "stopped")
#: How a period's number of flights is spread over its range, by name: ``uniform`` (every whole number of
#: the ``count`` range equally likely; with ``per_day``, the rate is uniform and the count is the rate times
#: the days, rounded), ``daily`` (each day of the period has a flight with probability p, p uniform over
#: the ``per_day`` range: Binomial(days, p) mixed over p).
FLIGHT_DISTRIBUTIONS = ("uniform", "daily")
#: Most periods of a record (each is one will of the state, inferred with the others).
RECORD_PERIODS_MAX = 20
#: The most flights of one period (the likelihood sums over every count of its range).
RECORD_FLIGHTS_MAX = 100_000
#: The longest period [days] (27 years: a record is of months).
RECORD_DAYS_MAX = 10_000
#: Longest text of a period's name [characters] and of a source.
_NAME_MAX_CHARS = 80
_TEXT_MAX_CHARS = 2_000


class RecordError(ValueError):
    """A record value is invalid: ``key`` (``record[NAME].searched.count``) and ``message``."""

    def __init__(self, key, message):
        super().__init__(f"{key}: {message}")
        self.key = key
        self.message = message


@dataclass(frozen=True)
class FlightCount:
    """How many flights a period had: whole numbers from ``low`` to ``high``, or a daily rate.

    ``per_day`` False: ``low``/``high`` are counts (equal for a fixed count); True: rates per day [1/day]
    applied to the period's days. ``distribution`` is one of :data:`FLIGHT_DISTRIBUTIONS`.
    """

    low: float
    high: float
    per_day: bool = False
    distribution: str = "uniform"
    source: str = ""
    assumed: bool = False

    def pmf(self, days):
        """``(counts, probabilities)``: the number of flights of a period of ``days`` days, as a mass function.

        ``uniform`` over counts: every whole number of the range; over ``per_day``: the rate uniform on
        its range, the count the rate times ``days`` rounded to the nearest whole number (each count's
        share of the rate range). ``daily``: Binomial(days, p) with p uniform on the ``per_day`` range,
        whose mass at n is (I_high(n+1, days-n+1) - I_low(n+1, days-n+1)) / ((days+1) (high-low)), I the
        regularized incomplete beta function (a fixed p where the range is one value).
        """
        if not self.per_day:
            n = np.arange(int(self.low), int(self.high) + 1)
            return n, np.full(len(n), 1.0 / len(n))
        lo, hi = self.low, self.high
        if self.distribution == "daily":
            n = np.arange(0, days + 1)
            if hi == lo:
                from scipy.stats import binom
                p = binom.pmf(n, days, lo)
            else:
                from scipy.special import betainc    # scipy.special loads when used (0.15 s at start-up)
                p = (betainc(n + 1.0, days - n + 1.0, hi) - betainc(n + 1.0, days - n + 1.0, lo)) / (
                    (days + 1.0) * (hi - lo))
            keep = p > 1e-15 * p.max()
            first, last = np.flatnonzero(keep)[[0, -1]]
            n, p = n[first:last + 1], p[first:last + 1]
            return n, p / p.sum()
        a, b = lo * days, hi * days
        n = np.arange(int(math.floor(a + 0.5)), int(math.floor(b + 0.5)) + 1)
        if b == a:
            return n, np.ones(len(n))
        edges_lo, edges_hi = np.maximum(n - 0.5, a), np.minimum(n + 0.5, b)
        p = np.clip(edges_hi - edges_lo, 0.0, None)
        keep = p > 0
        return n[keep], p[keep] / p[keep].sum()


@dataclass(frozen=True)
class Observation:
    """A count the record reports for a period: ``kind`` (one of :data:`OBSERVED_KINDS`), ``count``, its
    ``source`` and whether it is an assumption."""

    kind: str
    count: int
    source: str
    assumed: bool = False


@dataclass(frozen=True)
class RecordPeriod:
    """One period of the record: a name, dates (inclusive), the flights and the counts observed."""

    name: str
    start: datetime.date
    end: datetime.date
    flights: FlightCount
    observations: tuple    # Observation per kind reported, in the order of OBSERVED_KINDS
    notes: str = ""

    @property
    def days(self):
        """Days of the period, both ends counted."""
        return (self.end - self.start).days + 1

    def observed(self, kind):
        """The :class:`Observation` of ``kind``, or None when the period does not report it."""
        return next((o for o in self.observations if o.kind == kind), None)

    @property
    def landed(self):
        """The observation of flights that landed on the order (``searched`` or ``stopped``), or None."""
        return self.observed("searched") or self.observed("stopped")


_PERIOD_KEYS = ("name", "start", "end", "flights", "notes", *OBSERVED_KINDS)
_COUNT_KEYS = ("count", "source", "assumed")
_FLIGHT_KEYS = ("count", "per_day", "distribution", "source", "assumed")


def _suggest(key, known):
    import difflib
    close = difflib.get_close_matches(key, known, n=3, cutoff=0.6)
    return f" (did you mean {', '.join(close)}?)" if close else f" (known: {', '.join(known)})"


def _text(value, key, limit):
    if not isinstance(value, str) or not value.strip():
        raise RecordError(key, "must be a non-empty string")
    if len(value) > limit:
        raise RecordError(key, f"{len(value):,} characters: at most {limit:,}")
    if any(ord(c) < 32 or 127 <= ord(c) < 160 for c in value):
        raise RecordError(key, "holds a control character")
    return value


def _date(value, key):
    if isinstance(value, datetime.datetime) or isinstance(value, datetime.time):
        raise RecordError(key, f"must be a date (write {key.rsplit('.', 1)[-1]} = 2012-07-01), not a time")
    if not isinstance(value, datetime.date):
        raise RecordError(key, f"must be a TOML date such as 2012-07-01 (no quotes), got {value!r}")
    return value


def _number(value, key, lo=None, hi=None, integer=False):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (integer and not isinstance(value, int)):
        raise RecordError(key, f"must be {'a whole number' if integer else 'a number'}, got {value!r}")
    if not math.isfinite(value):
        raise RecordError(key, "must be finite")
    if lo is not None and value < lo:
        raise RecordError(key, f"must be >= {lo:,}")
    if hi is not None and value > hi:
        raise RecordError(key, f"must be <= {hi:,}")
    return value


def _range(value, key, lo, hi, integer):
    """``value`` as ``(low, high)``: a number (both ends) or ``[low, high]`` with low <= high."""
    if isinstance(value, list):
        if len(value) != 2:
            raise RecordError(key, f"must be [low, high], got {len(value)} values")
        a = _number(value[0], f"{key}[0]", lo, hi, integer)
        b = _number(value[1], f"{key}[1]", lo, hi, integer)
        if b < a:
            raise RecordError(key, f"the range [{a}, {b}] is inverted: write [{b}, {a}]")
        return a, b
    a = _number(value, key, lo, hi, integer)
    return a, a


def _assumed(table, key):
    value = table.get("assumed", False)
    if not isinstance(value, bool):
        raise RecordError(f"{key}.assumed", f"must be true or false, got {value!r}")
    return value


def _flights(value, key, days):
    """A period's ``flights``: a count, ``[min, max]``, or a table with ``count`` or ``per_day``."""
    if not isinstance(value, dict):
        low, high = _range(value, key, 0, RECORD_FLIGHTS_MAX, True)
        return FlightCount(low, high)
    for k in value:
        if k not in _FLIGHT_KEYS:
            raise RecordError(f"{key}.{k}", "unknown key" + _suggest(k, _FLIGHT_KEYS))
    if ("count" in value) == ("per_day" in value):
        raise RecordError(key, "give either count = N or [min, max], or per_day = [min, max] (a rate per day)")
    distribution = value.get("distribution", "uniform")
    if distribution not in FLIGHT_DISTRIBUTIONS:
        raise RecordError(f"{key}.distribution", f"must be one of {', '.join(map(repr, FLIGHT_DISTRIBUTIONS))}, "
                                                 f"got {distribution!r}")
    source = _text(value["source"], f"{key}.source", _TEXT_MAX_CHARS) if "source" in value else ""
    if "count" in value:
        if distribution != "uniform":
            raise RecordError(f"{key}.distribution", f"{distribution!r} applies to per_day only")
        low, high = _range(value["count"], f"{key}.count", 0, RECORD_FLIGHTS_MAX, True)
        return FlightCount(low, high, False, distribution, source, _assumed(value, key))
    low, high = _range(value["per_day"], f"{key}.per_day", 0, RECORD_FLIGHTS_MAX / max(days, 1), False)
    if distribution == "daily" and high > 1:
        raise RecordError(f"{key}.per_day", f"with distribution = \"daily\" a rate is a probability per day: "
                                            f"at most 1, got {high}")
    return FlightCount(float(low), float(high), True, distribution, source, _assumed(value, key))


def _observation(kind, value, key):
    if not isinstance(value, dict):
        raise RecordError(key, "must be a table {count = N, source = \"...\"} (assumed = true for an assumption)")
    for k in value:
        if k not in _COUNT_KEYS:
            raise RecordError(f"{key}.{k}", "unknown key" + _suggest(k, _COUNT_KEYS))
    if "count" not in value:
        raise RecordError(f"{key}.count", "missing")
    if "source" not in value:
        raise RecordError(f"{key}.source", "missing: say where the count comes from (and assumed = true when "
                                           "no source gives it)")
    count = _number(value["count"], f"{key}.count", 0, RECORD_FLIGHTS_MAX, True)
    return Observation(kind, int(count), _text(value["source"], f"{key}.source", _TEXT_MAX_CHARS),
                       _assumed(value, key))


def _period_key(table, i):
    name = table.get("name") if isinstance(table, dict) else None
    if isinstance(name, str) and name.strip() and len(name) <= _NAME_MAX_CHARS and '"' not in name \
            and not any(c in name for c in "[]"):
        return f"record[{name}]"
    return f"record[{i}]"


def parse_record(value):
    """Validate a scenario document's ``record`` value (a list of tables; None: no record).

    Returns a tuple of :class:`RecordPeriod` in the file's order; raises :class:`RecordError` naming the
    key (``record[April 2013].searched.count``) on anything it cannot take: an unknown key, a date that
    is not a TOML date, an end before the start, an inverted range, a period reporting no count, more
    landed than ordered, more of either than flights, periods that overlap or share a name.
    """
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise RecordError("record", "must be an array of tables: write [[record]]")
    if len(value) > RECORD_PERIODS_MAX:
        raise RecordError("record", f"{len(value):,} periods: at most {RECORD_PERIODS_MAX}")
    periods = []
    for i, t in enumerate(value):
        p = _period_key(t, i)
        for k in t:
            if k not in _PERIOD_KEYS:
                raise RecordError(f"{p}.{k}", "unknown key" + _suggest(k, _PERIOD_KEYS))
        for k in ("name", "start", "end", "flights"):
            if k not in t:
                raise RecordError(f"{p}.{k}", "missing")
        name = _text(t["name"], f"{p}.name", _NAME_MAX_CHARS)
        start, end = _date(t["start"], f"{p}.start"), _date(t["end"], f"{p}.end")
        if end < start:
            raise RecordError(f"{p}.end", f"{end.isoformat()} is before the start, {start.isoformat()}")
        days = (end - start).days + 1
        if days > RECORD_DAYS_MAX:
            raise RecordError(f"{p}.end", f"the period is {days:,} days long: at most {RECORD_DAYS_MAX:,}")
        flights = _flights(t["flights"], f"{p}.flights", days)
        obs = tuple(_observation(k, t[k], f"{p}.{k}") for k in OBSERVED_KINDS if k in t)
        if not obs:
            raise RecordError(p, f"reports no count: give one of {', '.join(OBSERVED_KINDS)}")
        if "searched" in t and "stopped" in t:
            raise RecordError(f"{p}.stopped", "searched and stopped are one event of the model (the flight "
                                              "landed on the order): give one")
        notes = _text(t["notes"], f"{p}.notes", _TEXT_MAX_CHARS) if "notes" in t else ""
        period = RecordPeriod(name, start, end, flights, obs, notes)
        highest = int(flights.pmf(days)[0][-1])
        for o in obs:
            if o.count > highest:
                raise RecordError(f"{p}.{o.kind}.count", f"{o.count} is more than the period's flights "
                                                         f"(at most {highest})")
        ordered, landed = period.observed("ordered_to_land"), period.landed
        if ordered is not None and landed is not None and landed.count > ordered.count:
            raise RecordError(f"{p}.{landed.kind}.count", f"{landed.count} landed is more than the "
                                                          f"{ordered.count} ordered to land")
        periods.append(period)
    names = [q.name for q in periods]
    for i, q in enumerate(periods):
        if names.index(q.name) != i:
            raise RecordError(f"{_period_key(value[i], i)}.name", f"{q.name!r} names two periods")
    order = sorted(range(len(periods)), key=lambda k: periods[k].start)
    for a, b in zip(order, order[1:]):
        if periods[b].start <= periods[a].end:
            raise RecordError(f"{_period_key(value[b], b)}.start",
                              f"overlaps the period {periods[a].name!r} (to {periods[a].end.isoformat()}): a "
                              "flight belongs to one period")
    return tuple(periods)
