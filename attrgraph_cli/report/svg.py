"""A standalone vector figure of an attribution graph (SVG), from the layout the HTML viewer uses.

Built for papers: a tight bounding box; token labels under the columns and layer labels on the left;
labels on the most influential features, placed without overlaps; supernodes as labelled boxes; edges
merged by stroke style (sign x magnitude bucket) into a handful of `<path>` elements, only the strongest
ones drawn, with the thresholds used stated in a caption inside the figure. WeasyPrint embeds the same
SVG in the PDF report, so everything here is plain SVG 1.1 that it renders (no CSS, no filters).

Labels, colours and which nodes are labelled come from `report.semantics` (as in the PDF's tables and the
viewer). Every string from the graph is untrusted: it is stripped of characters XML forbids and escaped
(`report.text`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from attrgraph_cli.clip import MAX_TITLE, clip
from attrgraph_cli.graph.model import AttributionGraph, NodeKind
from attrgraph_cli.io.atomic import atomic_write_text
from attrgraph_cli.report import semantics
from attrgraph_cli.report.label_placement import Box, LabelRequest, PlacedLabel, label_box, place_labels
from attrgraph_cli.report.layout import Layout, compute_layout
from attrgraph_cli.report.semantics import DEFAULTS, PALETTE, Semantics, kind_color, supernode_color
from attrgraph_cli.report.text import clean_text, token_text, xml_text
from attrgraph_cli.report.textmetrics import ASCENT, DESCENT, text_width, truncate

#: font stack of the standalone SVG (the PDF passes its embedded font's family instead)
DEFAULT_FONT_FAMILY = "DejaVu Sans, Verdana, Arial, sans-serif"

#: node outline (fills: `semantics.PALETTE`); glyphs: feature circle, error diamond, embedding square,
#: logit triangle
NODE_OUTLINE = "#ffffff"
PINNED_STROKE = "#111111"
#: |w| / max shown |w| bucket edges; each bucket has its own stroke width and opacity
EDGE_BUCKETS = (0.1, 0.25, 0.5)
EDGE_WIDTHS = (0.35, 0.6, 1.0, 1.7)
EDGE_OPACITIES = (0.22, 0.35, 0.55, 0.8)
TEXT_COLOUR = "#222222"
MUTED_COLOUR = "#666666"


@dataclass
class FigureOptions:
    """What the figure shows and how big it is drawn (lengths in SVG px)."""

    width: float = 380.0
    max_edges: int = DEFAULTS.max_edges
    min_weight: float = DEFAULTS.min_weight
    labels: int = DEFAULTS.figure_labels
    logit_labels: int = DEFAULTS.logit_labels
    display_influence_threshold: float | None = None  # display: hide nodes ranked past this influence share
    show_errors: bool = True
    font_family: str = DEFAULT_FONT_FAMILY
    label_size: float = 9.0
    token_size: float = 9.5
    axis_size: float = 8.0
    caption_size: float = 7.5
    max_label_width: float = 120.0
    caption: bool = True


@dataclass
class SvgFigure:
    """The SVG text plus the geometry tests and the PDF need.

    `node_x`/`node_y` are node centres in the SVG's own coordinates (origin at the top-left of the
    viewBox, px); NaN for nodes not drawn. `edge_threshold` is the smallest |weight| drawn (NaN if none).
    """

    svg: str
    width: float
    height: float
    node_x: np.ndarray
    node_y: np.ndarray
    node_r: float
    labels: list[PlacedLabel]
    n_edges_drawn: int
    edge_threshold: float
    caption: list[str] = field(default_factory=list)

    def sized(self, width: str, height: str) -> str:
        """The SVG with its root `width`/`height` replaced (e.g. by "120mm"); the viewBox keeps the shape."""
        current = f'width="{_fmt(self.width)}" height="{_fmt(self.height)}"'
        return self.svg.replace(current, f'width="{width}" height="{height}"', 1)


def _fmt(v: float) -> str:
    return f"{v:.1f}".rstrip("0").rstrip(".") if abs(v) < 1e6 else f"{v:.0f}"


def visible_nodes(graph: AttributionGraph, opts: FigureOptions) -> np.ndarray:
    """Mask of nodes drawn: the node-influence threshold and the error toggle apply to features/errors."""
    kind = graph.nodes.kind
    inner = (kind == NodeKind.FEATURE) | (kind == NodeKind.ERROR)
    keep = np.ones(len(kind), dtype=bool)
    if opts.display_influence_threshold is not None:
        infl = graph.nodes.influence
        keep &= ~inner | np.isnan(infl) | (infl <= opts.display_influence_threshold)
    if not opts.show_errors:
        keep &= kind != NodeKind.ERROR
    return keep


def select_edges(graph: AttributionGraph, visible: np.ndarray, opts: FigureOptions) -> np.ndarray:
    """Indices of the edges drawn: both ends visible, |w| >= min_weight, the `max_edges` strongest."""
    edges = graph.edges
    if not len(edges) or opts.max_edges <= 0:
        return np.empty(0, dtype=np.int64)
    mag = np.abs(edges.weight)
    ok = np.flatnonzero(visible[edges.source] & visible[edges.target] & (mag >= opts.min_weight) & (mag > 0))
    if len(ok) > opts.max_edges:
        ok = ok[np.argpartition(-mag[ok], opts.max_edges - 1)[: opts.max_edges]]
    return ok[np.argsort(mag[ok], kind="stable")]


class _Scale:
    """Maps layout units to figure px."""

    def __init__(self, layout: Layout, opts: FigureOptions) -> None:
        self.sx = min(opts.width / max(layout.width, 1.0), 34.0)
        self.sy = float(np.clip(440.0 / max(layout.n_rows, 1), 12.0, 40.0))
        self.r = float(np.clip(min(self.sx, self.sy) * 0.36, 1.3, 6.0))

    def x(self, v):
        return v * self.sx

    def y(self, v):
        return v * self.sy


def _circle(x: float, y: float, r: float) -> str:
    """A circle as four cubic Béziers (renderers draw these much faster than `a` arcs)."""
    k, d = _fmt(0.5523 * r), _fmt(r - 0.5523 * r)
    rr = _fmt(r)
    return (
        f"M{_fmt(x + r)} {_fmt(y)}c0 {k} -{d} {rr} -{rr} {rr}c-{k} 0 -{rr} -{d} -{rr} -{rr}"
        f"c0 -{k} {d} -{rr} {rr} -{rr}c{k} 0 {rr} {d} {rr} {rr}Z"
    )


def _rect(x: float, y: float, hw: float, hh: float) -> str:
    return f"M{_fmt(x - hw)} {_fmt(y - hh)}h{_fmt(2 * hw)}v{_fmt(2 * hh)}h{_fmt(-2 * hw)}Z"


def _polygon(points: list[tuple[float, float]]) -> str:
    return "M" + "L".join(f"{_fmt(px)} {_fmt(py)}" for px, py in points) + "Z"


def _marker(kind: int, x: float, y: float, r: float) -> str:
    if kind == NodeKind.FEATURE:
        return _circle(x, y, r)
    if kind == NodeKind.ERROR:
        return _polygon([(x, y - r), (x + r, y), (x, y + r), (x - r, y)])
    if kind == NodeKind.EMBEDDING:
        return _rect(x, y, r * 0.9, r * 0.9)
    return _polygon([(x, y - 1.15 * r), (x + r, y + 0.7 * r), (x - r, y + 0.7 * r)])


def _edge_paths(graph: AttributionGraph, chosen: np.ndarray, x: np.ndarray, y: np.ndarray) -> list[str]:
    if not len(chosen):
        return []
    w = graph.edges.weight[chosen]
    mag = np.abs(w)
    level = np.digitize(mag / mag.max(), EDGE_BUCKETS)
    src, tgt = graph.edges.source[chosen], graph.edges.target[chosen]
    coords = np.round(np.stack([x[src], y[src], x[tgt], y[tgt]], axis=1), 1)
    out = []
    for lvl in range(len(EDGE_WIDTHS)):
        for positive, colour in ((True, PALETTE["positive"]), (False, PALETTE["negative"])):
            sel = (level == lvl) & ((w > 0) == positive)
            if not sel.any():
                continue
            d = "".join(f"M{_fmt(a)} {_fmt(b)}L{_fmt(c)} {_fmt(e)}" for a, b, c, e in coords[sel].tolist())
            sign = "pos" if positive else "neg"
            out.append(
                f'<path class="edges {sign} w{lvl}" d="{d}" stroke="{colour}" '
                f'stroke-width="{EDGE_WIDTHS[lvl]}" stroke-opacity="{EDGE_OPACITIES[lvl]}"/>'
            )
    return out


def _text(
    x: float,
    y: float,
    text: str,
    size: float,
    anchor: str = "start",
    colour: str = TEXT_COLOUR,
    extra: str = "",
    cls: str = "",
) -> str:
    klass = f' class="{cls}"' if cls else ""
    return (
        f'<text{klass} x="{_fmt(x)}" y="{_fmt(y)}" font-size="{size}" text-anchor="{anchor}" '
        f'fill="{colour}"{extra}>{xml_text(text)}</text>'
    )


def _axes(
    graph: AttributionGraph, layout: Layout, scale: _Scale, opts: FigureOptions
) -> tuple[list[str], list[Box], str]:
    """Row labels on the left, tokens under the columns (horizontal unless neighbours would touch), and the
    faint guides between rows and columns: (svg parts, their boxes as label obstacles, guides path)."""
    axes: list[str] = []
    obstacles: list[Box] = []
    step = max(1, math.ceil((opts.axis_size + 2) / scale.sy))
    for row, text in enumerate(layout.row_labels):
        if row % step and row not in (0, layout.n_rows - 1):
            continue
        ty = scale.y(row + 0.5) + (ASCENT - DESCENT) * opts.axis_size / 2
        axes.append(_text(-6, ty, text, opts.axis_size, "end", MUTED_COLOUR, cls="row-label"))
        obstacles.append(label_box(text, -6, ty, "end", opts.axis_size))
    tokens = graph.prompt_tokens
    n_pos = len(layout.column_left)
    shown = [
        truncate(token_text(tokens[p]) if p < len(tokens) else f"[{p}]", 90, opts.token_size)
        for p in range(n_pos)
    ]
    centres = scale.x(layout.column_center)
    # horizontal tokens unless two neighbours would touch (a token may use its neighbours' spare room)
    widths = np.array([text_width(t, opts.token_size) for t in shown])
    rotate = bool(np.any(np.diff(centres) < (widths[:-1] + widths[1:]) / 2 + 4)) if n_pos > 1 else False
    plot_w, plot_h = scale.x(layout.width), scale.y(layout.height)
    token_y = plot_h + 4 + ASCENT * opts.token_size
    for p, text in enumerate(shown):
        cx = float(centres[p])
        if rotate:
            turn = f' transform="rotate(-40 {_fmt(cx)} {_fmt(token_y)})"'
            axes.append(_text(cx, token_y, text, opts.token_size, "end", TEXT_COLOUR, turn, cls="token"))
            wdt = text_width(text, opts.token_size)
            c, s = math.cos(math.radians(40)), math.sin(math.radians(40))
            obstacles.append(
                Box(
                    cx - wdt * c - 2,
                    token_y - ASCENT * opts.token_size,
                    cx + 4,
                    token_y + wdt * s + DESCENT * opts.token_size,
                )
            )
        else:
            axes.append(_text(cx, token_y, text, opts.token_size, "middle", TEXT_COLOUR, cls="token"))
            obstacles.append(label_box(text, cx, token_y, "middle", opts.token_size))
    guides = "".join(f"M0 {_fmt(scale.y(row))}H{_fmt(plot_w)}" for row in range(1, layout.n_rows))
    guides += "".join(
        f"M{_fmt(scale.x(left - 0.5))} 0V{_fmt(plot_h)}" for left in layout.column_left[1:].tolist()
    )
    return axes, obstacles, guides


@dataclass
class _Placed:
    """Node positions in figure px, the marker radius and which nodes are drawn (shared by the phases)."""

    x: np.ndarray
    y: np.ndarray
    r: float
    visible: np.ndarray
    index: dict[str, int]


def _supernode_boxes(
    graph: AttributionGraph, at: _Placed, opts: FigureOptions
) -> tuple[list[str], list[LabelRequest]]:
    """A labelled box around each supernode's drawn members: (svg rects, their name labels' requests)."""
    groups: list[str] = []
    group_labels: list[LabelRequest] = []
    x, y = at.x, at.y
    for g, (name, *members) in enumerate(graph.supernodes):
        rows = [at.index[m] for m in members if m in at.index and at.visible[at.index[m]]]
        if not rows:
            continue
        colour = supernode_color(g)
        pad = at.r + 2.5
        x0, x1 = float(x[rows].min()) - pad, float(x[rows].max()) + pad
        y0, y1 = float(y[rows].min()) - pad, float(y[rows].max()) + pad
        groups.append(
            f'<rect class="supernode" x="{_fmt(x0)}" y="{_fmt(y0)}" width="{_fmt(x1 - x0)}" '
            f'height="{_fmt(y1 - y0)}" rx="3" fill="{colour}" fill-opacity="0.12" stroke="{colour}" '
            f'stroke-width="1"/>'
        )
        text = truncate(clean_text(name), opts.max_label_width, opts.label_size, bold=True)
        x_mid = x0 + text_width(text, opts.label_size, bold=True) / 2
        group_labels.append(
            LabelRequest(-1 - g, text, x_mid, y0, 0.0, opts.label_size, ("above", "below"), bold=True)
        )
    return groups, group_labels


def _node_paths(graph: AttributionGraph, at: _Placed, pinned_rows: list[int]) -> list[str]:
    """The nodes, merged into one path per style, and a ring around the pinned ones."""
    nodes, x, y, r = graph.nodes, at.x, at.y, at.r
    node_paths: list[str] = []
    vis_idx = np.flatnonzero(at.visible)
    for kind in (NodeKind.EMBEDDING, NodeKind.LOGIT, NodeKind.ERROR, NodeKind.FEATURE):
        sel = vis_idx[nodes.kind[vis_idx] == kind]
        if not len(sel):
            continue
        fill, stroke = kind_color(kind), NODE_OUTLINE
        line = max(0.4, r * 0.18)
        name = kind.name.lower()
        if kind == NodeKind.FEATURE:
            # dots: a near-zero-length segment with a round cap per node, outline then fill -- one
            # point per node keeps the path small and fast to draw for thousands of nodes
            d = "".join(f"M{_fmt(x[i])} {_fmt(y[i])}h0.01" for i in sel.tolist())
            for cls, colour, size in ((f"{name}-outline", stroke, 2 * r + line), (name, fill, 2 * r - line)):
                node_paths.append(
                    f'<path class="nodes {cls}" d="{d}" fill="none" stroke="{colour}" '
                    f'stroke-width="{_fmt(size)}" stroke-linecap="round"/>'
                )
            continue
        d = "".join(_marker(int(kind), float(x[i]), float(y[i]), r) for i in sel.tolist())
        node_paths.append(
            f'<path class="nodes {name}" d="{d}" fill="{fill}" stroke="{stroke}" '
            f'stroke-width="{_fmt(line)}"/>'
        )
    if pinned_rows:
        d = "".join(
            _marker(int(nodes.kind[i]), float(x[i]), float(y[i]), r + 0.8) for i in sorted(pinned_rows)
        )
        node_paths.append(
            f'<path class="pinned" d="{d}" fill="none" stroke="{PINNED_STROKE}" stroke-width="1.2"/>'
        )
    return node_paths


def _labels(
    graph: AttributionGraph,
    sem: Semantics,
    at: _Placed,
    opts: FigureOptions,
    obstacles: list[Box],
    group_labels: list[LabelRequest],
    pinned_rows: list[int],
) -> tuple[list[PlacedLabel], list[str]]:
    """Supernode names, top logits, then the pinned and most influential features, placed without overlaps
    (`obstacles` grows by the node boxes that must stay clear): (placed labels, their svg)."""
    nodes, x, y, r = graph.nodes, at.x, at.y, at.r
    soft: list[Box] = []
    vis_idx = np.flatnonzero(at.visible)
    feat_idx = vis_idx[nodes.kind[vis_idx] == NodeKind.FEATURE]
    ranked = feat_idx[np.argsort(sem.rank[feat_idx], kind="stable")]
    pinned_set = set(pinned_rows)
    pinned_first = [i for i in ranked.tolist() if i in pinned_set]
    rest = [i for i in ranked[: max(opts.labels, 0)].tolist() if i not in pinned_set]
    to_label = set(pinned_first + rest)
    for i in vis_idx.tolist():
        kind = int(nodes.kind[i])
        hw = hh = (1.15 * r if kind == NodeKind.LOGIT else r) + 0.5
        box = Box(x[i] - hw, y[i] - hh, x[i] + hw, y[i] + hh)
        is_hard = i in to_label or kind in (NodeKind.LOGIT, NodeKind.EMBEDDING)
        (obstacles if is_hard else soft).append(box)
    requests = list(group_labels)
    logits = semantics.top_logits(graph, len(nodes))
    for i in logits[at.visible[logits]][: opts.logit_labels].tolist():
        text = truncate(sem.short[i], opts.max_label_width, opts.label_size)
        requests.append(
            LabelRequest(
                i, text, float(x[i]), float(y[i]), r * 1.15, opts.label_size, ("above", "above2", "below")
            )
        )
    for i in pinned_first + rest:
        text = truncate(sem.display[i], opts.max_label_width, opts.label_size)
        requests.append(LabelRequest(i, text, float(x[i]), float(y[i]), r, opts.label_size))
    placed = place_labels(requests, obstacles, soft, cell=max(24.0, opts.label_size * 3))
    label_svg: list[str] = []
    for lab in placed:
        b = lab.box
        label_svg.append(
            f'<rect x="{_fmt(b.x0 - 0.8)}" y="{_fmt(b.y0)}" width="{_fmt(b.x1 - b.x0 + 1.6)}" '
            f'height="{_fmt(b.y1 - b.y0)}" fill="#ffffff" fill-opacity="0.78"/>'
        )
        weight = ' font-weight="bold"' if lab.bold else ""
        cls = "label supernode-label" if lab.node < 0 else "label"
        label_svg.append(_text(lab.x, lab.y, lab.text, lab.size, lab.anchor, TEXT_COLOUR, weight, cls))
    return placed, label_svg


@dataclass
class _Frame:
    """The figure's view box and its caption."""

    x0: float
    y0: float
    width: float
    height: float
    caption_lines: list[str]
    caption_svg: list[str]


def _frame(
    graph: AttributionGraph,
    opts: FigureOptions,
    boxes: list[Box],
    caption: tuple[np.ndarray, np.ndarray, float, list[PlacedLabel]],
) -> _Frame:
    """The bounding box of everything drawn, grown by the caption under it (`caption`: visible, chosen
    edges, edge threshold, placed labels)."""
    x0 = min(b.x0 for b in boxes) - 4
    y0 = min(b.y0 for b in boxes) - 4
    x1 = max(b.x1 for b in boxes) + 4
    y1 = max(b.y1 for b in boxes) + 2
    caption_lines: list[str] = []
    caption_svg: list[str] = []
    if opts.caption:
        visible, chosen, threshold, placed = caption
        caption_lines = _wrap(
            _caption(graph, visible, chosen, threshold, placed, opts), max(x1 - x0, 240.0), opts.caption_size
        )
        line_h = opts.caption_size * 1.3
        for k, line in enumerate(caption_lines):
            cy = y1 + 4 + ASCENT * opts.caption_size + k * line_h
            caption_svg.append(
                _text(x0 + 2, cy, line, opts.caption_size, "start", MUTED_COLOUR, cls="caption")
            )
        if caption_lines:
            x1 = max(x1, x0 + 2 + max(text_width(t, opts.caption_size) for t in caption_lines) + 4)
            y1 = y1 + 4 + len(caption_lines) * line_h + 2
    return _Frame(x0, y0, x1 - x0, y1 - y0, caption_lines, caption_svg)


def render_svg(
    graph: AttributionGraph,
    options: FigureOptions | None = None,
    layout: Layout | None = None,
    title: str | None = None,
    sem: Semantics | None = None,
) -> SvgFigure:
    """Draw `graph` as a standalone SVG figure; see the module docstring.

    Labels, colours and the choice of labelled nodes come from `sem` (`semantics.compute(graph)` when
    not given), as in the HTML viewer and the PDF's tables.
    """
    opts = options or FigureOptions()
    layout = layout or compute_layout(graph)
    sem = sem if sem is not None else semantics.compute(graph)
    n = len(graph.nodes)
    scale = _Scale(layout, opts)
    visible = visible_nodes(graph, opts)
    at = _Placed(
        scale.x(layout.x),
        scale.y(layout.y),
        scale.r,
        visible,
        {nid: i for i, nid in enumerate(graph.nodes.ids.tolist())},
    )
    chosen = select_edges(graph, visible, opts)
    plot_w, plot_h = scale.x(layout.width), scale.y(layout.height)
    axes, obstacles, guides = _axes(graph, layout, scale, opts)
    groups, group_labels = _supernode_boxes(graph, at, opts)
    pinned_rows = [at.index[p] for p in set(graph.pinned_ids) if p in at.index and visible[at.index[p]]]
    node_paths = _node_paths(graph, at, pinned_rows)
    placed, label_svg = _labels(graph, sem, at, opts, obstacles, group_labels, pinned_rows)
    threshold = float(np.abs(graph.edges.weight[chosen]).min()) if len(chosen) else float("nan")
    boxes = [Box(0.0, 0.0, plot_w, plot_h)] + obstacles + [lab.box for lab in placed]
    frame = _frame(graph, opts, boxes, (visible, chosen, threshold, placed))
    x0, y0, width, height = frame.x0, frame.y0, frame.width, frame.height

    if not title:
        title = f"Attribution graph: {graph.prompt}" if graph.prompt else "Attribution graph"
    title = clip(title, MAX_TITLE)
    parts = [
        '<svg xmlns="http://www.w3.org/2000/svg" version="1.1" '
        f'width="{_fmt(width)}" height="{_fmt(height)}" '
        f'viewBox="{_fmt(x0)} {_fmt(y0)} {_fmt(width)} {_fmt(height)}" '
        f'font-family="{xml_text(opts.font_family)}">',
        f"<title>{xml_text(title)}</title>",
        f"<desc>{xml_text(' '.join(frame.caption_lines))}</desc>",
        f'<rect x="{_fmt(x0)}" y="{_fmt(y0)}" width="{_fmt(width)}" height="{_fmt(height)}" fill="#ffffff"/>',
        f'<path class="guides" d="{guides}" fill="none" stroke="#eeeeee" stroke-width="0.6"/>'
        if guides
        else "",
        '<g class="supernodes">',
        *groups,
        "</g>",
        '<g class="edges" fill="none" stroke-linecap="round">',
        *_edge_paths(graph, chosen, at.x, at.y),
        "</g>",
        '<g class="nodes">',
        *node_paths,
        "</g>",
        '<g class="labels">',
        *label_svg,
        "</g>",
        '<g class="axes">',
        *axes,
        "</g>",
        '<g class="captions">',
        *frame.caption_svg,
        "</g>",
        "</svg>",
    ]
    node_x = np.where(visible, at.x - x0, np.nan) if n else np.empty(0)
    node_y = np.where(visible, at.y - y0, np.nan) if n else np.empty(0)
    return SvgFigure(
        svg="\n".join(p for p in parts if p) + "\n",
        width=width,
        height=height,
        node_x=node_x,
        node_y=node_y,
        node_r=at.r,
        labels=placed,
        n_edges_drawn=int(len(chosen)),
        edge_threshold=threshold,
        caption=frame.caption_lines,
    )


def _caption(
    graph: AttributionGraph,
    visible: np.ndarray,
    chosen: np.ndarray,
    threshold: float,
    placed: list[PlacedLabel],
    opts: FigureOptions,
) -> str:
    n, m = len(graph.nodes), len(graph.edges)
    nodes_part = f"{int(visible.sum()):,} of {n:,} nodes" if visible.sum() < n else f"{n:,} nodes"
    if opts.display_influence_threshold is not None:
        nodes_part += f" (influence \u2264 {opts.display_influence_threshold:g})"
    if len(chosen):
        rule = f"top {opts.max_edges:,} by |w|" if len(chosen) >= opts.max_edges else "all"
        if opts.min_weight > 0:
            rule += f", |w| \u2265 {opts.min_weight:.3g}"
        edges_part = f"{len(chosen):,} of {m:,} edges drawn ({rule}; smallest |w| {threshold:.3g})"
    else:
        edges_part = f"no edges drawn (of {m:,})"
    n_feat_labels = sum(
        1 for lab in placed if lab.node >= 0 and graph.nodes.kind[lab.node] == NodeKind.FEATURE
    )
    info = graph.metadata.get("info")
    if isinstance(info, dict) and info.get("edge_weights") == "unweighted":
        edges_part += " (unweighted graph: every link has weight 1, so widths mean nothing)"
    return (
        f"{nodes_part}; {edges_part}; blue = positive, red = negative. "
        f"{n_feat_labels} features labelled (the {opts.labels} most influential"
        f"{' and the pinned ones' if graph.pinned_ids else ''}, where a label fits)."
    )


def _wrap(text: str, width: float, size: float) -> list[str]:
    lines: list[str] = []
    current = ""
    for word in text.split(" "):
        trial = f"{current} {word}" if current else word
        if current and text_width(trial, size) > width:
            lines.append(current)
            current = word
        else:
            current = trial
    if current:
        lines.append(current)
    return lines


def write_svg(
    graph: AttributionGraph,
    path,
    *,
    title: str | None = None,
    top: int | None = None,
    embed_graph: bool = False,
    **opts,
) -> SvgFigure:
    """Write `graph` as a standalone SVG figure to `path` (atomically).

    `top` is how many of the most influential features get a label; `title` goes into the SVG's
    `<title>`; with `embed_graph` the graph JSON travels in a `<metadata>` element (`io/svg_bundle.py`);
    the other options are `FigureOptions` fields.
    """
    options = FigureOptions(**{k: v for k, v in opts.items() if v is not None})
    if top is not None:
        options.labels = top
    figure = render_svg(graph, options, title=title)
    svg = figure.svg
    if embed_graph:
        from attrgraph_cli.io.neuronpedia_json import dumps
        from attrgraph_cli.io.svg_bundle import embed_graph_metadata

        svg = embed_graph_metadata(svg, dumps(graph))
    atomic_write_text(path, '<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n' + svg)
    return figure
