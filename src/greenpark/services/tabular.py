"""Tables in and out, with one set of limits: every upload (Excel or CSV) is opened here and every
workbook greenpark writes is saved here.

In: the file's size, an .xlsx file's unpacked size (a 0.5 MB zip can hold gigabytes of XML), the
number of rows and columns, each cell's length and characters are checked before any row reaches
a service; the first ``MAX_REPORTED_ERRORS`` bad cells are listed, the rest counted. XML is parsed
by defusedxml when openpyxl finds it (no entity expansion).

Out: text that a spreadsheet would take for a formula (``= + - @``, tab, carriage return) is
written as text, and characters a workbook cannot hold are dropped, so an exported note can never
run as a formula nor break an export.

Between the two: an import workbook's sheets and columns (:class:`SheetSpec`, :class:`Col`) — what
each column holds, for the instructions sheet, and how each cell is checked
(:func:`read_checked_sheets`); :func:`write_spec_sheet` writes such a sheet back.

The limits are stated in ``docs/security.md``.
"""

from __future__ import annotations

import csv
import io
import re
import threading
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, ClassVar

from greenpark.i18n import N_, Msg

#: Largest file accepted for import.
MAX_UPLOAD_BYTES = 20 * 1024 * 1024
#: Largest total unpacked size of an .xlsx file's parts.
MAX_UNPACKED_BYTES = 200 * 1024 * 1024
#: Most parts in an .xlsx file.
MAX_PARTS = 2_000
#: Workbooks parsed at once in the process (one per core of the 2-core target machine): a parse may
#: take a few hundred MiB while it runs, so eight uploads at once wait their turn instead of taking
#: the server's memory (the issue-13 probe: eight 195 KB bombs took 3 GiB).
PARSE_SLOTS = threading.BoundedSemaphore(2)
#: Most data rows in one file (all sheets together).
MAX_ROWS = 200_000
#: Most columns of a sheet.
MAX_COLUMNS = 200
#: Longest cell, in characters (Excel's own limit).
MAX_CELL_CHARS = 32_767
#: Bad cells listed in a refusal; the rest are counted.
MAX_REPORTED_ERRORS = 100

_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class CellError:
    """One bad cell: where it is and why it is refused."""

    file: str
    sheet: str
    row: int
    column: str
    reason: str

    def __str__(self) -> str:
        return str(self.message())

    def message(self) -> Msg:
        """Where and why, as a message for any language."""
        if not self.row and not self.column:
            return Msg("{file}: {reason}", file=self.file, reason=self.reason)
        if not self.column:
            return Msg("{file}, row {row}: {reason}", file=self.file, row=self.row, reason=self.reason)
        if self.sheet:
            return Msg("{file}, sheet {sheet}, row {row}, column {column}: {reason}", file=self.file,
                       sheet=self.sheet, row=self.row, column=self.column, reason=self.reason)  # fmt: skip
        return Msg("{file}, row {row}, column {column}: {reason}", file=self.file, row=self.row,
                   column=self.column, reason=self.reason)  # fmt: skip


#: What the columns of greenpark's files hold, for people (the file's own header is shown beside).
COLUMN_LABELS: dict[str, str] = {
    "entity": N_("Entity"), "year": N_("Year"), "month": N_("Month"), "sector": N_("Sector"),
    "boundary": N_("Boundary"), "carrier": N_("Energy carrier"), "quantity": N_("Quantity"), "unit": N_("Unit"),
    "energy_tce": N_("Standard coal (tce)"), "tce_basis": N_("Conversion basis"), "source_ref": N_("Data source"),
    "quality": N_("Data quality"), "note": N_("Note"), "indicator": N_("Indicator"),
    "value_10k_yuan": N_("Value (10⁴ yuan)"), "price_basis": N_("Price basis"), "enterprise": N_("Enterprise"),
    "code": N_("Code"), "name": N_("Name"), "medium": N_("Medium"), "latitude": N_("Latitude"),
    "longitude": N_("Longitude"), "receiving_water": N_("Receiving water"), "river": N_("River"),
    "river_km": N_("River km"), "discharge_rule": N_("Discharge"), "outlet": N_("Outlet"), "mn": N_("MN"),
    "pw": N_("PW"), "edition": N_("HJ 212 edition"), "maker": N_("Maker"), "model": N_("Model"),
    "limit_value": N_("Limit"), "limit_standard": N_("Standard of the limit"),
    "pre_alarm_ratio": N_("Pre-alarm ratio"), "use_zs": N_("Judge the converted value"), "is_flow": N_("Flow"),
    "flat_line_readings": N_("Flat-line readings"), "number": N_("Permit number"), "management": N_("Management class"),
    "issuer": N_("Issuer"), "valid_from": N_("Valid from"), "valid_to": N_("Valid to"), "role": N_("Role"),
    "phone": N_("Phone"), "email": N_("E-mail"), "section": N_("Section"), "km": N_("km"),
    "target_class": N_("Target class"), "water_body": N_("Water body"), "parent": N_("Flows into"),
    "confluence_km": N_("Confluence km"), "date": N_("Date"), "item": N_("Item"), "value": N_("Value"),
    "period": N_("Period"), "leq_db": N_("Leq dB(A)"), "point": N_("Point"), "time": N_("Time"),
    "source": N_("Source"), "land_mu": N_("Land (mu)"), "kind": N_("Kind"), "status": N_("Status"),
    # the park onboarding workbook's (services/portfolio/onboarding.py)
    "province": N_("Province"), "grid_region": N_("Grid region"), "area_km2": N_("Area (km²)"),
    "parameter": N_("Parameter"), "uscc": N_("Unified social credit code"), "industry_code": N_("Industry code"),
    "land_area_mu": N_("Land area (mu)"), "tags": N_("Tags"), "target": N_("Target"), "group_seq": N_("Task group no."),
    "action_seq": N_("Action no."), "action": N_("Plan action"), "measure_seq": N_("Measure no."), "measure": N_("Measure"),
    "departments": N_("Departments"), "group": N_("Task group"), "noise_zone_class": N_("Noise zone class"),
    "data_note": N_("Data note"), "table": N_("Table"), "title": N_("Title"), "row": N_("Row"), "column": N_("Column"),
}  # fmt: skip
#: Fields of the records that keep a history (services/park/audit) beyond the files' columns.
COLUMN_LABELS |= {
    "seq": N_("No."), "name_zh": N_("Name (Chinese)"), "name_en": N_("Name (English)"), "direction": N_("Direction"),
    "method": N_("Method"), "department": N_("Department"), "baseline_year": N_("Baseline year"),
    "baseline_value": N_("Baseline value"), "baseline_text": N_("Baseline as the plan writes it"),
    "basis_note": N_("Data basis"), "flag": N_("Flag"), "comparator": N_("Comparison"), "text": N_("Text"),
    "task_group": N_("Task group"), "owner": N_("Owner"), "cycle_text": N_("Cycle"), "content": N_("Content"),
    "benefit": N_("Benefit"), "cycle_years": N_("Cycle (years)"), "investment_text": N_("Investment as the plan writes it"),
    "investment_10k_yuan": N_("Investment (10⁴ yuan)"), "planned_start": N_("Planned start"),
    "planned_end": N_("Planned end"), "percent": N_("Percent complete"), "spent_10k_yuan": N_("Spent (10⁴ yuan)"),
    "last_update": N_("Last report"), "actual_start": N_("Actual start"), "actual_end": N_("Actual end"),
    "effect": N_("Expected effect"), "tax_10k_yuan": N_("Tax (10⁴ yuan)"), "output_10k_yuan": N_("Output (10⁴ yuan)"),
    "in_production": N_("In production"), "zone": N_("Zone"), "location": N_("Location"), "area_mu": N_("Area (mu)"),
    "since": N_("Since"), "disposed_on": N_("Disposed on"), "disposal_plan": N_("Disposal plan"),
    "area_ha": N_("Area (ha)"), "volume_m3_per_ha": N_("Growing stock (m³/ha)"),
    "harvest_m3_per_yr": N_("Harvest (m³/yr)"), "disturbed_ha_per_yr": N_("Disturbed area (ha/yr)"),
    "disturbance_fraction": N_("Disturbance loss fraction"), "methodology": N_("Methodology"),
    "crediting_start": N_("Crediting start"), "crediting_end": N_("Crediting end"),
    "estimated_tco2_per_yr": N_("Estimated removals (tCO₂/yr)"), "period_end": N_("Period end"),
    "estimated_tco2": N_("Estimated removals (tCO₂)"), "verified_tco2": N_("Verified removals (tCO₂)"),
    "issued_credits_tco2": N_("Credits issued (tCO₂)"), "retired_credits_tco2": N_("Credits retired (tCO₂)"),
    "verifier": N_("Verifier"), "source_table": N_("Source table"),
}  # fmt: skip


def column_label(column: str) -> Msg | str:
    """What a column holds, as a message (its own name when greenpark has no label for it)."""
    return Msg(COLUMN_LABELS[column]) if column in COLUMN_LABELS else column


class TableRejected(Exception):
    """A file was refused and nothing was imported; ``errors`` lists the bad cells (the first
    ``MAX_REPORTED_ERRORS``, then one line counting the rest)."""

    def __init__(self, errors: list[CellError]) -> None:
        total = len(errors)
        if total > MAX_REPORTED_ERRORS:
            first = errors[0]
            errors = [*errors[:MAX_REPORTED_ERRORS],
                      CellError(first.file, "", 0, "", Msg("… and {more} more errors (the first {listed} are listed)",
                                                           more=total - MAX_REPORTED_ERRORS, listed=MAX_REPORTED_ERRORS))]  # fmt: skip
        self.errors = errors
        self.total = total
        super().__init__(f"{total} error(s); nothing imported: " + "; ".join(str(e) for e in errors[:5]))


@dataclass
class Sheet:
    """A sheet's header (stripped text) and its non-empty rows as (row number, values)."""

    title: str
    header: list[str]
    rows: list[tuple[int, tuple[Any, ...]]] = field(default_factory=list)

    def records(self) -> list[tuple[int, dict[str, Any]]]:
        """Rows as (row number, {column: value}) for the named columns."""
        return [(i, {h: v for h, v in zip(self.header, vals, strict=False) if h}) for i, vals in self.rows]


def _reject(filename: str, reason: Msg, exc: type[TableRejected], row: int = 0) -> TableRejected:
    return exc([CellError(filename, "", row, "", reason)])


def _mib(n: int) -> str:
    return f"{n / (1 << 20):.0f} MiB"


def check_size(filename: str, content: bytes, exc: type[TableRejected] = TableRejected) -> None:
    if len(content) > MAX_UPLOAD_BYTES:
        raise _reject(
            filename, Msg("file larger than {limit} (the import limit)", limit=_mib(MAX_UPLOAD_BYTES)), exc
        )


def read_sheets(filename: str, content: bytes, exc: type[TableRejected] = TableRejected) -> list[Sheet]:
    """Every sheet of an .xlsx file, or the one table of a .csv file (UTF-8, or GB 18030 as
    Excel saves it in China), checked against the limits; raises ``exc`` naming what is wrong."""
    check_size(filename, content, exc)
    suffix = Path(filename).suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        sheets = _xlsx(filename, content, exc)
    elif suffix == ".csv":
        sheets = [_csv(filename, content, exc)]
    elif suffix == ".xls":
        raise _reject(filename, Msg("the old .xls format cannot be read: save the file as .xlsx"), exc)
    else:
        raise _reject(filename, Msg("only .xlsx and .csv files can be imported"), exc)
    errors: list[CellError] = []
    for sh in sheets:
        for row_no, vals in sh.rows:
            for col, v in enumerate(vals):
                if isinstance(v, str):
                    reason = cell_problem(v)
                    if reason:
                        name = sh.header[col] if col < len(sh.header) and sh.header[col] else _letter(col)
                        errors.append(CellError(filename, sh.title, row_no, name, reason))
    if errors:
        raise exc(errors)
    return sheets


def cell_problem(text: str) -> str | None:
    """Why a text cell is refused (too long, a control character), or None."""
    if len(text) > MAX_CELL_CHARS:
        return Msg("longer than {limit} characters", limit=MAX_CELL_CHARS)
    bad = _ILLEGAL.search(text)
    if bad:
        code = "U+%04X" % ord(bad.group())  # noqa: UP031 - kept out of the message call for the extractor
        return Msg("control character {char} not allowed", char=code)
    return None


def _letter(col: int) -> str:
    from openpyxl.utils import get_column_letter

    return str(get_column_letter(col + 1))


def _xlsx(filename: str, content: bytes, exc: type[TableRejected]) -> list[Sheet]:
    with PARSE_SLOTS:
        return _xlsx_parsed(filename, content, exc)


def _xlsx_parsed(filename: str, content: bytes, exc: type[TableRejected]) -> list[Sheet]:
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as z:
            parts = z.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        raise _reject(filename, Msg("not a readable Excel file (not an .xlsx package)"), exc) from None
    unpacked = sum(p.file_size for p in parts)
    if len(parts) > MAX_PARTS or unpacked > MAX_UNPACKED_BYTES:
        raise _reject(
            filename,
            Msg("the workbook unpacks to {size} in {parts} parts; the limit is {limit} in {max_parts} parts",
                size=_mib(unpacked), parts=len(parts), limit=_mib(MAX_UNPACKED_BYTES), max_parts=MAX_PARTS),
            exc,
        )  # fmt: skip
    from openpyxl import load_workbook

    try:
        wb = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as exc_:
        raise _reject(
            filename, Msg("not a readable Excel file ({error})", error=exc_.__class__.__name__), exc
        ) from None
    out: list[Sheet] = []
    total = 0
    try:
        for ws in wb.worksheets:
            it = ws.iter_rows(values_only=True)
            first = next(it, None)
            if first is None:
                continue
            header = [_header(h) for h in first]
            while header and not header[-1]:
                header.pop()
            if len(header) > MAX_COLUMNS:
                raise _reject(
                    filename,
                    Msg("sheet {sheet}: more than {limit} columns", sheet=ws.title, limit=MAX_COLUMNS),
                    exc,
                    1,
                )
            sheet = Sheet(ws.title, header)
            for i, vals in enumerate(it, start=2):
                if vals is None or all(v is None or (isinstance(v, str) and not v.strip()) for v in vals):
                    continue
                total += 1
                if total > MAX_ROWS:
                    raise _reject(
                        filename,
                        Msg("more than {limit} rows (the import limit); split the file", limit=MAX_ROWS),
                        exc,
                        i,
                    )
                sheet.rows.append((i, tuple(vals[:MAX_COLUMNS])))
            out.append(sheet)
    except TableRejected:
        raise
    except Exception as exc_:
        raise _reject(
            filename, Msg("not a readable Excel file ({error})", error=exc_.__class__.__name__), exc
        ) from None
    finally:
        wb.close()
    return out


def _header(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v).strip()


def decode_text(filename: str, content: bytes, exc: type[TableRejected] = TableRejected) -> str:
    """A text file's content: UTF-8 (with or without BOM) or GB 18030 (Excel's "CSV" in China)."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise _reject(filename, Msg("CSV files must be UTF-8 (or GB 18030) text"), exc)


def _csv(filename: str, content: bytes, exc: type[TableRejected]) -> Sheet:
    text = decode_text(filename, content, exc)
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [h.strip() for h in next(reader, [])]
        if len(header) > MAX_COLUMNS:
            raise _reject(filename, Msg("more than {limit} columns", limit=MAX_COLUMNS), exc, 1)
        sheet = Sheet("", header)
        for vals in reader:
            if not any(v.strip() for v in vals):
                continue
            if len(sheet.rows) >= MAX_ROWS:
                raise _reject(
                    filename,
                    Msg("more than {limit} rows (the import limit); split the file", limit=MAX_ROWS),
                    exc,
                    reader.line_num,
                )
            sheet.rows.append((reader.line_num, tuple(vals[:MAX_COLUMNS])))
    except csv.Error as e:
        raise _reject(
            filename, Msg("not a readable CSV file ({error})", error=str(e)), exc, reader.line_num
        ) from None
    return sheet


# --------------------------------------------------------------------- checked sheets


#: What a code may be: it names a park, a zone or a record in addresses and commands.
CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


@dataclass(frozen=True)
class Col:
    """A column of an import sheet: its name, what it holds (for the instructions) and how a cell
    is checked. ``kind``: text | code | int | number | date | choice | info (for reading, never
    imported), or an importer's own (a subclass's :meth:`convert`)."""

    name: str
    help: str
    kind: str = "text"
    required: bool = False
    max_len: int = 200
    lo: float | None = None
    hi: float | None = None
    choices: tuple[str, ...] = ()

    #: The kinds whose text is not held to ``max_len``.
    free_length: ClassVar[frozenset[str]] = frozenset({"int", "number", "date"})

    def check(self, raw: Any, fail: Callable[[str], None]) -> Any:
        """The cell's value as stored, or None (with ``fail`` called) when it is refused."""
        if self.kind == "info":
            return None
        t = cell_text(raw)
        problem = cell_problem(t) if t else None
        if problem:
            fail(problem)
            return None
        if not t:
            if self.required:
                fail(Msg("is required"))
            return None
        if len(t) > self.max_len and self.kind not in self.free_length:
            fail(Msg("is longer than {n} characters", n=self.max_len))
            return None
        return self.convert(t, fail)

    def convert(self, t: str, fail: Callable[[str], None]) -> Any:
        """A non-empty cell's text as a value of the column's kind, or None (with ``fail`` called)."""
        if self.kind in ("int", "number"):
            try:
                x = float(t.replace(",", ""))
            except ValueError:
                fail(Msg("{value} is not a number", value=repr(t)))
                return None
            if x != x or (self.lo is not None and x < self.lo) or (self.hi is not None and x > self.hi):
                fail(Msg("{value} is out of range [{lo}, {hi}]", value=t, lo=self.bound(self.lo),
                         hi=self.bound(self.hi)))  # fmt: skip
                return None
            if self.kind == "int":
                if not x.is_integer():
                    fail(Msg("{value} is not a whole number", value=t))
                    return None
                return int(x)
            return x
        if self.kind == "code":
            if not CODE.fullmatch(t):
                fail(Msg("{value} is not a code: letters, digits, and - _ . inside", value=repr(t)))
                return None
            return t
        if self.kind == "date":
            try:
                return date.fromisoformat(t[:10])
            except ValueError:
                fail(Msg("{value} is not a date (YYYY-MM-DD)", value=repr(t)))
                return None
        if self.kind == "choice":
            if t not in self.choices:
                fail(Msg("{value} is not one of {choices}", value=repr(t), choices=", ".join(self.choices)))
                return None
            return t
        return t

    def bound(self, x: float | None) -> str:
        """A range's bound as people write it (10,000,000 rather than 10000000.0)."""
        if x is None:
            return "–"
        return f"{int(x):,}" if float(x).is_integer() else f"{x:g}"


@dataclass(frozen=True)
class SheetSpec:
    """A sheet of an import workbook: its name (English) and Chinese title (either is accepted),
    what it holds, its columns, and ``key``: the columns that identify a row (a repeated key is an
    error; none: rows may repeat)."""

    name: str
    title_zh: str
    help: str
    columns: tuple[Col, ...]
    key: tuple[str, ...] = ()


@dataclass
class SheetRows:
    """The checked rows of one sheet: (row number, values) with the values converted."""

    spec: SheetSpec
    #: The sheet's title in the file.
    sheet: str
    rows: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    #: The first key column of every row, refused rows too (what other sheets may refer to).
    named: set[str] = field(default_factory=set)


def cell_text(v: Any) -> str:
    """A cell's value as text: a whole number without ".0", a date as YYYY-MM-DD, stripped."""
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, datetime | date):
        return v.isoformat()[:10]
    return str(v).strip()


def read_checked_sheets(
    filename: str, content: bytes, specs: Iterable[SheetSpec], exc: type[TableRejected]
) -> tuple[dict[str, SheetRows], list[CellError]]:
    """The sheets of ``specs`` in the file (by name or Chinese title; other sheets are passed over),
    every cell checked. Returns the sheets read (one that lacks a required column is left out) and
    every bad cell, for the importer to add its own checks before it refuses the file with ``exc``
    (which the file's limits raise at once)."""
    by_name = {s.name: s for s in specs}
    aliases = {s.title_zh: s.name for s in by_name.values()}
    errors: list[CellError] = []
    out: dict[str, SheetRows] = {}
    for sh in read_sheets(filename, content, exc):
        name = aliases.get(sh.title.strip(), sh.title.strip().lower())
        spec = by_name.get(name)
        if spec is None:
            continue  # the instructions sheet, or a sheet of the user's own
        rows = SheetRows(spec, sh.title)
        known = {c.name for c in spec.columns}
        for h in sh.header:
            if h and h not in known:
                errors.append(CellError(filename, sh.title, 1, h, Msg("unknown column; expected {columns}",
                                                                      columns=", ".join(c.name for c in spec.columns))))  # fmt: skip
        missing = [c.name for c in spec.columns if c.required and c.name not in sh.header]
        for c in missing:
            errors.append(CellError(filename, sh.title, 1, c, Msg("required column is missing")))
        if missing:
            continue
        seen: dict[tuple[Any, ...], int] = {}
        for row_no, values in sh.records():
            if spec.key:  # named, even on a row refused for another cell
                rows.named.add(cell_text(values.get(spec.key[0])))
            clean: dict[str, Any] = {}
            before = len(errors)
            for col in spec.columns:

                def fail(reason: str, col: Col = col, row_no: int = row_no, title: str = sh.title) -> None:
                    errors.append(CellError(filename, title, row_no, col.name, reason))

                clean[col.name] = col.check(values.get(col.name), fail)
            if len(errors) > before:
                continue
            if spec.key:
                key = tuple(clean[k] for k in spec.key)
                if key in seen:
                    errors.append(CellError(filename, sh.title, row_no, spec.key[-1],
                                            Msg("repeats row {row}", row=seen[key])))  # fmt: skip
                    continue
                seen[key] = row_no
            rows.rows.append((row_no, clean))
        out[name] = rows
    return out, errors


# ------------------------------------------------------------------------------------ out


def export_text(value: Any) -> Any:
    """A value as it may go into a cell: text without characters a workbook cannot hold."""
    if isinstance(value, str):
        return _ILLEGAL.sub("", value)
    return value


def workbook_bytes(wb: Any) -> bytes:
    """Save a workbook greenpark built, after making every text cell safe: characters a workbook
    cannot hold are dropped, and text that starts like a formula (``= + - @``, tab, CR) is stored
    as text with Excel's quote prefix, so it is shown and never evaluated."""
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                v = cell.value
                if isinstance(v, str):
                    clean = _ILLEGAL.sub("", v)
                    if starts_like_formula(clean):
                        cell.value = clean
                        cell.data_type = "s"
                        cell.quotePrefix = True
                    elif clean != v:
                        cell.value = clean
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


_HARMLESS = re.compile(r"[+-]?(\d[\d,.]*(e[+-]?\d+)?%?)?", re.I)


def starts_like_formula(text: str) -> bool:
    """Whether a spreadsheet could take ``text`` for a formula: it starts with ``=``, ``@``, a tab
    or a carriage return, or with ``+``/``-`` followed by anything but a plain number (a lone "-"
    or "-12.5" are data)."""
    return text.startswith(_FORMULA_START) and not _HARMLESS.fullmatch(text)


def csv_text(value: Any) -> Any:
    """A value for a CSV file greenpark writes: text that a spreadsheet could take for a formula
    gets a leading apostrophe (the usual defence; spreadsheets then show it as text)."""
    if isinstance(value, str):
        value = _ILLEGAL.sub("", value)
        if starts_like_formula(value):
            return "'" + value
    return value


def write_spec_sheet(wb: Any, spec: SheetSpec, rows: Iterable[dict[str, Any]], lang: str) -> Any:
    """A sheet of ``spec`` added to ``wb`` (named in ``lang``): the columns' names in bold, frozen,
    then ``rows`` (column → value; a date as YYYY-MM-DD text). Returns the sheet."""
    from openpyxl.styles import Font

    ws = wb.create_sheet(spec.title_zh if lang == "zh" else spec.name)
    ws.append([c.name for c in spec.columns])
    for c in ws[1]:
        c.font = Font(bold=True)
    for r in rows:
        ws.append([export_text(_cell(r.get(c.name))) for c in spec.columns])
    ws.freeze_panes = "A2"
    return ws


def _cell(v: Any) -> Any:
    return v.isoformat() if isinstance(v, date) else v


def table_workbook(title: str, columns: list[str], rows: list[list[Any]]) -> bytes:
    """A table (a header row and its rows, as a page shows them) as a workbook."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = re.sub(r"[\\/*?:\[\]]", " ", title)[:31] or "table"
    ws.append([export_text(c) for c in columns])
    for c in ws[1]:
        c.font = Font(bold=True)
    for row in rows:
        ws.append([export_text(v) for v in row])
    ws.freeze_panes = "A2"
    return workbook_bytes(wb)
