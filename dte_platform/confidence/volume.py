"""Volume anomalies: a row count against its history, by robust z-score (median and MAD)."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import Any


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
    if mad == 0:  # a perfectly regular history: anything more than 50% away is an anomaly
        deviation = abs(rows - median) / max(median, 1.0)
        anomaly = deviation > 0.5
        score = deviation
    else:
        score = 0.6745 * (rows - median) / mad
        anomaly = abs(score) > threshold
    details = {
        **window,
        "median": median,
        "mad": mad,
        "robust_z": round(score, 3),
        "verdict": ("spike" if rows > median else "drop") if anomaly else "normal",
    }
    return VolumeVerdict(True, anomaly, details)
