"""Shared set-up for the benchmarks: Django on the database that DATABASE_URL names."""

from __future__ import annotations

import os
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DEBUG", "true")
os.environ.setdefault("SECRET_KEY", "bench")

import django  # noqa: E402

django.setup()


def timed(fn: Callable[[], object], repeat: int = 1) -> float:
    """Best wall time of `repeat` runs, in seconds."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def report(name: str, seconds: float, baseline: float | None = None, note: str = "") -> None:
    ratio = f"  {seconds / baseline:6.1f}× baseline" if baseline else ""
    print(f"{name:<48} {seconds * 1000:10.1f} ms{ratio}  {note}".rstrip())
