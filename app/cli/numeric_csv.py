"""Reading a numeric table from elsewhere (``wellbeing strain --features``, ``wellbeing drivers
--table``): a spreadsheet export, often hand-made, sometimes hostile.

The file-level rules are the imports' (``models.csv_input``: a size limit, UTF-8 only, no control
characters, at most ``MAX_COLUMNS`` columns); beyond them this module reads what councils' and
public tables actually contain, so a good file is not refused for its dialect:

- the delimiter a spreadsheet in a European locale writes (``;``, with ``,`` as the decimal
  mark) or a tab, sniffed from the header;
- numbers written as percentages (``45%`` is 45) or with a Unicode minus;
- the markers published statistics put in place of a suppressed or missing value (``*``,
  ``[c]``, ``[x]``, ``..``, ``-``; ``SUPPRESSED_MARKERS``), read as blanks.

Anything else that is not a number is refused by the caller with the column and the row.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import numpy as np
import pandas as pd

from models.csv_input import (
    check_value,
    column_name_problems,
    decode,
    quote,
    summarise,
    too_big,
    width_problem,
)

#: Read as a blank cell (in any case): what official statistics print for a value withheld or not
#: available, and what a spreadsheet writes for a formula with no value.
SUPPRESSED_MARKERS: frozenset[str] = frozenset(
    {"*", "**", "-", "–", "—", "..", ".", ":", "x", "[c]", "[x]", "[z]", "[low]", "[u]", "#"}
    | {"na", "n/a", "nan", "null", "none", "#n/a", "inf", "-inf", "infinity", "-infinity"}
    | {"#div/0!", "#value!", "#ref!", "#num!", "#name?", "#null!"}
)
#: More columns than any team-level table has; a wider file is refused before it is parsed.
MAX_COLUMNS = 1000
_DECIMAL_COMMA = re.compile(r"^[+-]?\d+,\d+$")
_DELIMITERS = ",;\t"


def read_numeric_csv(path: Path, *, id_column: bool = True) -> tuple[pd.DataFrame, bool]:
    """The file as a table of strings (blanks and suppression markers as missing), and whether
    its numbers use a decimal comma. ``id_column``: the first column names the rows (a team's
    code may be "NA" or "-"), so only a blank there is missing. Raises ValueError saying what is
    wrong with the file."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise ValueError(f"no such file: {path}") from None
    except OSError as error:
        raise ValueError(f"{path} cannot be read: {error.strerror}") from None
    big = too_big(size)
    if big is not None:
        raise ValueError(f"{path}: {big.message}")
    try:
        data = path.read_bytes()
    except OSError as error:  # a folder, no permission
        raise ValueError(f"{path} cannot be read: {error.strerror}") from None
    text, problems = decode(data)
    if problems:
        raise ValueError(summarise(problems, f"{path} is not a readable CSV file:"))
    if not text.strip():
        raise ValueError(f"{path} is empty")
    header_line = text.splitlines()[0]
    delimiter = _sniff(header_line)
    header = next(csv.reader([header_line], delimiter=delimiter))
    _check_header(header, id_column=id_column)
    _check_row_widths(text, delimiter, len(header))
    try:
        table = pd.read_csv(
            io.StringIO(text),
            sep=delimiter,
            dtype=str,
            keep_default_na=False,  # "NA" may be a team's code: markers are read below, not here
            skipinitialspace=True,
            skip_blank_lines=True,
        )
    except (pd.errors.ParserError, csv.Error) as error:
        raise ValueError(f"{path} is not a readable CSV file: {str(error)[:200]}") from None
    for column in table.columns:
        for row, value in enumerate(table[column].fillna("")):
            why = check_value(str(value))
            if why:
                raise ValueError(f"column {quote(str(column))}, line {row + 2}: {why}")
    table = table.apply(lambda c: c.fillna("").astype(str).str.strip())
    values = table.columns[1:] if id_column else table.columns
    if id_column:
        table[table.columns[0]] = table[table.columns[0]].replace("", None)
    blank = table[values].apply(lambda c: c.str.lower().isin(SUPPRESSED_MARKERS) | (c == ""))
    table[values] = table[values].mask(blank)
    decimal_comma = delimiter == ";" and any(
        table[c].dropna().astype(str).str.match(_DECIMAL_COMMA).any() for c in values
    )
    return table, decimal_comma


def to_number(values: pd.Series, *, decimal_comma: bool = False) -> pd.Series:
    """Numbers from strings: a trailing ``%`` dropped (45% is 45), a Unicode minus read as ``-``,
    a decimal comma read as a point when the file uses one; the rest (and infinities) NaN."""
    text = values.astype("string").str.strip().str.replace("\u2212", "-", regex=False)
    text = text.str.replace(r"\s*%$", "", regex=True)
    if decimal_comma:
        text = text.where(
            ~text.str.match(_DECIMAL_COMMA, na=False), text.str.replace(",", ".", regex=False)
        )
    numbers = pd.to_numeric(text, errors="coerce").astype(float)
    return numbers.where(np.isfinite(numbers))  # "inf" is no measurement


def _sniff(header: str) -> str:
    try:
        return csv.Sniffer().sniff(header, delimiters=_DELIMITERS).delimiter
    except csv.Error:
        return ","


def _check_row_widths(text: str, delimiter: str, columns: int) -> None:
    """Refuse the first row whose number of values is not the header's: pandas would silently
    take a first row with one value too many as an index and shift every column under it."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    last_line = 0
    try:
        for cells in reader:
            first_line, last_line = last_line + 1, reader.line_num
            if first_line == 1 or not any(cell.strip() for cell in cells):
                continue
            why = width_problem(len(cells), columns)
            if why:
                raise ValueError(f"line {first_line}: {why}")
    except csv.Error as error:
        raise ValueError(f"line {last_line + 1}: not readable as CSV ({error})") from None


def _check_header(names: list[str], *, id_column: bool) -> None:
    if len(names) > MAX_COLUMNS:
        raise ValueError(f"the header has {len(names):,} columns; at most {MAX_COLUMNS} are read")
    problems = column_name_problems([name.strip() for name in names], unnamed_first=id_column)
    if problems:
        raise ValueError(f"the header: {problems[0]}")
