"""One regular-expression dialect for every engine that runs a contract's patterns.

A pattern in a contract (``logicalTypeOptions.pattern``, a string ``format``, ``invalidValues`` with
``pattern``) runs where the data is: in DuckDB, whose regular expressions are RE2. Its meaning is
RE2's, with two consequences a contract author should know:

- ``\\d``, ``\\w``, ``\\s`` and ``\\b`` are ASCII (``\\d`` is ``[0-9]``: Arabic-Indic or full-width
  digits do not match it); Unicode classes are written ``\\p{Nd}``, ``\\p{Lu}``, ``\\pL``;
- look-around, back-references and possessive quantifiers do not exist (RE2 runs in linear time).

The row rules also run on polars frames (pandera, for data the platform builds and as the parity
oracle of the SQL row engine); polars' regex engine makes the Perl classes Unicode-aware, so
:func:`for_polars` rewrites them to their ASCII meaning. A pattern is accepted only when both
engines compile it (:func:`pattern_problem`), at lint and at load alike, so a pattern that one
engine would refuse fails before anything runs.
"""

from __future__ import annotations

from functools import cache

import duckdb
import polars as pl

#: Perl classes as RE2 defines them (ASCII), outside and inside a bracket expression
_CLASSES = {
    "d": ("[0-9]", "0-9"),
    "D": ("[^0-9]", None),
    "w": ("[0-9A-Za-z_]", "0-9A-Za-z_"),
    "W": ("[^0-9A-Za-z_]", None),
    "s": ("[\\t\\n\\f\\r ]", "\\t\\n\\f\\r "),
    "S": ("[^\\t\\n\\f\\r ]", None),
    "b": ("(?-u:\\b)", None),
    "B": ("(?-u:\\B)", None),
}


class PatternProblem(ValueError):
    """A pattern an engine refuses, or one whose meaning would differ between engines."""


def for_polars(pattern: str) -> str:
    """``pattern`` with RE2's ASCII Perl classes spelled out for polars' (Unicode-aware) engine."""
    out: list[str] = []
    i, in_class = 0, False
    while i < len(pattern):
        char = pattern[i]
        if char == "\\" and i + 1 < len(pattern):
            letter = pattern[i + 1]
            if letter in _CLASSES:
                outside, inside = _CLASSES[letter]
                if in_class and inside is None:
                    raise PatternProblem(
                        f"\\{letter} inside [...] has no single meaning across engines; "
                        "write the characters out"
                    )
                out.append(inside if in_class else outside)  # type: ignore[arg-type]
            else:
                out.append(pattern[i : i + 2])
            i += 2
            continue
        if in_class:
            if char == "]" and not _class_start(pattern, i):
                in_class = False
        elif char == "[":
            in_class = True
        out.append(char)
        i += 1
    return "".join(out)


def _class_start(pattern: str, i: int) -> bool:
    """Whether the ``]`` at ``i`` is a literal right after ``[`` or ``[^`` (it does not close)."""
    before = pattern[:i]
    return before.endswith("[") or (before.endswith("[^") and not before.endswith("\\[^"))


@cache
def _duckdb() -> duckdb.DuckDBPyConnection:
    return duckdb.connect(":memory:")


def pattern_problem(pattern: object) -> str | None:
    """Why ``pattern`` cannot be a contract pattern (None when both engines run it alike)."""
    if not isinstance(pattern, str):
        return "a pattern must be a string"
    try:
        _duckdb().cursor().execute("SELECT regexp_matches('probe', ?)", [pattern]).fetchall()
    except duckdb.Error as exc:
        return f"DuckDB (RE2) cannot run it: {_first_line(exc)}"
    try:
        translated = for_polars(pattern)
    except PatternProblem as exc:
        return str(exc)
    try:
        pl.select(pl.lit("probe").str.contains(translated))
    except pl.exceptions.PolarsError as exc:
        return f"the frame engine (Rust regex) cannot run it: {_first_line(exc)}"
    return None


def _first_line(exc: BaseException) -> str:
    lines = [line for line in str(exc).splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__
