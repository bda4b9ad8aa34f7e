"""Write MODEL_CARD.md from the measured metrics (numbers are never typed by hand)."""

from __future__ import annotations

from pathlib import Path

from attrgraph_cli.demo_model.facts import HELD_OUT_CITIES, REGIONS

BARS = {"one_hop": 0.95, "city_state": 0.95, "two_hop": 0.80}
FVE_BAR, L0_BAR = 0.8, 32.0

SET_DESCRIPTIONS = {
    "one_hop": "one-hop facts (state/country → capital, country → language), trained",
    "city_state": "city → state/country, the region right after the city (`The city of Dallas Texas`)",
    "two_hop": "two-hop questions that appear in training",
    "two_hop_held_out": "two-hop questions never trained (their city → region facts were): composition",
    "antonym": "antonyms, both directions, trained",
    "addition": "single-digit sums, trained",
    "addition_held_out": "single-digit sums never trained (their commuted form was)",
    "induction": "copying a random list of names (fresh random lists)",
}


def _ok(passed: bool) -> str:
    return "✅ meets the bar" if passed else "❌ below the bar"


def _share(value: float | None) -> str:
    return "n/a (the answer is not among the graph's logits)" if value is None else f"{value:.1%}"


def verdict(inter: dict) -> str:
    """ "Yes." when the ablation and the swap both survive their controls, "Partly." when one does, else
    "No, ..." (also when the features do not exist)."""
    ablation = inter.get("ablation_removes_half_the_margin", False) and inter.get(
        "ablation_survives_controls", False
    )
    votes = ablation + inter.get("swap_survives_controls", False)
    if not inter.get("n_intermediate_features") or votes == 0:
        return "No, not convincingly."
    return "Yes." if votes == 2 else "Partly."


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0%}"


def _control_lines(inter: dict) -> list[str]:
    """The ablation's controls, each with what it would refute and what it found."""
    c = inter.get("controls") or {}
    if not c:
        return []
    answer, m, top = inter["answer"], c["matched"], c["top_influence"]
    dist = m["margin"]
    alone, rest = c["strongest_alone"], c["rest_without_strongest"]
    lines = [
        f"- Matched control, {m['n_draws']} draws: {m['how']} (every other active feature of the prompt "
        f"could be drawn). Summed influence {m['member_influence']:.3f} for the set, "
        f"{m['control_influence_median']:.3f} for the median draw (5–95%: "
        f"{m['control_influence_p5_p95'][0]:.3f}–{m['control_influence_p5_p95'][1]:.3f}): at these layers "
        "and positions no other features are as influential, so this control matches place and size, "
        f"not influence. The margin after a draw: median {dist['median']:.2f} (5–95%: {dist['p5']:.2f}–"
        f"{dist['p95']:.2f}, min {dist['min']:.2f}); {_pct(m['share_removing_half_the_margin'])} of draws "
        f"remove half of it; the set's drop is at the {m['set_drop_percentile']:.0f}th percentile.",
        f"- Influence control: {top['how']} ({', '.join('`' + f + '`' for f in top['features'])}; summed "
        f"influence {top['influence_sum']:.3f}): p(`{answer}`) {top['answer_probability']:.3f}, margin "
        f"{top['margin']:.2f}. "
        + (
            "It too removes half of the margin: zeroing as much influence anywhere after the city does "
            "what zeroing the set does, so the ablation does not single these features out."
            if not c["survives_top_influence"]
            else "It does not remove half of the margin."
        ),
        f"- Split: `{alone['feature']}` alone takes p(`{answer}`) to {alone['answer_probability']:.4f} "
        f"(margin {alone['margin']:.2f}); the other {rest['n_features']} without it leave "
        f"{rest['answer_probability']:.3f} (margin {rest['margin']:.2f}).",
    ]
    return lines


def _swap_control_lines(inter: dict) -> list[str]:
    """The swap's two controls: random other features written in; the state features without zeroing."""
    lines: list[str] = []
    sw = (inter.get("swap") or {}).get("controls") or {}
    if sw:
        rnd, nz = sw["random_written"], sw["without_zeroing"]
        tops = ", ".join(f"`{t}` {n}" for t, n in rnd["top_predictions"].items())
        swap = inter["swap"]
        lines += [
            f"- Swap control (a), {rnd['n_draws']} draws: {rnd['how']}: the top prediction is {tops} "
            f"(`{swap['answer']}` in {_pct(rnd['share_giving_the_swap_answer'])}): what is written in "
            "matters, not the writing.",
            f"- Swap control (b): {nz['how']}: the top prediction is `{nz['top_prediction']}` "
            f"(p(`{swap['answer']}`) = {nz['answer_probability']:.3f}). "
            + (
                "Writing the other state's features in is enough; zeroing these is not needed for the swap, "
                "so the swap shows what the written features carry, not that these features are required."
                if nz["top_prediction"] == swap["answer"]
                else "Writing them in alone does not change the answer: the zeroing is part of the swap."
            ),
        ]
    return lines


def _mechanism_lines(mech: dict | None) -> list[str]:
    if not mech:
        return []
    cut = ", ".join(f"L{i}: {_pct(v)}" for i, v in enumerate(mech["answer_kept_with_city_attention_cut"]))
    exact = mech["features_on_exactly_one_region"]
    which = mech.get("features_on_exactly_one_region_which") or []
    several = mech["features_on_two_or_more_cities_of_one_region_only"]
    return [
        "## What carries the state: a direction, not a feature",
        "",
        f"Measured on every city's capital question ({mech['n_correct']} of {mech['n_cases']} answered "
        "right; `attrgraph_cli/demo_model/mechanism.py`):",
        "",
        f"- Layer 0's MLP output at the city's position (centred over all cities) points the same way for "
        f"cities of one region: mean cosine {mech['mlp0_cosine_within_region']:.2f} within a region, "
        f"{mech['mlp0_cosine_across_regions']:.2f} across regions.",
        f"- Replacing it by the mean of another region's cities gives that region's capital in "
        f"{_pct(mech['partner_mean_patch_gives_partner'])} of {mech['n_patched']} questions: the region is "
        "written at the city by MLP0, as a direction.",
        f"- Cutting the last position's attention to the city in one layer keeps the answer in: {cut}; "
        f"in every layer at once: {_pct(mech['answer_kept_with_city_attention_cut_in_every_layer'])}. "
        "The last layer's attention reads most of it; the earlier layers carry the rest.",
        "- Transcoder features at the city that fire on exactly the cities of one region: "
        + ", ".join(f"layer {k}: {v}" for k, v in exact.items())
        + (f" ({'; '.join(which)})" if which else "")
        + "; firing on two or more cities of one region and on no other city: "
        + ", ".join(f"layer {k}: {v}" for k, v in several.items())
        + ".",
        *(
            f"- `{key}` fires at the city on: "
            + (", ".join(f"{c['city']} ({c['region']}, {c['activation']:.2f})" for c in on) or "no city")
            + "."
            for key, on in (mech.get("watched_features_fire_on") or {}).items()
        ),
        "- So the state is a direction in the residual stream at the city, written by MLP0 and read by the "
        "last layers' attention. The graph's \u201cTexas\u201d features are not state features: they fire on "
        "the city (above), and their decoders write along that direction (their top logits list several "
        "states).",
        "",
    ]


def _rate(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0%}"


def lookup_reading(rates: dict) -> str:
    """What the two swaps say, by rule: which part of the city's position carries the answer."""
    embedding, computation = rates["embedding_swap_gives_partner"], rates["computation_swap_gives_partner"]
    if rates["full_swap_gives_partner"] is None or rates["full_swap_gives_partner"] < 0.8:
        return "The full swap does not move the answer reliably, so the split tells nothing."
    if embedding >= 0.8 and computation <= 0.2:
        return (
            "The last position reads the city token itself and looks the answer up there; what attention "
            "and the MLPs compute at the city's position does not carry it. So the graph's state features "
            "sit at the last position, not at the city."
        )
    if computation >= 0.8 and embedding <= 0.2:
        return (
            "The last position reads what was computed at the city's position (the two-hop route through "
            "a state representation at the city), not the city token itself."
        )
    return "Both parts carry the answer in part: neither swap alone moves it reliably."


def _city_lookup_lines(look: dict | None) -> list[str]:
    if not look:
        return []
    rates, held, dallas = look["rates"], look["rates_held_out"], look.get("dallas") or {}
    lines = [
        "## Where does the last position read the city from?",
        "",
        f"Capital questions `{look['template']}` for every city, {look['n_correct']} of {look['n_cases']} "
        "answered right; rates over those. Each city's partner is the first city of the next region of the "
        "same kind. Patches at the city's position only (see `attrgraph_cli/demo_model/city_lookup.py`):",
        "",
        "| patch at the city's position | all cities | held-out cities |",
        "| --- | ---: | ---: |",
        f"| zero every MLP output: answer kept | {_rate(rates['kept_with_city_mlps_zeroed'])} | "
        f"{_rate(held['kept_with_city_mlps_zeroed'])} |",
        f"| embedding swap (partner's token, own attention/MLP outputs): partner's capital | "
        f"{_rate(rates['embedding_swap_gives_partner'])} | {_rate(held['embedding_swap_gives_partner'])} |",
        f"| computation swap (own token, partner's attention/MLP outputs): partner's capital | "
        f"{_rate(rates['computation_swap_gives_partner'])} | "
        f"{_rate(held['computation_swap_gives_partner'])} |",
        f"| full swap (control: both from the partner): partner's capital | "
        f"{_rate(rates['full_swap_gives_partner'])} | {_rate(held['full_swap_gives_partner'])} |",
        "",
    ]
    if dallas:
        lines += [
            f"`{dallas['prompt']}`: the embedding swap from `{dallas['partner']}` gives "
            f"`{dallas['embedding_swap_top']}`, the computation swap `{dallas['computation_swap_top']}`.",
            "",
        ]
    return [*lines, lookup_reading(rates), ""]


def write_card(metrics: dict, path: Path) -> None:
    acc, tcs, train = metrics["accuracy"], metrics["transcoders"], metrics["training"]
    lm, tc = train["lm"], train["transcoders"]
    inter = metrics["intermediate_step"]
    total_bytes = sum(metrics["files"].values())
    lines = [
        "# attrgraph demo model",
        "",
        "A tiny word-level language model with one transcoder per layer, trained from scratch on CPU on a",
        "seeded synthetic corpus, shipped inside the `attrgraph` package so every stage runs offline.",
        "Every number below was measured by `make demo-model` on the shipped files (see `metrics.json`).",
        "",
        "## Model",
        f"- TransformerLens `HookedTransformer`: {lm['n_layers']} layers, d_model {lm['d_model']}, "
        f"{lm['n_heads']} heads, d_mlp {lm['d_mlp']}, GELU, LayerNorm, learned positions, "
        f"context {lm['n_ctx']}.",
        "- Tokenizer: word-level (`tokenizers` WordLevel, whitespace/punctuation split), `[BOS]` id 2, "
        "`[PAD]` 0, `[UNK]` 1, `[EOS]` 3. Answers are single tokens (e.g. `Austin`, no leading space).",
        f"- Training: {lm['steps']} AdamW steps, batch {lm['batch_size']} × {lm['seq_len']} tokens "
        f"(packed statements after `[BOS]`), lr {lm['lr']} with warm-up and cosine decay, seed {lm['seed']}. "
        f"Token embeddings start at norm {lm.get('embedding_norm', 'default')} and are not decayed. "
        "*City substitution*: in "
        f"{lm.get('city_substitution', 0):.0%} of city tokens, everything past the city's own layer-0 MLP "
        "(layer-0 attention's value there, the residual stream from layer 1 on) sees a different random "
        "city (`lm.city_substitution_hooks`), so what the model knows about a city it must compute at the "
        "city's position in layer 0. Two-hop questions join the stream at step "
        f"{lm.get('two_hop_from_step', 0)}.",
        f"- Transcoders: per layer, MLP input (`mlp.hook_in`) → MLP output (`mlp.hook_out`), "
        f"{tc['d_transcoder']} features, ReLU, L1 penalty weighted by decoder norms and steered to a target "
        f"mean L0 of {tc['target_l0']:g}; {tc['steps']} Adam steps of batch {tc['batch_size']} on "
        f"{train['activation_tokens_per_layer']:,} tokens per layer, city positions drawn as "
        f"{tc.get('city_share', 0):.0%} of each batch. Saved in circuit-tracer's "
        "`transcoder_set` format (`transcoders/config.yaml` + `layer_{i}.safetensors`).",
        f"- Files: {total_bytes / 1e6:.2f} MB in total (float32).",
        "",
        "## Corpus",
        f"Statements over a small real table ({len(REGIONS)} US states and countries, their capitals, "
        "languages and 3–4 cities each), 24 antonym pairs, single-digit sums and copying of random name "
        "lists, generated by `attrgraph_cli.demo_model.corpus.CorpusGenerator` (seeded). "
        "A city's state/country is only ever stated right after the city (`The city of Dallas Texas`, "
        "`We visited Lyon France`), so the model computes it at the city's position; two-hop questions "
        "are rarer than those and held back at first: meant to make the state an intermediate the model "
        "computes at the city and reads from there, rather than a shortcut from city to capital. "
        f"Held out of training: the two-hop questions about {len(HELD_OUT_CITIES)} cities (one per region) "
        "and a few sums.",
        "",
        "## Next-token accuracy (greedy, prompt after `[BOS]`)",
        "",
        "The last column runs the *local replacement*: every MLP output (except at `[BOS]`) replaced by its",
        "transcoder's reconstruction, with no error terms added back.",
        "",
        "| set | what | n | accuracy | bar | MLPs → transcoders |",
        "| --- | --- | ---: | ---: | --- | ---: |",
    ]
    replaced = metrics.get("replacement_accuracy", {})
    for name, row in acc.items():
        bar = f"≥ {BARS[name]:.0%}: {_ok(row['accuracy'] >= BARS[name])}" if name in BARS else "finding"
        what = SET_DESCRIPTIONS.get(name, "")
        rep = f"{replaced[name]:.1%}" if name in replaced else "–"
        lines.append(f"| `{name}` | {what} | {row['n']} | {row['accuracy']:.1%} | {bar} | {rep} |")
    held = acc.get("two_hop_held_out")
    if held:
        wrong = "; ".join(f"`{p}` → `{got}` (expected `{exp}`)" for p, exp, got in held["errors"][:3])
        lines += [
            "",
            "**Composition (finding).** On two-hop questions it never saw, about cities whose region"
            f" it learned, the model answers {held['accuracy']:.1%} correctly"
            + (f" (wrong, e.g.: {wrong})." if wrong else "."),
        ]
    lines += [
        "",
        "## Transcoders",
        "",
        f"Fresh corpus text, `[BOS]` position excluded; bar: FVE ≥ {FVE_BAR} and mean L0 ≤ {L0_BAR:g} "
        "per layer.",
        "",
        "| layer | features | fraction of variance explained | mean L0 | dead features (tokens read) | bar |",
        "| ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for row in tcs:
        passed = row["fve"] >= FVE_BAR and row["l0"] <= L0_BAR
        lines.append(
            f"| {row['layer']} | {row['d_transcoder']} | {row['fve']:.3f} | {row['l0']:.1f} | "
            f"{row['dead_fraction']:.1%} ({row.get('dead_fraction_tokens', 0):,}) | {_ok(passed)} |"
        )
    curve = metrics.get("dead_fraction_curve") or []
    if curve:
        n_layers = len(curve[0]["dead_fraction"])
        lines += [
            "",
            "A feature counts as dead when it never fires on the text read, so the fraction falls as more is "
            "read. Dead fraction per layer after reading more fresh corpus text:",
            "",
            "| tokens read | " + " | ".join(f"layer {i}" for i in range(n_layers)) + " |",
            "| ---: | " + " | ".join("---:" for _ in curve[0]["dead_fraction"]) + " |",
            *(
                f"| {pt['tokens']:,} | " + " | ".join(f"{x:.1%}" for x in pt["dead_fraction"]) + " |"
                for pt in curve
            ),
        ]
    lines += [
        "",
        "## circuit-tracer graph scores (`compute_graph_scores` on the unpruned graph)",
        "",
        "| prompt | top logit (p) | active features | replacement | completeness |",
        "| --- | --- | ---: | ---: | ---: |",
    ]
    for row in metrics["graph_scores"]:
        lines.append(
            f"| `{row['prompt']}` | `{row['top_logit']}` ({row['top_logit_probability']:.2f}) | "
            f"{row['n_active_features']} | {row['replacement_score']:.3f} | {row['completeness_score']:.3f} |"
        )
    lens = ", ".join(f"L{i}: {r}" for i, r in enumerate(inter["logit_lens_rank_last_position"]))
    flow = inter.get("flow_share", {})
    lines += [
        "",
        f"## Does the Dallas graph show the intermediate “{inter['intermediate']}” step?",
        "",
        f"**{verdict(inter)}** Prompt: "
        f"`{inter['prompt']}` → `{inter['answer']}` (p = {inter['answer_probability']:.2f}).",
        "",
        f"- Features of the graph at or after `{inter['city']}` (position {inter['city_position']}) whose "
        f"decoder vector has `{inter['intermediate']}` among its top-5 direct logits: "
        f"{inter['n_intermediate_features']} of {inter['n_graph_features']} (another "
        f"{inter['n_intermediate_features_before_the_city']} sit before `{inter['city']}`, cannot depend on "
        "it, and are not counted).",
    ]
    for hit in inter["intermediate_features"][:5]:
        lines.append(
            f"  - layer {hit['layer']}, position {hit['position']} (`{hit['token']}`), "
            f"feature {hit['feature']}: "
            f"influence rank {hit['influence_rank']}, activation {hit['activation']:.2f}, top logits "
            f"{', '.join('`' + t + '`' for t in hit['top_tokens'])}"
        )
    swap = inter["swap"]
    lines += [
        f"- Ablation: zeroing those features (attention not frozen) moves p(`{inter['answer']}`) from "
        f"{inter['answer_probability']:.3f} to "
        f"{inter['answer_probability_with_intermediate_features_zeroed']:.3f}, and its margin over the "
        f"next-best token from {inter['answer_margin']:.2f} to "
        f"{inter['answer_margin_with_intermediate_features_zeroed']:.2f} logits.",
        *_control_lines(inter),
        f"- Flow: {_share(flow.get('intermediate_features'))} of the `{inter['city']}` embedding's "
        f"influence on the `{inter['answer']}` logit (circuit-tracer's path influence) passes through those "
        f"features; through the influence control's features, {_share(flow.get('control_features'))}.",
        f"- Swap: zeroing them and writing in the {swap['n_features_written']} `{swap['intermediate']}` "
        f"features (at or after the city) of `{swap['prompt']}` makes the top prediction "
        f"`{swap['top_prediction']}` (p(`{swap['answer']}`) = {swap['answer_probability']:.2f}).",
        *_swap_control_lines(inter),
        f"- Logit lens at the last position (rank of `{inter['intermediate']}` after each layer): {lens}.",
        "",
        "Verdict rule: such features must exist; the ablation counts when zeroing them removes at least",
        "half of the answer's margin while fewer than 5% of the matched draws do *and* the influence",
        "control does not; the swap counts when it turns the answer into the other state's capital while",
        "random other features of that prompt written in the same way do so in fewer than 5% of draws.",
        "“Yes” when both count, “Partly” when one does. Features are found by their direct logit effects,",
        "so one whose top logits mix the state with its capital, or with other place names, counts too.",
        "",
        *_mechanism_lines(metrics.get("mechanism")),
        *_city_lookup_lines(metrics.get("city_lookup")),
        "## Reproduce",
        "",
        "`make demo-model` (= `python -m attrgraph_cli.demo_model.train`) rebuilds every file from the "
        f"seeded generator on CPU with {train['threads']} threads: last run {train['total_seconds']:.0f} s "
        f"in total (training {train['train_seconds']:.0f} s, of which the language model "
        f"{train['lm_seconds']:.0f} s), torch {train['torch']}, Python {train['python']}. Thread scheduling "
        "makes CPU training not bit-exact across machines, so numbers reproduce within noise, not to the "
        "last digit."
        + (
            " The shipped language model came from an earlier invocation with the same settings; this run"
            " (`--reuse-lm`) kept it and retrained the transcoders, and its LM time is that invocation's."
            if train.get("lm_reused")
            else ""
        ),
        "",
        "## Limits",
        "",
        "- A toy: its vocabulary is the corpus's ~280 words; any other word is `[UNK]`.",
        "- Facts are memorised from a small table; accuracy on trained facts measures recall, not knowledge.",
        *(
            [
                "- With the MLPs replaced by transcoders, these sets fall below 80%: "
                + ", ".join(f"`{k}` ({v:.0%})" for k, v in replaced.items() if v < 0.8)
                + ". Their computation leans on the transcoders' error terms, so their graphs carry large"
                " error nodes (see the replacement scores above); read them with that in mind."
            ]
            if any(v < 0.8 for v in replaced.values())
            else []
        ),
        "",
    ]
    path.write_text("\n".join(lines))
