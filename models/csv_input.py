"""Reading an uploaded CSV strictly: the checks every import shares, before any row is interpreted.

A file is refused whole, with every problem located by line (and column, where there is one), when
it is over ``MAX_FILE_BYTES``, is not UTF-8 text, has an empty, unknown, missing or repeated column
name, has a row with more or fewer values than the header, or has a value that is longer than
``MAX_FIELD_CHARACTERS``, holds a control character (NUL, escape, ...; tab is allowed, and a line
break only in a column that takes several lines) or an invisible direction override. A user's value
is never echoed in full: ``quote`` cuts it to ``MAX_QUOTED_CHARACTERS``, and a refusal lists at
most ``MAX_PROBLEMS_SHOWN`` problems, then says how many more there are.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field

from models.csv_safe import unescape_cell
from models.text_rules import unsafe_character

MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_FIELD_CHARACTERS = 10_000
MAX_QUOTED_CHARACTERS = 60
MAX_PROBLEMS_SHOWN = 50
MAX_PROBLEMS_COUNTED = 10_000  # then checking stops: a broken 50 MB file must not fill the memory
MAX_COLUMNS = 200
MAX_ROWS = 200_000  # a bigger import holds too much in memory and the write lock too long: split it
_STOPPED = "checking stopped here"
_BOMS = {
    codecs.BOM_UTF32_LE: "UTF-32",
    codecs.BOM_UTF32_BE: "UTF-32",
    codecs.BOM_UTF16_LE: "UTF-16",
    codecs.BOM_UTF16_BE: "UTF-16",
}
SAVE_AS_UTF8 = "save it as 'CSV UTF-8' and try again"


def quote(value: str) -> str:
    """A user's value as a message may show it: quoted, and cut short if long."""
    if len(value) <= MAX_QUOTED_CHARACTERS:
        return repr(value)
    return f"{value[:MAX_QUOTED_CHARACTERS]!r}... ({len(value):,} characters)"


@dataclass(frozen=True)
class Problem:
    """One reason a file is refused, with where it is (line 1 is the header; 0: the whole file)."""

    line: int
    message: str
    column: str | None = None

    def __str__(self) -> str:
        if not self.line:  # about the whole file: the message is a sentence of its own
            return self.message
        where = f"line {self.line}" + (f", column {self.column}" if self.column else "")
        return f"{where}: {self.message}"


def summarise(problems: Sequence[Problem], heading: str) -> str:
    """``heading`` and the problems in file order, at most ``MAX_PROBLEMS_SHOWN`` of them."""
    stopped = [str(p) for p in problems if p.message.startswith(_STOPPED)]
    ordered = sorted(
        (p for p in problems if not p.message.startswith(_STOPPED)),
        key=lambda p: (p.line, p.column or "", p.message),
    )
    shown = [str(problem) for problem in ordered[:MAX_PROBLEMS_SHOWN]]
    if len(ordered) > MAX_PROBLEMS_SHOWN:
        shown.append(f"... and {len(ordered) - MAX_PROBLEMS_SHOWN} more problems")
    return heading + "\n" + "\n".join([*shown, *stopped])


def enough(problems: list[Problem], line: int) -> bool:
    """True (with a note added) once so many problems are found that checking further is pointless."""
    if len(problems) < MAX_PROBLEMS_COUNTED:
        return False
    if not problems[-1].message.startswith(_STOPPED):
        problems.append(Problem(line, f"{_STOPPED} after {MAX_PROBLEMS_COUNTED:,} problems"))
    return True


def content_hash(text: str) -> str:
    """The SHA-256 of a file's text with line ends and a byte-order mark normalised, so the same
    content saved on Windows or Linux hashes the same."""
    normalised = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n").strip("\n")
    return hashlib.sha256(normalised.encode("utf-8")).hexdigest()


def too_big(size: int) -> Problem | None:
    """The problem with a file of ``size`` bytes, if it is over the limit."""
    if size <= MAX_FILE_BYTES:
        return None
    limit = f"{MAX_FILE_BYTES / 1024 / 1024:g} MB"
    return Problem(
        0, f"the file is too big: the most that can be imported is {limit} (split it into smaller files)"
    )


def decode(data: bytes | str) -> tuple[str, list[Problem]]:
    """The file's text and the problems with reading it: each line that is not UTF-8 (then the text
    has U+FFFD in their place, for the other checks), a UTF-16 or UTF-32 file or one too big
    (then the text is empty)."""
    if isinstance(data, str):
        big = too_big(len(data.encode("utf-8", "surrogatepass")))
        return (data.lstrip("\ufeff"), [big]) if big else (data.lstrip("\ufeff"), [])
    big = too_big(len(data))
    if big:
        return "", [big]
    for bom, name in _BOMS.items():
        if data.startswith(bom):
            return "", [Problem(1, f"the file is {name} text, not UTF-8; {SAVE_AS_UTF8}")]
    try:
        return data.decode("utf-8-sig"), []
    except UnicodeDecodeError:
        pass
    problems: list[Problem] = []
    for number, raw in enumerate(data.split(b"\n"), start=1):
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError as error:
            column = len(raw[: error.start].decode("utf-8", "replace")) + 1
            problems.append(
                Problem(
                    number,
                    f"character {column} (byte 0x{raw[error.start]:02X}) is not UTF-8 text; the "
                    f"file may be Latin-1 or Windows-1252: {SAVE_AS_UTF8}",
                )
            )
            if len(problems) >= MAX_PROBLEMS_SHOWN:
                break
    # The rest of the file is still checked (with U+FFFD for what could not be read), so one run
    # lists every problem; the file is refused all the same.
    return data.decode("utf-8-sig", "replace"), problems


def check_value(value: str, *, multiline: bool = False) -> str | None:
    """Why a single value is refused (too long, a control character), or None."""
    if len(value) > MAX_FIELD_CHARACTERS:
        return f"is {len(value):,} characters long; the most is {MAX_FIELD_CHARACTERS:,}"
    return unsafe_character(value, multiline=multiline)


@dataclass(frozen=True)
class Row:
    """One data row: its first line in the file and its values by column name (stripped)."""

    line: int
    values: dict[str, str]


@dataclass
class Table:
    header: list[str] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)


def width_problem(values: int, columns: int) -> str | None:
    """Why a row cannot be read against its header: more values than columns would be shifted
    or dropped, fewer would leave the reader guessing which are missing."""
    if values != columns:
        return f"has {values} values; the header has {columns} columns"
    return None


def read_table(
    text: str,
    *,
    required: Sequence[str],
    optional: Sequence[str] = (),
    multiline: Collection[str] = (),
    unescape: bool = False,
) -> tuple[Table, list[Problem]]:
    """Rows by column name, and every problem found. Column names are matched trimmed and in any
    case; blank rows are skipped. ``unescape`` undoes ``models.csv_safe``'s spreadsheet escape."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=""))
    table = Table()
    try:
        raw_header = next(reader)
    except StopIteration:
        return table, [Problem(1, "the file is empty; expected the header " + ",".join(required))]
    except csv.Error as error:
        return table, [Problem(1, f"unreadable CSV header ({error})")]
    if len(raw_header) > MAX_COLUMNS:
        return table, [
            Problem(1, f"the header has {len(raw_header):,} columns; at most {MAX_COLUMNS} are expected")
        ]
    names = [cell.strip().lower() for cell in raw_header]
    problems = _header_problems(names, required, optional)
    if problems:
        return table, problems
    table.header = names
    last_line = reader.line_num
    while True:
        first_line = last_line + 1
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as error:
            problems.append(Problem(first_line, _csv_error(error)))
            break
        last_line = reader.line_num
        if enough(problems, first_line):
            break
        if len(table.rows) >= MAX_ROWS:
            problems.append(
                Problem(
                    first_line, f"the file has more than {MAX_ROWS:,} rows; split it into smaller files"
                )
            )
            break
        if not any(cell.strip() for cell in cells):
            continue
        width = width_problem(len(cells), len(names))
        if width:
            problems.append(Problem(first_line, width))
            continue
        values: dict[str, str] = {}
        for name, cell in zip(names, cells, strict=True):
            value = unescape_cell(cell.strip()) if unescape else cell.strip()
            why = check_value(value, multiline=name in multiline)
            if why:
                problems.append(Problem(first_line, why, column=name))
            values[name] = value
        table.rows.append(Row(first_line, values))
    return table, problems


def _csv_error(error: csv.Error) -> str:
    if "field larger than field limit" in str(error):
        return f"a value is longer than {MAX_FIELD_CHARACTERS:,} characters (the rest was not read)"
    return f"unreadable CSV ({str(error)[:MAX_QUOTED_CHARACTERS]}); the rest was not read"


def column_name_problems(names: Sequence[str], *, unnamed_first: bool = False) -> list[str]:
    """What is wrong with a header's names, in plain words: unsafe characters, a column with no
    name (the first may have none when ``unnamed_first``: a table's id column), a repeated name.
    One rule for every file the product reads."""
    problems: list[str] = []
    seen: dict[str, int] = {}
    for position, name in enumerate(names, start=1):
        why = check_value(name)
        if why:
            problems.append(f"column {position} {why}")
        elif not name and not (unnamed_first and position == 1):
            problems.append(f"column {position} has no name")
        elif name in seen:
            problems.append(f"column {quote(name)} appears twice (columns {seen[name]} and {position})")
        else:
            seen[name] = position
    return problems


def _header_problems(
    names: list[str], required: Sequence[str], optional: Sequence[str]
) -> list[Problem]:
    problems = [Problem(1, why) for why in column_name_problems(names)]
    seen = list(dict.fromkeys(name for name in names if name and not check_value(name)))
    missing = [name for name in required if name not in seen]
    known = set(required) | set(optional)
    unknown = [name for name in seen if name not in known]
    if missing:
        problems.append(Problem(1, f"missing column(s) {', '.join(missing)}"))
    if unknown:
        allowed = ", ".join([*required, *optional])
        problems.append(
            Problem(
                1,
                f"unknown column(s) {', '.join(name[:MAX_QUOTED_CHARACTERS] for name in unknown[:10])} "
                f"(the columns are {allowed[:400]})",
            )
        )
    return problems
