"""DTE Platform: data contracts turned into trust you can prove.

The engine lives in stage packages that follow the data (contracts -> compiler -> ingest -> ...);
only :mod:`dte_platform.orchestration` knows about Dagster.
"""

__version__ = "0.1.0"
