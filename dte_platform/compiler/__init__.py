"""Compiler: a contract becomes an engine-neutral rule list, then executors run it."""

from dte_platform.compiler.compile import compile_contract, compile_dataset
from dte_platform.compiler.rules import (
    ColumnType,
    CompiledDataset,
    Rule,
    Scope,
    Severity,
    Threshold,
)

__all__ = [
    "ColumnType",
    "CompiledDataset",
    "Rule",
    "Scope",
    "Severity",
    "Threshold",
    "compile_contract",
    "compile_dataset",
]
