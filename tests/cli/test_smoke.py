from attrgraph_cli.report.layout import compute_layout
from attrgraph_testing.synthetic import random_graph


def test_help_runs(cli):
    out = cli("--help", fresh=True)
    assert out.code == 0
    assert "attribution graphs" in out.stdout


def test_layout_rows_and_columns():
    g = random_graph(n_links=2000, seed=3)
    layout = compute_layout(g)
    kind = g.nodes.kind
    assert (layout.row[kind == 3] == 0).all()  # logits on top
    assert (layout.row[kind == 0] == layout.n_rows - 1).all()  # embeddings at the bottom
    # no two nodes share a spot
    spots = set(zip(layout.x.round(6).tolist(), layout.y.round(6).tolist(), strict=True))
    assert len(spots) == len(g.nodes)
    # every node inside its token column
    left = layout.column_left[g.nodes.position]
    assert ((layout.x >= left) & (layout.x <= left + layout.column_width[g.nodes.position])).all()
