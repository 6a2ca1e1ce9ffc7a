"""Chart helpers: inline SVG sparklines (no script needed) and the incident chart's data."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from markupsafe import Markup, escape

from mailwarden.reports.health import RateCell

SPARK_WIDTH: Final = 100
SPARK_HEIGHT: Final = 24


def spark_points(values: Sequence[float | None], top: float) -> list[tuple[float, float]]:
    """(x, y) of the known values in SVG units; hours without enough mail are skipped."""
    if not values or top <= 0:
        return []
    step = SPARK_WIDTH / max(1, len(values) - 1)
    return [
        (index * step, SPARK_HEIGHT - 1 - (min(value, top) / top) * (SPARK_HEIGHT - 2))
        for index, value in enumerate(values)
        if value is not None
    ]


def sparkline(cell: RateCell) -> Markup:
    """An SVG sparkline of a rate over the last day, with its warning line when near."""
    known = [value for value in cell.spark if value is not None]
    peak = max(known, default=0.0)
    line = (
        cell.warning if cell.warning is not None and cell.warning <= 2 * max(peak, 1e-9) else None
    )
    top = max(peak, line or 0.0) * 1.1 or 1.0
    parts = [
        f'<svg class="spark" viewBox="0 0 {SPARK_WIDTH} {SPARK_HEIGHT}" '
        'preserveAspectRatio="none" role="img" focusable="false">',
        f"<title>{escape(_describe(cell, known))}</title>",
    ]
    if line is not None:
        y = SPARK_HEIGHT - 1 - (line / top) * (SPARK_HEIGHT - 2)
        parts.append(f'<line x1="0" x2="{SPARK_WIDTH}" y1="{y:.1f}" y2="{y:.1f}"/>')
    points = spark_points(cell.spark, top)
    if len(points) == 1:
        parts.append(f'<circle cx="{points[0][0]:.1f}" cy="{points[0][1]:.1f}" r="1.5"/>')
    elif points:
        parts.append(f'<polyline points="{" ".join(f"{x:.1f},{y:.1f}" for x, y in points)}"/>')
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - built from numbers and an escaped title


def _describe(cell: RateCell, known: Sequence[float]) -> str:
    if not known:
        return f"{cell.label}: no mail in the last 24 hours"
    low, high = min(known), max(known)
    return f"{cell.label}, last 24 hours by hour: from {low * 100:.2f} % to {high * 100:.2f} %"
