"""Per-flight results as a partitioned Parquet dataset, written where each chunk ran.

Each task of a run converts its chunk's ``flights.csv`` rows (formatted as
the CSV holds them) to one Parquet file typed by
:data:`sim.results.FLIGHT_COLUMNS`, named by its first campaign, so the
dataset read back equals ``flights.csv`` row for row, whatever the chunking
or the engine. pyarrow is an optional extra (``airpicture[parquet]``).
"""
import io

from sim.results import FLIGHT_COLUMNS

__all__ = ["write_part", "part_name", "require_pyarrow"]

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
