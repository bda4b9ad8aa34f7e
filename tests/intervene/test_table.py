"""`intervene`'s table and records say what they compare (issue 26, point 3): the mode, that Δ is the demeaned
logit change (the raw logits labelled raw), a flag where measured and predicted disagree beyond the stated
tolerance or in sign, a swap's prediction marked partial, and a summary line over several targets/records."""

from __future__ import annotations

import io

import pytest

from attrgraph_cli.intervene import agreement
from attrgraph_cli.intervene.table import print_records
from attrgraph_testing.cli import run_cli


def test_mode_names_every_setting():
    assert agreement.mode({"direct": True, "freeze_attention": True}) == "direct"
    assert agreement.mode({"direct": False, "freeze_attention": True}) == "frozen attention"
    assert agreement.mode({"direct": False, "freeze_attention": False}) == "full"
    assert (
        agreement.mode({"constrained_layers": [0, 1], "freeze_attention": False}) == "constrained layers 0:2"
    )


@pytest.mark.parametrize(
    ("measured", "predicted", "expected"),
    [
        (-6.634, -3.849, None),  # 0_259_7 under frozen attention: 1.7x, within the tolerance
        (0.054, -0.434, "sign"),  # 0_232_5: the wrong sign
        (-0.038, -0.748, "magnitude"),  # 0_435_2: 20x
        (0.91, -4.00, "sign"),  # the Houston swap control: predicted -4.00, measured +0.91
        (0.01, -0.02, None),  # both below the floor: not flagged
        (None, -1.0, None),
    ],
)
def test_flags_follow_the_stated_tolerance(measured, predicted, expected):
    assert agreement.flag(measured, predicted) == expected


def test_summary_is_pearson_spearman_and_sign_agreement():
    pairs = [(-6.634, -3.849), (-1.693, -1.521), (-1.204, -1.291), (0.054, -0.434), (-0.35, -0.661)]
    s = agreement.summary(pairs)
    assert s["n"] == 5 and s["sign_agreement"] == pytest.approx(0.8) and s["flagged"] == 1
    assert 0.9 < s["pearson"] <= 1.0 and s["spearman"] == pytest.approx(1.0)  # same order on both sides
    # the demo's 12 single-feature ablations (frozen attention): Pearson 0.98 but Spearman 0.61 (issue 26)
    twelve = [
        (-0.059, -0.304), (-0.038, -0.748), (0.054, -0.434), (-6.634, -3.849), (-0.402, -0.313),
        (-1.693, -1.521), (-0.121, -0.55), (-0.196, -0.497), (-1.204, -1.291), (-0.219, -0.355),
        (-0.35, -0.661), (-0.697, -0.719),
    ]  # fmt: skip
    s12 = agreement.summary(twelve)
    assert s12["pearson"] == pytest.approx(0.98, abs=0.01) and s12["spearman"] == pytest.approx(
        0.61, abs=0.01
    )
    assert s12["sign_agreement"] == pytest.approx(11 / 12) and s12["flagged"] == 5
    assert agreement.summary(pairs[:2]) is None  # fewer than 3: no correlation claimed
    assert "Pearson" in agreement.summary_text(s) and "sign agreement 4/5" in agreement.summary_text(s)


def _record(
    name: str, targets: list[tuple[str, float, float]], *, n_sites=2, predicted_sites=2, direct=False
):
    rec = {
        "name": name,
        "kind": "intervention",
        "spec": [{"op": "ablate", "nodes": ["0_259_7"], "text": f"--ablate {name}"}],
        "settings": {"direct": direct, "freeze_attention": True},
        "targets": [
            {
                "token": tok,
                "logit_before": 12.121,
                "logit_after": 9.693,
                "measured_delta": m,
                "predicted_delta": p,
                "p_before": 0.99,
                "p_after": 0.5,
                "rank_before": 1,
                "rank_after": 1,
            }
            for tok, m, p in targets
        ],
    }
    agreement.annotate(rec, n_sites, predicted_sites)
    return rec


def _printed(records) -> str:
    from rich.console import Console

    out = io.StringIO()
    print_records(records, Console(file=out, width=200, color_system=None))
    return out.getvalue()


def test_table_states_mode_units_flags_and_summaries():
    one = _record("a", [("Austin", -2.705, -2.6), ("Olympia", 0.9, -4.0), ("Phoenix", 0.2, 0.3)])
    two = _record("b", [("Austin", -1.0, -3.0), ("Olympia", 0.1, 0.1), ("Phoenix", 0.5, 0.4)], direct=True)
    text = _printed([one, two])
    assert "mode: frozen attention" in text and "mode: direct" in text
    assert "raw logit before → after" in text and "Δ = demeaned logit change" in text
    assert "sign ✗" in text and ">2x" in text  # Olympia's sign; Austin 3x in the second record
    assert agreement.TOLERANCE_TEXT in text
    assert "measured vs predicted over the targets, n=3" in text
    assert "run: measured vs predicted over 2 interventions" in text and "direct, frozen attention" in text
    assert one["targets"][1]["flag"] == "sign" and one["prediction"]["summary"]["n"] == 3


def test_a_swap_prediction_is_marked_partial():
    rec = _record("swap", [("Austin", -7.0, -4.0)], n_sites=71, predicted_sites=2)
    assert rec["prediction"]["coverage"] == "partial"
    text = _printed([rec])
    assert "predicted Δ (partial)" in text and "covers 2 of the 71 changed features" in text
    none = _record("swap", [("Austin", -7.0, None)], n_sites=11, predicted_sites=0)
    assert none["prediction"]["coverage"] == "none"


@pytest.mark.trace
def test_records_on_the_demo_model_carry_mode_flags_and_coverage(tmp_path):
    pytest.importorskip("circuit_tracer")
    import torch

    from attrgraph_cli.intervene.api import Settings, ablate, load_model_for, run_interventions, swap
    from attrgraph_cli.intervene.spec import Intervention

    torch.set_num_threads(1)
    graph = _demo_graph(tmp_path)
    loaded = load_model_for(graph, device="cpu")
    items = [
        Intervention("ablate 0_232_5", [ablate("0_232_5")]),
        Intervention("houston", [swap("The capital of the state containing Houston is", "0_259_7")]),
    ]
    records = run_interventions(graph, items, Settings(device="cpu"), loaded=loaded)
    wrong_sign, houston = records
    assert wrong_sign["prediction"]["mode"] == "frozen attention"
    assert wrong_sign["targets"][0]["flag"] == "sign"  # measured +0.05, predicted -0.43 (issue 26)
    assert houston["prediction"]["coverage"] == "partial"
    assert houston["prediction"]["n_sites"] > houston["prediction"]["n_predicted_sites"] >= 1


def _demo_graph(tmp_path):
    from attrgraph_cli.io import load_graph

    folder = tmp_path
    prompt = "The capital of the state containing Dallas is"
    done = run_cli("trace", prompt, "-o", "d.json", "--device", "cpu", fresh=True, cwd=folder)
    assert done.code == 0, done.stderr
    return load_graph(folder / "d.json")


def test_report_section_says_the_same_and_needs_no_torch():
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from attrgraph_cli.intervene import agreement\n"
        "from attrgraph_cli.report.sections.interventions import view\n"
        "rec = {'name': 'x', 'kind': 'intervention', 'spec': [{'op': 'swap', 'nodes': []}],\n"
        "       'settings': {'freeze_attention': True}, 'targets': [\n"
        "       {'token': 'Austin', 'measured_delta': 0.91, 'predicted_delta': -4.0}]}\n"
        "agreement.annotate(rec, 71, 2)\n"
        "v = view(rec, 1)\n"
        "assert v.partial and v.targets[0].flag == 'sign differs', v\n"
        "assert any('mode: frozen attention' in line for line in v.prediction)\n"
        "assert any('covers 2 of the 71' in line for line in v.prediction)\n"
        "assert 'torch' not in sys.modules\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


def test_viewer_view_carries_flags_and_notes():
    from attrgraph_cli.report.views import intervention_view

    rec = _record("swap", [("Austin", 0.91, -4.0), ("Olympia", 5.0, 4.0), ("Phoenix", 0.1, 0.3)], n_sites=71)
    view = intervention_view(rec, 1)
    assert [t.flag for t in view.targets] == ["sign", None, "magnitude"]
    assert view.notes[0].startswith("mode: frozen attention; Δ = demeaned logit change")
    assert any("Pearson" in line for line in view.notes)
