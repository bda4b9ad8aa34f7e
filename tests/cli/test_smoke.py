import subprocess
import sys

from attrgraph_cli.report.layout import compute_layout
from attrgraph_testing.synthetic import random_graph


def test_help_runs():
    out = subprocess.run([sys.executable, "-m", "attrgraph_cli", "--help"], capture_output=True, text=True)
    assert out.returncode == 0
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


def test_atomic_write_keeps_usual_permissions(tmp_path):
    import os
    import stat

    from attrgraph_cli.io.atomic import atomic_write_text

    out = tmp_path / "g.json"
    atomic_write_text(out, "{}")
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(out.stat().st_mode) == 0o666 & ~umask
    out.chmod(0o640)
    atomic_write_text(out, "{ }")
    assert stat.S_IMODE(out.stat().st_mode) == 0o640
    assert out.read_text() == "{ }"
    assert [p.name for p in tmp_path.iterdir()] == ["g.json"]


def test_atomic_path_replaces_only_on_success(tmp_path):
    import pytest

    from attrgraph_cli.io.atomic import atomic_path

    out = tmp_path / "raw.pt"
    out.write_bytes(b"old")
    with pytest.raises(RuntimeError), atomic_path(out) as tmp:
        tmp.write_bytes(b"half")
        raise RuntimeError("writer died")
    assert out.read_bytes() == b"old"
    with atomic_path(out) as tmp:
        tmp.write_bytes(b"new")
    assert out.read_bytes() == b"new"
    assert [p.name for p in tmp_path.iterdir()] == ["raw.pt"]
