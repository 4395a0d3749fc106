"""Reading an import file: what it is, which encoding, and its rows as string columns.

No Django here. A text or spreadsheet source is streamed into a *staged* Parquet file of
string columns plus ``_row`` (the row number a user sees: in a CSV or XLSX file the header
is row 1, so the first record is row 2; in JSON the first record is row 1). Parquet sources
are not staged: DuckDB reads them in place. Nothing is ever loaded whole.
"""

import codecs
import csv
import io
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Any, BinaryIO

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from .contract import BY_NAME, HeadingMatch, match_headings

SNIFF_BYTES = 64 * 1024
BLOCK_BYTES = 8 * 1024 * 1024
XLSX_CHUNK_ROWS = 20_000

ENCODINGS = ("utf-8", "gb18030", "gbk", "utf-16")  # what a user may choose; gb18030 covers GBK
FORMATS = ("csv", "xlsx", "parquet", "json")
_EXTENSIONS = {
    ".csv": "csv", ".txt": "csv", ".tsv": "csv",
    ".xlsx": "xlsx", ".xlsm": "xlsx",
    ".parquet": "parquet", ".pq": "parquet",
    ".json": "json", ".ndjson": "json", ".jsonl": "json",
}  # fmt: skip


class SourceError(Exception):
    """The file cannot be read at all. ``code`` names the problem; ``params`` fill the message."""

    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(code, params)
        self.code = code
        self.params = params


@dataclass
class Sniffed:
    format: str  # one of FORMATS
    encoding: str = ""  # text formats only
    delimiter: str = ","


@dataclass
class InvalidRecord:
    row: int
    fields: int
    expected: int
    text: str


@dataclass
class Staged:
    """A source ready for validation."""

    sql_source: str  # a DuckDB table expression yielding the file's columns plus _row
    headings: list[str]
    match: HeadingMatch
    rows: int
    typed: bool = False  # Parquet: columns keep their own types (and text is not normalised)
    invalid: list[InvalidRecord] = field(default_factory=list)  # records the parser could not split


def _content_format(head: bytes) -> str | None:
    if head.startswith(b"PK\x03\x04"):
        return "xlsx"
    if head.startswith(b"PAR1"):
        return "parquet"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        return "xls"
    if head.startswith(b"%PDF"):
        return "pdf"
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if stripped[:1] in (b"[", b"{"):
        return "json"
    if b"\x00" in head and not head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "binary"
    return None


def detect_encoding(head: bytes) -> str:
    """The encoding of a text file from its first bytes: BOM, else UTF-8, else GB18030."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    for encoding in ("utf-8", "gb18030"):
        decoder = codecs.getincrementaldecoder(encoding)("strict")
        try:
            decoder.decode(head, final=False)  # a character cut at the sample's end is fine
        except UnicodeDecodeError:
            continue
        return encoding
    raise SourceError("encoding_unknown")


def sniff(path: Path, name: str = "", fmt: str = "", encoding: str = "") -> Sniffed:
    """What the file is. ``fmt``/``encoding`` override detection (the user's choice)."""
    try:
        with open(path, "rb") as f:
            head = f.read(SNIFF_BYTES)
    except OSError as exc:
        raise SourceError("unreadable", reason=exc.strerror or str(exc)) from exc
    if not head:
        raise SourceError("empty")
    content = _content_format(head)
    if content in ("xls", "pdf", "binary"):
        raise SourceError("unsupported_content", kind=content)
    ext = os.path.splitext(name or path.name)[1].lower()
    by_name = _EXTENSIONS.get(ext)
    actual = content or "csv"
    if fmt:
        if fmt not in FORMATS:
            raise SourceError("unknown_format", format=fmt)
        if fmt != actual and not (fmt == "csv" and actual == "json"):
            raise SourceError("format_mismatch", expected=fmt, actual=actual)
        actual = fmt
    elif by_name and by_name != actual and not (by_name == "csv" and actual == "json"):
        raise SourceError("extension_mismatch", extension=ext, actual=actual)
    elif ext and not by_name:
        raise SourceError("unknown_extension", extension=ext)
    elif by_name == "csv":
        actual = "csv"
    sniffed = Sniffed(actual)
    if actual in ("csv", "json"):
        if encoding:
            if encoding not in ENCODINGS:
                raise SourceError("unknown_encoding", encoding=encoding)
            sniffed.encoding = encoding
            if encoding == "utf-8" and head.startswith(codecs.BOM_UTF8):
                sniffed.encoding = "utf-8-sig"
            try:
                codecs.getincrementaldecoder(sniffed.encoding)("strict").decode(head, final=False)
            except UnicodeDecodeError as exc:
                raise SourceError("encoding_wrong", encoding=encoding, offset=exc.start) from exc
        else:
            sniffed.encoding = detect_encoding(head)
    if actual == "csv":
        sniffed.delimiter = _delimiter(head.decode(sniffed.encoding, errors="ignore"))
    return sniffed


def _delimiter(text: str) -> str:
    first = text.lstrip("\ufeff").splitlines()[0] if text.strip() else ""
    counts = {d: first.count(d) for d in (",", "\t", ";", "|")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _unique(headings: list[str]) -> list[str]:
    """Arrow needs distinct column names; a repeated heading gets a numbered suffix."""
    seen: dict[str, int] = {}
    out = []
    for i, h in enumerate(headings):
        h = h.strip() or f"column_{i + 1}"
        n = seen.get(h, 0)
        seen[h] = n + 1
        out.append(h if n == 0 else f"{h}#{n + 1}")
    return out


class _CountingReader(io.RawIOBase):
    """A file wrapper that reports how many bytes have been read (for the progress bar)."""

    def __init__(self, raw: BinaryIO, on_read: Callable[[int], None]) -> None:
        self._raw = raw
        self._on_read = on_read
        self.done = 0
        self.largest_read = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        n = self._raw.readinto(buffer)  # type: ignore[attr-defined]
        self.done += n or 0
        self.largest_read = max(self.largest_read, n or 0)
        self._on_read(self.done)
        return n or 0


def _folding(names: list[str]) -> list[bool]:
    """Which columns to fold with NFKC: those the contract reads as codes, numbers, times or
    choices. Free text (the goods category) keeps its characters; unknown columns are unread."""
    mapping = match_headings(names).mapping
    folded = {heading for name, heading in mapping.items() if BY_NAME[name].kind != "text"}
    return [n in folded for n in names]


def _normalized(column: pa.Array, fold: bool) -> pa.Array:
    """Cells as people mean them: NFKC folds full-width digits and punctuation to ASCII
    (１２３．５０ -> 123.50, as Chinese input methods type them); no surrounding spaces.
    Done here, vectorised, because the same in SQL costs more than the rest of validation."""
    return pc.utf8_trim_whitespace(pc.utf8_normalize(column, "NFKC") if fold else column)


def _string_table(columns: list[str], rows: list[list[str]], numbers: list[int]) -> pa.RecordBatch:
    fold = _folding(columns)
    arrays = [
        _normalized(pa.array([r[i] if i < len(r) else "" for r in rows], pa.string()), fold[i])
        for i in range(len(columns))
    ]
    arrays.append(pa.array(numbers, pa.int64()))
    return pa.RecordBatch.from_arrays(arrays, names=[*columns, "_row"])


def _blank_records(batch: pa.RecordBatch) -> pa.Array | None:
    """A mask of the records whose cells are all empty (blank lines), or None if there are none."""
    blank = None
    for column in batch.columns:
        empty = pc.equal(pc.binary_length(column), 0)
        blank = empty if blank is None else pc.and_(blank, empty)
    return blank if blank is not None and pc.any(blank).as_py() else None


def _stage_csv(path: Path, sniffed: Sniffed, out: Path, progress: Callable[[int], None]) -> Staged:
    with open(path, "rb") as f:
        raw_head = f.read(SNIFF_BYTES)
    text = raw_head.decode(sniffed.encoding, errors="ignore")
    header_line = next(csv.reader(io.StringIO(text), delimiter=sniffed.delimiter), [])
    headings = [h.lstrip("\ufeff") for h in header_line]
    if not any(h.strip() for h in headings):
        raise SourceError("no_header")
    names = _unique(headings)
    invalid: list[InvalidRecord] = []

    def on_invalid(row: Any) -> str:
        invalid.append(
            InvalidRecord(row.number or 0, row.actual_columns, row.expected_columns, row.text[:200])
        )
        return "skip"

    schema = pa.schema([*(pa.field(n, pa.string()) for n in names), pa.field("_row", pa.int64())])
    fold = _folding(names)
    rows = 0
    with open(path, "rb") as raw:
        counting = _CountingReader(raw, progress)
        try:
            reader = pacsv.open_csv(
                io.BufferedReader(counting, buffer_size=BLOCK_BYTES),
                read_options=pacsv.ReadOptions(
                    encoding=sniffed.encoding.replace("utf-8-sig", "utf-8"),
                    skip_rows=1,
                    column_names=names,
                    block_size=BLOCK_BYTES,
                    use_threads=False,  # records are numbered in order
                ),
                parse_options=pacsv.ParseOptions(
                    delimiter=sniffed.delimiter,
                    newlines_in_values=True,
                    # A blank line keeps its row number (as in Excel) but is no record: it
                    # is read, then dropped below, so that later rows keep their numbers.
                    ignore_empty_lines=False,
                    invalid_row_handler=on_invalid,
                ),
                convert_options=pacsv.ConvertOptions(
                    column_types=dict.fromkeys(names, pa.string()),
                    strings_can_be_null=False,
                    quoted_strings_can_be_null=False,
                ),
            )
            with pq.ParquetWriter(out, schema, compression="zstd") as writer:
                record = 2  # the header is row 1
                for batch in reader:
                    # Records the parser skipped take their place in the numbering.
                    skipped = sorted(r.row for r in invalid if r.row >= record)
                    numbers: list[int] = []
                    n = record
                    while len(numbers) < batch.num_rows:
                        if skipped and skipped[0] == n:
                            skipped.pop(0)
                        else:
                            numbers.append(n)
                        n += 1
                    record = n
                    out_batch = pa.RecordBatch.from_arrays(
                        [
                            *(_normalized(c, f) for c, f in zip(batch.columns, fold, strict=True)),
                            pa.array(numbers, pa.int64()),
                        ],
                        schema=schema,
                    )
                    blank = _blank_records(batch)
                    if blank is not None:
                        out_batch = out_batch.filter(pc.invert(blank))
                    writer.write_batch(out_batch)
                    rows += out_batch.num_rows
        except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
            message = str(exc)
            # A UTF-8 file is not transcoded: Arrow finds a bad byte only when it makes the
            # string column ("invalid UTF8 data"), possibly far beyond the sniffed sample.
            lowered = message.lower()
            if (
                "decode" in lowered
                or "invalid utf8" in lowered
                or isinstance(exc, UnicodeDecodeError)
            ):
                raise SourceError(
                    "encoding_wrong", encoding=sniffed.encoding, offset=counting.done
                ) from exc
            raise SourceError("csv_unreadable", reason=message[:300]) from exc
    if headings == [] or (rows == 0 and not invalid):
        raise SourceError("no_rows")
    return Staged(
        f"read_parquet('{_sql_path(out)}')",
        headings=names,
        match=match_headings(names),
        rows=rows + len(invalid),
        invalid=invalid,
    )


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return repr(int(value))
        # A spreadsheet's binary float (0.1 + 0.2 = 0.30000000000000004) as the person
        # typed or saw it; a real third decimal on money still shows and is refused.
        return repr(round(value, 9))
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, (date, time)):
        return value.isoformat()
    return str(value)


def _stage_xlsx(path: Path, out: Path, progress: Callable[[int], None]) -> Staged:
    from python_calamine import CalamineWorkbook

    try:
        workbook = CalamineWorkbook.from_path(str(path))
        sheet = workbook.get_sheet_by_index(0)
        rows_iter: Iterator[list[Any]] = iter(sheet.iter_rows())
    except Exception as exc:  # calamine raises its own error types for a damaged workbook
        raise SourceError("xlsx_unreadable", reason=str(exc)[:300]) from exc
    header = next(rows_iter, None)
    if not header or not any(_cell(h).strip() for h in header):
        raise SourceError("no_header")
    names = _unique([_cell(h) for h in header])
    schema = pa.schema([*(pa.field(n, pa.string()) for n in names), pa.field("_row", pa.int64())])
    line = 1  # the header's row
    chunk: list[list[str]] = []
    numbers: list[int] = []
    with pq.ParquetWriter(out, schema, compression="zstd") as writer:
        for values in rows_iter:
            line += 1
            cells = [_cell(v) for v in values]
            if not any(c.strip() for c in cells):
                continue  # a blank line keeps its number but is no record
            chunk.append(cells)
            numbers.append(line)
            if len(chunk) >= XLSX_CHUNK_ROWS:
                writer.write_batch(_string_table(names, chunk, numbers))
                chunk, numbers = [], []
                progress(line)
        if chunk:
            writer.write_batch(_string_table(names, chunk, numbers))
    count = pq.ParquetFile(out).metadata.num_rows
    if count == 0:
        raise SourceError("no_rows")
    return Staged(f"read_parquet('{_sql_path(out)}')", names, match_headings(names), count)


def _stage_json(path: Path, sniffed: Sniffed, out: Path) -> Staged:
    """A JSON array of objects, or NDJSON (one object per line). For API batches."""
    with open(path, encoding=sniffed.encoding) as f:
        first = ""
        while not first.strip():
            first = f.read(1)
            if not first:
                raise SourceError("no_rows")
        f.seek(0)
        try:
            if first == "[" or f.read(SNIFF_BYTES).lstrip().startswith("["):
                f.seek(0)
                records = json.load(f, parse_float=str, parse_int=str)
                if not isinstance(records, list):
                    raise SourceError("json_not_records")
            else:
                f.seek(0)
                records = []
                for number, line in enumerate(f, start=1):
                    if line.strip():
                        try:
                            records.append(json.loads(line, parse_float=str, parse_int=str))
                        except json.JSONDecodeError as exc:
                            raise SourceError("json_invalid", row=number, reason=exc.msg) from exc
        except json.JSONDecodeError as exc:
            raise SourceError("json_invalid", row=exc.lineno, reason=exc.msg) from exc
    if not records:
        raise SourceError("no_rows")
    names: list[str] = []
    for i, record in enumerate(records, start=1):
        if not isinstance(record, dict):
            raise SourceError("json_not_records", row=i)
        for key in record:
            if key not in names:
                names.append(key)
    cols = _unique(names)
    rows = [[_json_cell(r.get(k)) for k in names] for r in records]
    schema = pa.schema([*(pa.field(n, pa.string()) for n in cols), pa.field("_row", pa.int64())])
    with pq.ParquetWriter(out, schema, compression="zstd") as writer:
        for start in range(0, len(rows), XLSX_CHUNK_ROWS):
            end = min(start + XLSX_CHUNK_ROWS, len(rows))
            writer.write_batch(
                _string_table(cols, rows[start:end], list(range(start + 1, end + 1)))
            )
    return Staged(f"read_parquet('{_sql_path(out)}')", cols, match_headings(cols), len(rows))


def _json_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _stage_parquet(path: Path) -> Staged:
    try:
        meta = pq.ParquetFile(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise SourceError("parquet_unreadable", reason=str(exc)[:300]) from exc
    names = list(meta.schema_arrow.names)
    if meta.metadata.num_rows == 0:
        raise SourceError("no_rows")
    if len(set(names)) != len(names):
        raise SourceError("parquet_unreadable", reason="repeated column names")
    return Staged(
        f"(SELECT * EXCLUDE (file_row_number), file_row_number + 1 AS _row "
        f"FROM read_parquet('{_sql_path(path)}', file_row_number = true))",
        names,
        match_headings(names),
        meta.metadata.num_rows,
        typed=True,
    )


def _sql_path(path: Path) -> str:
    return str(path).replace("'", "''")


def stage(
    path: Path, sniffed: Sniffed, workdir: Path, progress: Callable[[int], None] = lambda n: None
) -> Staged:
    """Turn the source into something DuckDB can validate, streaming."""
    out = workdir / "staged.parquet"
    if sniffed.format == "csv":
        return _stage_csv(path, sniffed, out, progress)
    if sniffed.format == "xlsx":
        return _stage_xlsx(path, out, progress)
    if sniffed.format == "json":
        return _stage_json(path, sniffed, out)
    return _stage_parquet(path)
