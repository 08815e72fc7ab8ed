"""Spreadsheet-safe CSV: every CSV file the product writes goes through here.

A cell that starts with ``=``, ``+``, ``-``, ``@`` (and ``|``, ``%``) is a formula to Excel and
LibreOffice, so a unit named ``=HYPERLINK(...)`` would run in HR's spreadsheet. The OWASP rule is
to prefix such a cell with ``'``, which a spreadsheet shows as text. The escape itself is
``defusedcsv``'s (it also writes ``|`` as ``\\|`` in an escaped cell, and leaves plain numbers
such as ``-1.5`` alone). Two more first characters are escaped the same way here: tab and carriage
return (also on OWASP's list) and ``'`` itself, so that ``unescape_cell`` can tell an escape it
must undo from text that really starts with a quote. That makes the escape exactly reversible:
``unescape_cell(escape_cell(text)) == text`` for every text, which is what keeps
``export-org`` -> ``import-org`` an exact round trip.

Only text is escaped; numbers, empty cells and the header stay as they were.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any

import pandas as pd
from defusedcsv import csv as defused

QUOTE = "'"
# First characters defusedcsv leaves alone that must still be escaped (see the module docstring).
EXTRA_FIRST_CHARACTERS = (QUOTE, "\t", "\r")
_ESCAPED_PIPE = "\\|"


@lru_cache(maxsize=65_536)
def escape_cell(text: str) -> str:
    """The text as it is written in a spreadsheet-safe cell."""
    if text.startswith(EXTRA_FIRST_CHARACTERS):
        return QUOTE + text.replace("|", _ESCAPED_PIPE)
    buffer = io.StringIO()
    defused.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\n").writerow([text])
    return next(csv.reader(io.StringIO(buffer.getvalue(), newline="")))[0]


def unescape_cell(text: str) -> str:
    """Undo ``escape_cell`` (a cell read from a file this product wrote, or one like it)."""
    if not text.startswith(QUOTE) or len(text) < 2:
        return text
    rest = text[1:]
    if rest.startswith(_ESCAPED_PIPE) or rest[0] in "@+-=%" or rest.startswith(EXTRA_FIRST_CHARACTERS):
        return rest.replace(_ESCAPED_PIPE, "|")
    return text


def _safe(value: Any) -> Any:
    return escape_cell(value) if isinstance(value, str) else value


def write_rows(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """CSV text (``\\n`` line ends) with the header as given and every text cell escaped."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows([_safe(value) for value in row] for row in rows)
    return buffer.getvalue()


def frame_to_csv(frame: pd.DataFrame) -> str:
    """``frame.to_csv(index=False)`` with every text cell escaped; numbers are formatted by pandas
    exactly as before."""
    safe = frame.copy()
    types = pd.api.types
    for column in safe.columns:
        series = safe[column]
        if types.is_numeric_dtype(series) or types.is_datetime64_any_dtype(series):
            continue  # booleans are numeric here; text, categories and mixed columns are not
        safe[column] = series.astype(object).map(_safe)
    return safe.to_csv(index=False)
