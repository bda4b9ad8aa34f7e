"""Node placement shared by every renderer (HTML viewer, SVG figure, PDF report).

x by token position, y by layer: embeddings on the bottom row, one row per model layer, logits on the
top row. A column's width is the largest number of nodes in any of its cells; inside a cell nodes are
ordered by importance (circuit-tracer's `influence` is a cumulative score, so smaller = more important),
then by id, so the layout is deterministic.

Coordinates are abstract units: one node slot is 1 wide, one row is 1 high, y = 0 is the top (logit)
row. Each renderer scales x and y to its own canvas.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from attrgraph_cli.graph.model import AttributionGraph, NodeKind

#: empty slots between two token columns
COLUMN_GAP = 1.0
#: narrowest column, in slots (room for the token text under it)
MIN_COLUMN_WIDTH = 1.0


@dataclass
class Layout:
    """Positions of every node plus the geometry of the token columns and layer rows.

    - `x`, `y`: node centres (float64 arrays, one per node, abstract units).
    - `row`: the row of each node (0 = logits at the top ... n_rows - 1 = embeddings at the bottom).
    - `column_left`, `column_width`: per token position; the column spans
      [column_left, column_left + column_width].
    - `row_labels`: text for each row, top to bottom ("Logits", "L<n-1>", ..., "L0", "Emb").
    - `width`, `height`: extent of the drawing (height = n_rows).
    """

    x: np.ndarray
    y: np.ndarray
    row: np.ndarray
    column_left: np.ndarray
    column_width: np.ndarray
    row_labels: list[str]
    width: float
    height: float

    @property
    def column_center(self) -> np.ndarray:
        return self.column_left + self.column_width / 2

    @property
    def n_rows(self) -> int:
        return len(self.row_labels)


def node_rows(graph: AttributionGraph) -> tuple[np.ndarray, int]:
    """Row index of every node (0 = top) and the number of rows."""
    n_layers = graph.n_layers
    n_rows = n_layers + 2
    kind = graph.nodes.kind
    layer = np.clip(graph.nodes.layer, 0, max(n_layers - 1, 0))
    # layer L sits on row n_rows - 2 - L; embeddings on the bottom row, logits on row 0
    row = (n_rows - 2 - layer).astype(np.int64)
    row[kind == NodeKind.EMBEDDING] = n_rows - 1
    row[kind == NodeKind.LOGIT] = 0
    return row, n_rows


def compute_layout(graph: AttributionGraph) -> Layout:
    """Place every node of `graph`; see the module docstring for the rules."""
    nodes = graph.nodes
    n = len(nodes)
    n_pos = max(graph.n_positions, 1)
    row, n_rows = node_rows(graph)
    position = np.clip(nodes.position.astype(np.int64), 0, n_pos - 1)

    # order: by cell, then importance (NaN last), then kind (features before errors), then id
    importance = np.where(np.isnan(nodes.influence), np.inf, nodes.influence)
    ids = nodes.ids.astype(str) if n else np.array([], dtype=str)
    order = np.lexsort((ids, nodes.kind, importance, row, position)) if n else np.array([], dtype=np.int64)

    cell = position * n_rows + row
    slot = np.zeros(n, dtype=np.int64)
    if n:
        sorted_cells = cell[order]
        starts = np.r_[0, np.flatnonzero(np.diff(sorted_cells)) + 1]
        run_start = np.repeat(starts, np.diff(np.r_[starts, n]))
        slot[order] = np.arange(n) - run_start

    counts = np.zeros((n_pos, n_rows), dtype=np.int64)
    np.add.at(counts, (position, row), 1)
    column_width = np.maximum(counts.max(axis=1).astype(np.float64), MIN_COLUMN_WIDTH)
    column_left = np.r_[0.0, np.cumsum(column_width + COLUMN_GAP)[:-1]]

    # centre each cell's nodes inside its column
    cell_count = counts[position, row]
    offset = (column_width[position] - cell_count) / 2
    x = column_left[position] + offset + slot + 0.5
    y = row.astype(np.float64) + 0.5

    n_layers = n_rows - 2
    row_labels = ["Logits"] + [f"L{layer}" for layer in range(n_layers - 1, -1, -1)] + ["Emb"]
    width = float(column_left[-1] + column_width[-1]) if n_pos else 0.0
    return Layout(
        x=x,
        y=y,
        row=row,
        column_left=column_left,
        column_width=column_width,
        row_labels=row_labels,
        width=width,
        height=float(n_rows),
    )
