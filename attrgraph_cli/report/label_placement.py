"""Greedy, overlap-free placement of text labels next to figure nodes.

Candidates come in priority order; each tries a few spots around its node (right, left, above, below)
and takes the first whose box hits no box placed so far and no obstacle. A candidate with no free spot
gets no label: a figure with fewer labels beats one with labels on top of each other.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from attrgraph_cli.report.textmetrics import ASCENT, DESCENT, text_width

#: gap between a node's edge and its label
GAP = 2.5
#: padding kept free around every label box
PAD = 0.6


@dataclass(frozen=True)
class Box:
    x0: float
    y0: float
    x1: float
    y1: float

    def overlaps(self, other: Box) -> bool:
        return self.x0 < other.x1 and other.x0 < self.x1 and self.y0 < other.y1 and other.y0 < self.y1

    def grown(self, pad: float) -> Box:
        return Box(self.x0 - pad, self.y0 - pad, self.x1 + pad, self.y1 + pad)


@dataclass(frozen=True)
class LabelRequest:
    """A label wanted for node `node` at (x, y) with marker radius `r`; `prefer` orders the spots."""

    node: int
    text: str
    x: float
    y: float
    r: float
    size: float
    prefer: tuple[str, ...] = ("right", "left", "above", "below")
    bold: bool = False


@dataclass(frozen=True)
class PlacedLabel:
    """A label's text, anchor point (SVG `x`, baseline `y`, `text-anchor`) and its box."""

    node: int
    text: str
    x: float
    y: float
    anchor: str
    box: Box
    size: float
    bold: bool


class _Grid:
    """Uniform-grid spatial hash of boxes, for fast overlap queries."""

    def __init__(self, cell: float) -> None:
        self.cell = max(cell, 1.0)
        self.cells: dict[tuple[int, int], list[Box]] = {}

    def _keys(self, box: Box) -> Iterable[tuple[int, int]]:
        c = self.cell
        for i in range(int(box.x0 // c), int(box.x1 // c) + 1):
            for j in range(int(box.y0 // c), int(box.y1 // c) + 1):
                yield i, j

    def add(self, box: Box) -> None:
        for key in self._keys(box):
            self.cells.setdefault(key, []).append(box)

    def hits(self, box: Box) -> bool:
        return any(other.overlaps(box) for key in self._keys(box) for other in self.cells.get(key, ()))


def label_box(text: str, x: float, y: float, anchor: str, size: float, bold: bool = False) -> Box:
    """Box of `text` drawn at SVG position (x, baseline y) with `text-anchor` `anchor`."""
    width = text_width(text, size, bold)
    left = {"start": x, "middle": x - width / 2, "end": x - width}[anchor]
    return Box(left, y - ASCENT * size, left + width, y + DESCENT * size)


def _spot(req: LabelRequest, where: str) -> tuple[float, float, str]:
    mid = req.y + (ASCENT - DESCENT) * req.size / 2  # baseline that centres the text on the node
    if where == "right":
        return req.x + req.r + GAP, mid, "start"
    if where == "left":
        return req.x - req.r - GAP, mid, "end"
    if where == "above":
        return req.x, req.y - req.r - GAP - DESCENT * req.size, "middle"
    if where == "above2":
        return req.x, req.y - req.r - GAP - DESCENT * req.size - 1.15 * req.size, "middle"
    return req.x, req.y + req.r + GAP + ASCENT * req.size, "middle"


def place_labels(
    requests: Iterable[LabelRequest],
    obstacles: Iterable[Box] = (),
    soft_obstacles: Iterable[Box] = (),
    cell: float = 24.0,
) -> list[PlacedLabel]:
    """Place each request at its first free spot (in priority order); skip those with none.

    A label never overlaps another label or a (hard) obstacle. It avoids `soft_obstacles` (e.g. unlabelled
    nodes) when one of its spots allows, and otherwise covers them.
    """
    hard = _Grid(cell)
    soft = _Grid(cell)
    for box in obstacles:
        hard.add(box)
    for box in soft_obstacles:
        soft.add(box)
    placed: list[PlacedLabel] = []
    for req in requests:
        if not req.text:
            continue
        spots = []
        for where in req.prefer:
            x, y, anchor = _spot(req, where)
            box = label_box(req.text, x, y, anchor, req.size, req.bold)
            if not hard.hits(box.grown(PAD)):
                spots.append((soft.hits(box), x, y, anchor, box))
        if not spots:
            continue
        _, x, y, anchor, box = min(spots, key=lambda spot: spot[0])  # first spot clear of soft obstacles
        hard.add(box.grown(PAD))
        placed.append(PlacedLabel(req.node, req.text, x, y, anchor, box, req.size, req.bold))
    return placed
