"""Small vector charts for the PDF report (plain SVG 1.1, as WeasyPrint draws it): line, scatter, bars.

Every label is untrusted text and goes through `xml_text`; values that are None / NaN / inf are left out.
Sizes are SVG px; the template places the chart at its natural size.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from attrgraph_cli.report.semantics import PALETTE
from attrgraph_cli.report.text import xml_text
from attrgraph_cli.report.textmetrics import truncate

AXIS = "#888888"
TEXT = "#333333"
SIZE = 7.0
LEFT, RIGHT, TOP, BOTTOM = 34.0, 8.0, 6.0, 24.0


def _finite(v: object) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _span(values: list[float], pad: float) -> tuple[float, float]:
    """(low, high) of `values`, widened by `pad` of the range on both sides; never empty."""
    lo, hi = (min(values), max(values)) if values else (0.0, 1.0)
    if hi == lo:
        lo, hi = lo - 0.5, hi + 0.5
    margin = (hi - lo) * pad
    return lo - margin, hi + margin


def _tick(v: float) -> str:
    return f"{v:.3g}"


class _Frame:
    """Axes of one chart: maps data to px and draws the frame, two ticks per axis and the axis names."""

    def __init__(
        self, xs: list[float], ys: list[float], width: float, height: float, pad: float = 0.0
    ) -> None:
        self.w, self.h = width, height
        self.x0, self.x1 = _span(xs, pad)
        self.y0, self.y1 = _span(ys, pad)

    def px(self, x: float) -> float:
        return LEFT + (x - self.x0) / (self.x1 - self.x0) * (self.w - LEFT - RIGHT)

    def py(self, y: float) -> float:
        return self.h - BOTTOM - (y - self.y0) / (self.y1 - self.y0) * (self.h - TOP - BOTTOM)

    def axes(self, x_label: str, y_label: str) -> list[str]:
        b, left, right = self.h - BOTTOM, LEFT, self.w - RIGHT
        out = [
            f'<path d="M{left} {TOP}V{b:.1f}H{right:.1f}" fill="none" stroke="{AXIS}" stroke-width="0.6"/>'
        ]

        def text(x: float, y: float, s: str, anchor: str, extra: str = "") -> str:
            return (
                f'<text x="{x:.1f}" y="{y:.1f}" font-size="{SIZE}" fill="{TEXT}" text-anchor="{anchor}"'
                f"{extra}>{xml_text(s)}</text>"
            )

        out += [
            text(left, b + SIZE + 2, _tick(self.x0), "middle"),
            text(right, b + SIZE + 2, _tick(self.x1), "middle"),
            text(left - 2, b, _tick(self.y0), "end"),
            text(left - 2, TOP + SIZE, _tick(self.y1), "end"),
            text((left + right) / 2, self.h - 3, truncate(x_label, self.w - 20, SIZE), "middle"),
        ]
        if y_label:
            out.append(text(8, TOP + (b - TOP) / 2, truncate(y_label, b - TOP, SIZE), "middle",
                            f' transform="rotate(-90 8 {TOP + (b - TOP) / 2:.1f})"'))  # fmt: skip
        return out


def _svg(width: float, height: float, body: list[str], cls: str, title: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" version="1.1" class="chart {cls}" width="{width:.0f}" '
        f'height="{height:.0f}" viewBox="0 0 {width:.0f} {height:.0f}"><title>{xml_text(title)}</title>'
        + "".join(body)
        + "</svg>"
    )


def _legend(names: list[str], colours: list[str], x: float, width: float) -> list[str]:
    out = []
    for k, (name, colour) in enumerate(zip(names, colours, strict=True)):
        y = TOP + 4 + k * (SIZE + 3)
        out.append(
            f'<rect x="{x:.1f}" y="{y - SIZE + 1:.1f}" width="6" height="{SIZE - 1}" fill="{colour}"/>'
        )
        out.append(
            f'<text x="{x + 8:.1f}" y="{y:.1f}" font-size="{SIZE}" fill="{TEXT}">'
            f"{xml_text(truncate(name, width - 10, SIZE))}</text>"
        )
    return out


def line_chart(
    xs: Sequence[object],
    series: Sequence[tuple[str, Sequence[object]]],
    *,
    x_label: str,
    y_label: str = "",
    width: float = 320.0,
    height: float = 140.0,
    legend_width: float = 90.0,
    colours: Sequence[str] | None = None,
) -> str:
    """One polyline per series over `xs` (gaps where a value is missing), a legend on the right; series k
    is drawn in `colours[k]` (default: the series palette, as many series as it has colours)."""
    colours = list(colours) if colours is not None else PALETTE["series"]
    series = list(series)[: len(colours)]
    points = [
        [(float(x), float(y)) for x, y in zip(xs, ys, strict=False) if _finite(x) and _finite(y)]
        for _, ys in series
    ]
    all_x = [p[0] for pts in points for p in pts]
    all_y = [p[1] for pts in points for p in pts]
    plot_w = width - legend_width
    frame = _Frame(all_x, [0.0, *all_y], plot_w, height)  # probabilities: the y axis starts at 0
    body = frame.axes(x_label, y_label)
    colours = colours[: len(series)]
    for pts, colour in zip(points, colours, strict=True):
        if not pts:
            continue
        d = "M" + "L".join(f"{frame.px(x):.1f} {frame.py(y):.1f}" for x, y in pts)
        body.append(f'<path d="{d}" fill="none" stroke="{colour}" stroke-width="1.2"/>')
        body += [
            f'<circle cx="{frame.px(x):.1f}" cy="{frame.py(y):.1f}" r="1.4" fill="{colour}"/>' for x, y in pts
        ]
    body += _legend([name for name, _ in series], colours, plot_w + 4, legend_width)
    return _svg(width, height, body, "line", f"{y_label} by {x_label}")


def scatter_chart(
    points: Sequence[tuple[str, object, object]],
    *,
    x_label: str,
    y_label: str,
    width: float = 200.0,
    height: float = 160.0,
    diagonal: bool = True,
) -> str:
    """Labelled points (label, x, y); with `diagonal`, the line y = x for reference."""
    pts = [(name, float(x), float(y)) for name, x, y in points if _finite(x) and _finite(y)]
    values = [p[1] for p in pts] + [p[2] for p in pts]
    xs, ys = (values, values) if diagonal else ([p[1] for p in pts], [p[2] for p in pts])
    frame = _Frame(xs, ys, width, height, pad=0.08)
    body = frame.axes(x_label, y_label)
    if diagonal:
        lo, hi = frame.x0, frame.x1
        body.append(
            f'<path d="M{frame.px(lo):.1f} {frame.py(lo):.1f}L{frame.px(hi):.1f} {frame.py(hi):.1f}" '
            f'stroke="{AXIS}" stroke-width="0.5" stroke-dasharray="2 2" fill="none"/>'
        )
    for name, x, y in pts:
        cx, cy = frame.px(x), frame.py(y)
        body.append(f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="2" fill="{PALETTE["positive"]}"/>')
        left = cx > width / 2  # labels point inwards, so none leaves the chart
        body.append(
            f'<text x="{cx + (-3 if left else 3):.1f}" y="{cy - 2:.1f}" font-size="{SIZE - 1}" fill="{TEXT}" '
            f'text-anchor="{"end" if left else "start"}">{xml_text(truncate(name, 60, SIZE - 1))}</text>'
        )
    return _svg(width, height, body, "scatter", f"{y_label} against {x_label}")


def bar_chart(
    edges: Sequence[object],
    counts: Sequence[object],
    *,
    x_label: str,
    width: float = 200.0,
    height: float = 80.0,
) -> str:
    """A histogram: bar k spans [edges[k], edges[k + 1]] with height counts[k]."""
    n = min(len(counts), max(len(edges) - 1, 0))
    bars = [
        (float(edges[k]), float(edges[k + 1]), float(counts[k]))
        for k in range(n)
        if _finite(edges[k]) and _finite(edges[k + 1]) and _finite(counts[k])
    ]
    xs = [b[0] for b in bars] + [b[1] for b in bars]
    frame = _Frame(xs, [0.0] + [b[2] for b in bars], width, height)
    body = frame.axes(x_label, "")
    for lo, hi, c in bars:
        x0, x1, y = frame.px(lo), frame.px(hi), frame.py(c)
        body.append(
            f'<rect x="{x0:.1f}" y="{y:.1f}" width="{max(x1 - x0 - 0.3, 0.3):.1f}" '
            f'height="{max(frame.py(0.0) - y, 0):.1f}" fill="{PALETTE["feature"]}"/>'
        )
    return _svg(width, height, body, "bars", x_label)
