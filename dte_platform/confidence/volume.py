"""Volume anomalies: a row count against its history, by robust z-score (median and MAD) and a
Poisson bound, so that small counts stay quiet: 61 rows against a median of 55 is noise however
regular the history, 600 is not. The history is chosen by the caller (the partitions before this
one by date, or a whole table's previous builds)."""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from typing import Any

#: a count this many standard deviations of a Poisson count away from the median can be an anomaly
POISSON_K = 4.0


@dataclass(frozen=True)
class VolumeVerdict:
    judged: bool
    anomaly: bool
    details: dict[str, Any]


def judge(rows: int, history: list[float], min_history: int, threshold: float) -> VolumeVerdict:
    window = {"history": len(history), "min_history": min_history, "threshold": threshold, "rows": rows}
    if len(history) < min_history:
        return VolumeVerdict(False, False, {**window, "verdict": "not judged: too little history"})
    median = statistics.median(history)
    mad = statistics.median(abs(x - median) for x in history)
    if mad == 0:  # a perfectly regular history: anything more than 50% away is unusual
        deviation = abs(rows - median) / max(median, 1.0)
        unusual = deviation > 0.5
        score = deviation
    else:
        score = 0.6745 * (rows - median) / mad
        unusual = abs(score) > threshold
    bound = POISSON_K * math.sqrt(max(median, 1.0))
    anomaly = unusual and abs(rows - median) > bound
    details = {
        **window,
        "median": median,
        "mad": mad,
        "robust_z": round(score, 3),
        "poisson_bound": round(bound, 1),
        "verdict": ("spike" if rows > median else "drop") if anomaly else "normal",
    }
    return VolumeVerdict(True, anomaly, details)
