"""Per-flight results as a partitioned Parquet dataset, written where each chunk ran.

Each task of a run writes its chunk's rows as one Parquet file typed by
:data:`sim.results.FLIGHT_COLUMNS`, named by its first campaign, holding
the values its ``flights.csv`` rows read back as, so the dataset read back
equals ``flights.csv`` row for row, whatever the chunking or the engine.
The file is built from the chunk's arrays (:func:`write_flights_part`);
its reference converts the rows' text (:func:`write_part`), and the two
write the same bytes (tested). pyarrow is an optional extra (``airpicture[parquet]``).
"""
import io

import numpy as np

from sim.cells import safe_cell
from sim.response import OUTCOMES
from sim.results import FLIGHT_COLUMNS, flight_header

__all__ = ["write_part", "write_flights_part", "flight_table", "fixed_decimal_values", "part_name",
           "require_pyarrow"]

_ARROW = {"int": "int64", "bool": "bool", "float": "float64", "str": "string"}


def require_pyarrow():
    """Import pyarrow or say how to install it."""
    try:
        import pyarrow  # noqa: F401  (optional extra, imported only when Parquet is asked for)
    except ImportError:
        raise ImportError("Parquet output needs pyarrow: pip install 'airpicture[parquet]'") from None


def part_name(first_campaign):
    """The file of the chunk starting at ``first_campaign`` (names sort in campaign order)."""
    return f"part-{first_campaign:010d}.parquet"


def write_part(path, header, csv_text):
    """Write CSV rows (no header) of the columns ``header`` as one Parquet file at ``path``."""
    require_pyarrow()
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq
    types = {c: pa.type_for_alias(_ARROW[FLIGHT_COLUMNS[c][0]]) for c in header}
    table = pacsv.read_csv(
        io.BytesIO(csv_text.encode("utf-8")),
        read_options=pacsv.ReadOptions(column_names=list(header)),
        convert_options=pacsv.ConvertOptions(column_types=types, strings_can_be_null=True,
                                             null_values=[""], quoted_strings_can_be_null=False),
    ) if csv_text else pa.table({c: pa.array([], type=t) for c, t in types.items()})
    pq.write_table(_names_as_written(table), path)


def fixed_decimal_values(values, decimals):
    """The doubles that the cells ``f"{x:.{decimals}f}"`` of ``values`` read back as (the correctly
    rounded decimal, its sign kept: ``-0.0`` for a small negative), without writing the text.

    A cell's digits are the integer ``k`` nearest to ``|x| * 10**decimals`` (as
    :func:`sim.results.flight_csv_text` writes them); the value read back is the double nearest to
    ``k / 10**decimals``, which is what the division of the exact integer ``k`` by ``10**decimals``
    gives (IEEE division is correctly rounded). Cells on or near a tie, not finite or huge are read
    back from Python's own text, as the CSV's formatter writes them.
    """
    x = np.asarray(values, dtype=np.float64)
    v = np.abs(x)
    scale = 10 ** decimals
    with np.errstate(invalid="ignore", over="ignore"):
        y = v * scale
        frac = y - np.floor(y)
        sure = (y < 2.0 ** 50) & (np.abs(frac - 0.5) > np.maximum(1e-6, y * 2.0 ** -50))
        out = np.copysign(np.where(sure, np.rint(y), 0.0) / scale, x)
    for i in np.flatnonzero(~sure):
        out[i] = float(f"{x[i]:.{decimals}f}")
    return out


def flight_table(sim, part, header=None):
    """A chunk's per-flight rows (``part``: the dict of :func:`sim.montecarlo.simulate_chunk`, or a run's
    per-flight results) as the pyarrow table :func:`write_part` reads from their ``flights.csv`` text,
    value for value, built from the arrays (no text written or parsed): integers and 0/1 cells as they
    are, each float cell the double its fixed decimals read back as (:func:`fixed_decimal_values`;
    empty cells null), names as written (:func:`_names_as_written`), outcomes by their codes."""
    import pyarrow as pa
    get = part.get if isinstance(part, dict) else lambda k: getattr(part, k)
    header = list(flight_header(sim, get("minutes_in_airspace") is not None) if header is None else header)
    b = get("batch")

    def written(name):
        cell = safe_cell(name)
        return cell[1:] if isinstance(cell, str) and cell.startswith("'") else cell

    def text(names, index):
        index = np.asarray(index, dtype=np.int64)
        valid = index >= 0
        taken = pa.array(np.where(valid, index, 0).astype(np.int32), mask=~valid)
        return pa.DictionaryArray.from_arrays(taken, pa.array([written(n) for n in names], pa.string())
                                              ).dictionary_decode()

    def fixed(values, decimals, empty_nan):
        x = np.asarray(values, dtype=np.float64)
        return pa.array(fixed_decimal_values(x, decimals), pa.float64(), mask=np.isnan(x) if empty_nan else None)

    tracked_by = np.asarray(get("tracked_by"))
    columns = {
        "campaign": lambda: pa.array(np.asarray(b.campaign, np.int64)),
        "flight": lambda: pa.array(np.asarray(b.flight, np.int64)),
        "route": lambda: text([r.name for r in sim.routes], b.route_index),
        "detected": lambda: pa.array(np.asarray(get("detected"), bool)),
        "first_detection_s": lambda: fixed(get("first_detection_s"), 1, True),
        "first_radar": lambda: text([r.name for r in sim.radars], get("first_radar")),
        "detected_in_airspace": lambda: pa.array(np.asarray(get("detected_in_airspace"), bool)),
        "minutes_in_airspace": lambda: fixed(get("minutes_in_airspace"), 2, False),
        "minutes_in_coverage": lambda: fixed(get("minutes_in_coverage"), 2, False),
        "transponder_on": lambda: pa.array(np.asarray(b.transponder_on, bool)),
        "cross_track_m": lambda: fixed(b.cross_track_m, 1, False),
        "radars_tracking": lambda: pa.array(tracked_by.sum(axis=1).astype(np.int64)),
        "reaction_window_min": lambda: fixed(get("reaction_window_min"), 1, True),
        "order_feasible": lambda: pa.array(np.asarray(get("order_feasible"), bool)),
        "obeyed": lambda: pa.array(np.asarray(get("obeyed"), bool)),
        "interceptable": lambda: pa.array(np.asarray(get("interceptable"), bool)),
        "outcome": lambda: text(OUTCOMES, get("outcome")),
    }
    return pa.table({c: columns[c]() for c in header})


def write_flights_part(path, sim, part, header=None):
    """Write a chunk's per-flight rows (columns ``header``) as one Parquet file at ``path`` from their
    arrays (:func:`flight_table`): the bytes :func:`write_part` writes from the rows' text (tested)."""
    require_pyarrow()
    import pyarrow.parquet as pq
    pq.write_table(flight_table(sim, part, header), path)


def _names_as_written(table):
    """The names without the quote that keeps a spreadsheet from running them in flights.csv
    (:mod:`sim.cells`): typed data holds them as written, as :func:`sim.api.read_flights` reads them."""
    import pyarrow.compute as pc
    for name in ("route", "first_radar"):
        if name in table.column_names:
            col = table[name]
            fixed = pc.if_else(pc.starts_with(col, "'"), pc.utf8_slice_codeunits(col, 1), col)
            table = table.set_column(table.column_names.index(name), name, fixed)
    return table
