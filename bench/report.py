"""The benchmarks' one table: each figure next to its target, as Markdown."""

import os
import platform
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime


@dataclass(frozen=True)
class Row:
    benchmark: str
    figure: str
    measured: str
    target: str = ""
    met: bool | None = None  # None: a figure without a target of its own


def percentile(values: Sequence[float], share: float) -> float:
    """The value under which `share` (0..1) of the values lie (nearest rank)."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(1, min(len(ordered), round(share * len(ordered) + 0.5)))
    return ordered[rank - 1]


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def _verdict(met: bool | None) -> str:
    return "" if met is None else ("yes" if met else "**no**")


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def render(rows: Sequence[Row], *, title: str, notes: Sequence[str] = ()) -> str:
    """A Markdown document: a title, what it ran on, the table and the notes."""
    lines = [
        f"# {title}",
        "",
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} CPU, "
        f"Python {platform.python_version()}, {platform.system()} {platform.machine()}.",
        "",
        "| Benchmark | Figure | Measured | Target | Met |",
        "|---|---|---|---|---|",
    ]
    lines += [
        "| "
        + " | ".join(
            _cell(value)
            for value in (row.benchmark, row.figure, row.measured, row.target, _verdict(row.met))
        )
        + " |"
        for row in rows
    ]
    if notes:
        lines += ["", *[f"- {note}" for note in notes]]
    return "\n".join(lines) + "\n"
