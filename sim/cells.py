"""Text cells of CSV files: names are data, never formulas.

A spreadsheet opening a CSV file runs a cell that begins with ``=``, ``+``,
``-`` or ``@`` (and some also after a tab or a carriage return) as a formula:
``=HYPERLINK(...)`` in a route's name would be a link, or worse. OWASP's rule
(CSV Injection): such a cell is written with a single quote in front, which
spreadsheets read as "this is text" and do not show. Numbers are never
touched (``-1234.5`` stays a number), and a text cell that itself begins
with a quote gets one too, so that :func:`cell_text` gives back exactly the
text written, whatever it was.

>>> safe_cell('=HYPERLINK("http://example.com","x")')
'\\'=HYPERLINK("http://example.com","x")'
>>> safe_cell("-1234.5"), safe_cell(-1234.5), safe_cell("Baghdad PSR")
('-1234.5', -1234.5, 'Baghdad PSR')
>>> cell_text(safe_cell("'quoted")) == "'quoted"
True

References
----------
OWASP, "CSV Injection", https://owasp.org/www-community/attacks/CSV_Injection
"""
__all__ = ["safe_cell", "safe_row", "cell_text", "FORMULA_STARTS"]

#: First characters that make a spreadsheet read a cell as a formula (OWASP).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _number(text):
    try:
        float(text)
    except ValueError:
        return False
    return True


def safe_cell(value):
    """A CSV cell that no spreadsheet runs: a text beginning with a formula character (or a quote)
    gets a single quote in front; numbers, and texts that are numbers, are returned as they are."""
    if not isinstance(value, str) or not value or _number(value):
        return value
    if value.startswith(FORMULA_STARTS) or value.startswith("'"):
        return "'" + value
    return value


def safe_row(row):
    """:func:`safe_cell` of every cell of a row (a list)."""
    return [safe_cell(v) for v in row]


def cell_text(cell):
    """The text a :func:`safe_cell` cell holds (its leading quote removed when it has one)."""
    return cell[1:] if isinstance(cell, str) and cell.startswith("'") else cell
