"""Ingest: landing files -> typed rows in ``sources.*``, bad rows in ``quarantine.*``."""

from dte_platform.ingest.landing import available_partitions, partition_files
from dte_platform.ingest.run import IngestReport, SourceRun, ingest_partition

__all__ = ["IngestReport", "SourceRun", "available_partitions", "ingest_partition", "partition_files"]
