"""Demo and sample data for the DTE Platform (see :mod:`dte_platform.demo.generator`)."""

from dte_platform.demo.generator import (
    DEFAULT_CONFIG,
    GenerationSummary,
    GeneratorConfig,
    config_for_volume,
    generate,
)

__all__ = [
    "DEFAULT_CONFIG",
    "GenerationSummary",
    "GeneratorConfig",
    "config_for_volume",
    "generate",
]
