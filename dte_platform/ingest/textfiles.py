"""Byte-level facts about text landing files that DuckDB's readers do not report.

DuckDB parses the CSV and JSON Lines files; this module answers the questions around that parse:
is the file gzip-compressed whatever its name says, where is the first byte that is not UTF-8,
why did the CSV parser give up on the whole file, and on which physical line does each record
start. Line numbers matter because every quarantined row names its file and line: DuckDB numbers
records by the newlines it sees outside quotes, so a blank line or a quoted newline would shift
every later line number if taken as is.
"""

from __future__ import annotations

import csv
import gzip
import re
import zlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, cast

import numpy as np

from dte_platform.errors import LandingError

GZIP_MAGIC = b"\x1f\x8b"
UTF8_BOM = b"\xef\xbb\xbf"
#: longest CSV record DuckDB accepts; longer ones are quarantined as unparseable
MAX_LINE_BYTES = 10_000_000
_CHUNK = 1 << 20
_LONE_CR = re.compile(r"(?<=\r)(?!\n)")


def is_gzip(file: Path) -> bool:
    """Compressed content is recognised by its magic bytes, not by the file name."""
    with file.open("rb") as handle:
        return handle.read(2) == GZIP_MAGIC


def open_binary(file: Path) -> IO[bytes]:
    """The file's content, decompressed when it is gzip."""
    # the caller closes it: every use is a `with` block
    handle = gzip.open(file, "rb") if is_gzip(file) else file.open("rb")  # noqa: SIM115
    return cast(IO[bytes], handle)


def line_count(file: Path) -> int:
    """Physical lines (``\\n``-terminated; a last line without one counts too)."""
    count, last = 0, b"\n"
    with _guarded(file), open_binary(file) as handle:
        while chunk := handle.read(_CHUNK):
            count += chunk.count(b"\n")
            last = chunk[-1:]
    return count + (last != b"\n")


def decoded_lines(handle: IO[bytes], file: Path) -> Iterator[str]:
    """UTF-8 lines, one physical line at a time (a decode error names its line, not a chunk)."""
    for number, raw in enumerate(handle, start=1):
        text = raw.removeprefix(UTF8_BOM) if number == 1 else raw
        try:
            decoded = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise LandingError(file, encoding_message(number, text, exc)) from None
        yield from _split_lone_cr(decoded)


def _split_lone_cr(text: str) -> list[str]:
    # the csv module needs a bare \r (classic Mac line end) to end its line, as DuckDB reads it
    return _LONE_CR.split(text) if "\r" in text else [text]


def encoding_message(line: int, raw: bytes, exc: UnicodeDecodeError) -> str:
    """Names the line and the bytes, so the producer can find them."""
    bad = raw[exc.start : exc.end].hex(" ")
    return (
        f"not UTF-8 encoded: line {line} has the byte(s) {bad} at byte {exc.start + 1} of the line "
        "(landing files must be UTF-8; re-export the file as UTF-8)"
    )


def encoding_error(file: Path) -> LandingError | None:
    """The first line that is not UTF-8, as the error that fails the partition; None if all are."""
    try:
        with _guarded(file), open_binary(file) as handle:
            for _ in decoded_lines(handle, file):
                pass
    except LandingError as exc:
        return exc
    return None


def line_ending_error(file: Path) -> LandingError | None:
    """Why DuckDB's CSV state machine stopped, when the cause is the file's line endings.

    DuckDB expects one line terminator per file. A file mixing CRLF and LF, or holding a bare
    carriage return inside a line, stops its parser without a line number; this finds the line.
    """
    first_ending: bytes | None = None
    with _guarded(file), open_binary(file) as handle:
        for number, raw in enumerate(handle, start=1):
            body = raw.removesuffix(b"\n").removesuffix(b"\r")
            if b"\r" in body:
                return LandingError(
                    file, f"line {number} holds a carriage return (\\r) that does not end the line"
                )
            if not raw.endswith(b"\n"):
                break
            ending = b"\r\n" if raw.endswith(b"\r\n") else b"\n"
            if first_ending is None:
                first_ending = ending
            elif ending != first_ending:
                return LandingError(
                    file,
                    f"mixed line endings: line 1 ends with {_ending_name(first_ending)} but line "
                    f"{number} ends with {_ending_name(ending)}; use one line ending per file",
                )
    return None


def _ending_name(ending: bytes) -> str:
    return "CRLF" if ending == b"\r\n" else "LF"


def record_lines(
    file: Path, delimiter: str, quote: str, escape: str, accepted: int, rejected: list[int]
) -> tuple[np.ndarray, list[int]]:
    """Physical line numbers of the records DuckDB accepted, and of those it rejected (given by
    DuckDB's own line numbers, sorted).

    When the file has exactly one line per record (no blank line, no newline inside quotes),
    DuckDB's numbering is already physical. Otherwise the records are walked once more to find
    where each starts; should that walk disagree with DuckDB on the records, DuckDB's numbering is
    kept rather than guessed at.
    """
    if line_count(file) == 1 + accepted + len(rejected):
        return _accepted_lines(accepted, rejected), rejected
    starts = record_starts(file, delimiter, quote, escape)
    if starts is None or len(starts) != accepted + len(rejected):
        return _accepted_lines(accepted, rejected), rejected
    by_duckdb_line = {duck: index for index, (_, duck) in enumerate(starts)}
    rejected_index = [by_duckdb_line.get(line) for line in rejected]
    if any(index is None for index in rejected_index):
        return _accepted_lines(accepted, rejected), rejected
    skipped = set(rejected_index)
    accepted_lines = [line for index, (line, _) in enumerate(starts) if index not in skipped]
    return (
        np.asarray(accepted_lines, dtype=np.int64),
        [starts[index][0] for index in rejected_index if index is not None],
    )


def _accepted_lines(accepted: int, rejected_lines: list[int]) -> np.ndarray:
    """Line numbers of the accepted records, given the (sorted) line numbers DuckDB rejected.

    DuckDB counts one line per record, the header being line 1. Accepted record k sits at data
    index k plus the number of rejected records that came before it.
    """
    k = np.arange(accepted, dtype=np.int64)
    if not rejected_lines:
        return k + 2
    data_index = np.asarray(rejected_lines, dtype=np.int64) - 2
    shifted = data_index - np.arange(len(data_index), dtype=np.int64)
    return k + np.searchsorted(shifted, k, side="right") + 2


def record_starts(file: Path, delimiter: str, quote: str, escape: str) -> list[tuple[int, int]] | None:
    """For each data record (header excluded): the physical line it starts on, and DuckDB's number
    for the same record (which counts blank lines but not newlines inside quotes).

    The csv module follows the same quoting rules as DuckDB; None when it cannot follow the file,
    and the caller then keeps DuckDB's numbering.
    """
    csv.field_size_limit(max(csv.field_size_limit(), MAX_LINE_BYTES))
    options = _dialect(delimiter, quote, escape)
    try:
        with _guarded(file), open_binary(file) as handle:
            return _starts(csv.reader(_lenient_lines(handle), **options))[1:]
    except csv.Error:
        return None


def _starts(reader: Iterable[list[str]]) -> list[tuple[int, int]]:
    starts: list[tuple[int, int]] = []
    previous = quoted_newlines = 0
    for row in reader:
        last = reader.line_num  # type: ignore[attr-defined]
        first = previous + 1
        if row:  # a blank line is not a record, for DuckDB either
            starts.append((first, first - quoted_newlines))
        quoted_newlines += last - first
        previous = last
    return starts


def _lenient_lines(handle: IO[bytes]) -> Iterator[str]:
    # encoding is checked elsewhere; here only the record structure counts
    for raw in handle:
        yield from _split_lone_cr(raw.decode("utf-8", errors="replace"))


def _dialect(delimiter: str, quote: str, escape: str) -> dict[str, Any]:
    if not quote:
        return {"delimiter": delimiter, "quoting": csv.QUOTE_NONE, "strict": False}
    return {
        "delimiter": delimiter,
        "quotechar": quote,
        "escapechar": None if escape in ("", quote) else escape,
        "doublequote": escape in ("", quote),
        # DuckDB treats a quote after leading spaces as opening a quoted field; so does this
        "skipinitialspace": True,
        "strict": False,
    }


@contextmanager
def _guarded(file: Path) -> Iterator[None]:
    """Errors of the byte stream (a truncated gzip, an I/O error) become a LandingError; a missing
    file stays FileNotFoundError so that the caller can say the file vanished."""
    try:
        yield
    except (LandingError, FileNotFoundError):
        raise
    except EOFError as exc:
        raise LandingError(file, "truncated: the compressed stream ends before its end marker") from exc
    except (OSError, zlib.error) as exc:
        raise LandingError(file, f"cannot read the file: {exc}") from exc
