"""Measurements written into the model card: next-token accuracy, transcoder quality, graph scores."""

from __future__ import annotations

from collections import defaultdict

import torch

from attrgraph_cli.demo_model.card_controls import ablation_controls, margin, swap_controls
from attrgraph_cli.demo_model.corpus import Example


def encode_prompt(tokenizer, prompt: str) -> list[int]:
    """[BOS] + the prompt's word ids (the same tokens circuit-tracer's `ensure_tokenized` builds)."""
    return [tokenizer.bos_token_id, *tokenizer(prompt, add_special_tokens=False).input_ids]


@torch.no_grad()
def predictions(model, tokenizer, examples: list[Example]) -> list[str]:
    """The model's greedy next token after each prompt, batched by prompt length."""
    by_len: dict[int, list[int]] = defaultdict(list)
    encoded = [encode_prompt(tokenizer, ex.prompt) for ex in examples]
    for i, ids in enumerate(encoded):
        by_len[len(ids)].append(i)
    out: list[str] = [""] * len(examples)
    for idxs in by_len.values():
        tokens = torch.tensor([encoded[i] for i in idxs], dtype=torch.long)
        logits = model(tokens, return_type="logits")[:, -1]
        for i, tok_id in zip(idxs, logits.argmax(-1).tolist(), strict=True):
            out[i] = tokenizer.convert_ids_to_tokens(tok_id)
    return out


def accuracy(model, tokenizer, examples: list[Example]) -> float:
    """Fraction of prompts whose greedy next token is the expected answer."""
    preds = predictions(model, tokenizer, examples)
    return sum(p == ex.answer for p, ex in zip(preds, examples, strict=True)) / max(1, len(examples))


def accuracy_table(model, tokenizer, sets: dict[str, list[Example]]) -> dict[str, dict]:
    """{set name: {"accuracy", "n", "errors" (a few wrong predictions)}} for every evaluation set."""
    table = {}
    for name, examples in sets.items():
        preds = predictions(model, tokenizer, examples)
        wrong = [(ex.prompt, ex.answer, p) for ex, p in zip(examples, preds, strict=True) if p != ex.answer]
        table[name] = {
            "accuracy": 1 - len(wrong) / max(1, len(examples)),
            "n": len(examples),
            "errors": wrong[:5],
        }
    return table


@torch.no_grad()
def replacement_accuracy(replacement_model, tokenizer, sets: dict[str, list[Example]]) -> dict[str, float]:
    """Accuracy when every MLP's output is replaced by its transcoder's reconstruction (no error terms).

    The [BOS] position keeps the real MLP output, as circuit-tracer keeps it out of its features.
    """
    saved: dict[int, torch.Tensor] = {}

    def keep_input(acts, hook, layer):
        saved[layer] = acts
        return acts

    def replace_output(acts, hook, layer):
        out = acts.clone()
        out[:, 1:] = replacement_model.transcoders[layer](saved[layer][:, 1:])
        return out

    hooks = []
    for layer in range(replacement_model.cfg.n_layers):
        hooks.append((f"blocks.{layer}.mlp.hook_in", lambda a, hook, i=layer: keep_input(a, hook, i)))
        hooks.append((f"blocks.{layer}.mlp.hook_out", lambda a, hook, i=layer: replace_output(a, hook, i)))
    with replacement_model.hooks(fwd_hooks=hooks):
        return {name: accuracy(replacement_model, tokenizer, examples) for name, examples in sets.items()}


@torch.no_grad()
def transcoder_quality(replacement_model, tokenizer, n_batches: int = 8, seed: int = 777) -> list[dict]:
    """Per layer: FVE, mean L0 and dead fraction of the shipped transcoders on fresh corpus text.

    Activations come from the replacement model's own `mlp.hook_in` / `mlp.hook_out` hooks; the [BOS]
    position is left out (circuit-tracer zeroes features there too).
    """
    from attrgraph_cli.demo_model.corpus import CorpusGenerator
    from attrgraph_cli.demo_model.lm import batch_tokens
    from attrgraph_cli.demo_model.transcoders import fve

    gen = CorpusGenerator(seed=seed)
    n_layers = replacement_model.cfg.n_layers
    xs: list[list[torch.Tensor]] = [[] for _ in range(n_layers)]
    ys: list[list[torch.Tensor]] = [[] for _ in range(n_layers)]
    names = {f"blocks.{i}.mlp.hook_in" for i in range(n_layers)} | {
        f"blocks.{i}.mlp.hook_out" for i in range(n_layers)
    }
    for _ in range(n_batches):
        tokens = batch_tokens(gen, tokenizer, 64, 32)
        _, cache = replacement_model.run_with_cache(tokens, names_filter=lambda n: n in names)
        for i in range(n_layers):
            xs[i].append(cache[f"blocks.{i}.mlp.hook_in"][:, 1:].flatten(0, 1))
            ys[i].append(cache[f"blocks.{i}.mlp.hook_out"][:, 1:].flatten(0, 1))
    rows = []
    for i, tc in enumerate(replacement_model.transcoders):
        x, y = torch.cat(xs[i]), torch.cat(ys[i])
        f = tc.encode(x)
        active = f > 0
        rows.append(
            {
                "layer": i,
                "fve": fve(y, tc.decode(f)),
                "l0": float(active.float().sum(1).mean()),
                "dead_fraction": float((~active.any(0)).float().mean()),
                "dead_fraction_tokens": int(x.shape[0]),
                "d_transcoder": int(f.shape[1]),
            }
        )
    return rows


@torch.no_grad()
def dead_fraction_curve(
    replacement_model, tokenizer, batch_counts: tuple[int, ...] = (8, 32, 96), seed: int = 777
) -> list[dict]:
    """Per layer, the fraction of features that never fire after reading more and more fresh corpus text.

    "Dead" depends on how much text was read: a rare feature fires once in many thousand tokens. Streams
    batches (no activation is kept) and records the dead fraction after each count in `batch_counts`.
    """
    from attrgraph_cli.demo_model.corpus import CorpusGenerator
    from attrgraph_cli.demo_model.lm import batch_tokens

    gen = CorpusGenerator(seed=seed)
    n_layers = replacement_model.cfg.n_layers
    names = {f"blocks.{i}.mlp.hook_in" for i in range(n_layers)}
    seen = [torch.zeros(tc.W_dec.shape[0], dtype=torch.bool) for tc in replacement_model.transcoders]
    points, n_tokens = [], 0
    for b in range(1, max(batch_counts) + 1):
        tokens = batch_tokens(gen, tokenizer, 64, 32)
        _, cache = replacement_model.run_with_cache(tokens, names_filter=lambda n: n in names)
        n_tokens += tokens[:, 1:].numel()
        for i, tc in enumerate(replacement_model.transcoders):
            seen[i] |= (tc.encode(cache[f"blocks.{i}.mlp.hook_in"][:, 1:].flatten(0, 1)) > 0).any(0)
        if b in batch_counts:
            points.append({"tokens": n_tokens, "dead_fraction": [float((~s).float().mean()) for s in seen]})
    return points


def graph_scores(replacement_model, prompt: str, batch_size: int = 256) -> dict:
    """circuit-tracer's replacement and completeness scores of the unpruned graph of `prompt`."""
    from circuit_tracer import attribute
    from circuit_tracer.graph import compute_graph_scores

    graph = attribute(prompt, replacement_model, batch_size=batch_size, verbose=False)
    replacement, completeness = compute_graph_scores(graph)
    return {
        "prompt": prompt,
        "replacement_score": float(replacement),
        "completeness_score": float(completeness),
        "n_active_features": int(graph.active_features.shape[0]),
        "top_logit": replacement_model.tokenizer.convert_ids_to_tokens(int(graph.logit_targets[0].vocab_idx)),
        "top_logit_probability": float(graph.logit_probabilities[0]),
    }


def _feature_top_tokens(model, layer: int, feature: int, k: int) -> list[str]:
    """Tokens whose unembedding the feature's decoder vector points to most (direct logit effect)."""
    direction = model.transcoders[layer].W_dec[feature].float()
    logits = direction @ model.unembed.W_U.float()
    return model.tokenizer.convert_ids_to_tokens(logits.topk(k).indices.tolist())


def _intermediate_features(
    model, prompt: str, intermediate: str, top_k: int
) -> tuple[object, list[dict], list]:
    """The attribution graph of `prompt`, its features whose top-k direct logits include `intermediate`
    (each with its node index), and every feature node as (node, layer, position, index, influence,
    activation)."""
    from circuit_tracer import attribute
    from circuit_tracer.graph import compute_node_influence

    graph = attribute(prompt, model, batch_size=256, verbose=False)
    n_logits = len(graph.logit_targets)
    weights = torch.zeros(graph.adjacency_matrix.shape[0])
    weights[-n_logits:] = graph.logit_probabilities
    influence = compute_node_influence(graph.adjacency_matrix, weights)
    n_features = len(graph.selected_features)
    feats = graph.active_features[graph.selected_features]
    order = torch.argsort(influence[:n_features], descending=True).tolist()
    tokens = model.tokenizer.convert_ids_to_tokens(graph.input_tokens.tolist())
    hits, every = [], []
    for rank, node in enumerate(order):
        layer, pos, idx = (int(v) for v in feats[node])
        every.append((node, layer, pos, idx, float(influence[node]), float(graph.activation_values[node])))
        top = _feature_top_tokens(model, layer, idx, top_k)
        if intermediate in top:
            hits.append(
                {
                    "node": node,
                    "layer": layer,
                    "position": pos,
                    "token": tokens[pos],
                    "feature": idx,
                    "influence_rank": rank + 1,
                    "influence": float(influence[node]),
                    "activation": float(graph.activation_values[node]),
                    "top_tokens": top,
                }
            )
    return graph, hits, every


def _flow_share(graph, source: int, target: int, through: set[int]) -> float:
    """Share of `source`'s influence on node `target` carried by paths through any node of `through`.

    Influence as circuit-tracer defines it: sums over paths of the row-normalised |adjacency|; the
    share is 1 - (influence with `through` removed) / (influence of the whole graph).
    """
    from circuit_tracer.graph import compute_influence, normalize_matrix

    matrix = normalize_matrix(graph.adjacency_matrix.float())
    weights = torch.zeros(matrix.shape[0])
    weights[target] = 1.0
    total = float(compute_influence(matrix, weights.clone())[source])
    if total <= 0:
        return 0.0
    cut = matrix.clone()
    index = torch.tensor(sorted(through), dtype=torch.long)
    if len(index):
        cut[index, :] = 0
        cut[:, index] = 0
    return 1.0 - float(compute_influence(cut, weights.clone())[source]) / total


def _public(hit: dict) -> dict:
    return {k: v for k, v in hit.items() if k != "node"}


def _logit_lens(model, ids, inter_id: int) -> tuple[torch.Tensor, list[int]]:
    """The last position's logits, and the rank of `inter_id` read off the residual stream after each
    layer (the logit lens)."""
    with torch.no_grad():
        logits, cache = model.run_with_cache(ids[None], names_filter=lambda n: n.endswith("hook_resid_post"))
        lens = []
        for layer in range(model.cfg.n_layers):
            resid = cache[f"blocks.{layer}.hook_resid_post"][0, -1]
            lens_logits = model.unembed(model.ln_final(resid[None, None]))[0, 0]
            lens.append(int((lens_logits > lens_logits[inter_id]).sum()) + 1)
    return logits[0, -1], lens


def _flow_shares(
    model, graph, city_pos: int, answer_id: int, nodes: set[int], control_nodes: set[int]
) -> tuple[float | None, float | None]:
    """The share of the city embedding's influence on the answer's logit through `nodes`, and through
    `control_nodes`; (None, None) when the answer is not among the graph's logits (an untrained model)."""
    target_ids = [int(t.vocab_idx) for t in graph.logit_targets]
    if answer_id not in target_ids:
        return None, None
    n = graph.adjacency_matrix.shape[0]
    n_feat, n_pos = len(graph.selected_features), len(graph.input_tokens)
    city_node = n_feat + model.cfg.n_layers * n_pos + city_pos
    answer_node = n - len(target_ids) + target_ids.index(answer_id)
    return (
        _flow_share(graph, city_node, answer_node, nodes),
        _flow_share(graph, city_node, answer_node, control_nodes),
    )


def intermediate_step(
    model,
    prompt: str = "The capital of the state containing Dallas is",
    answer: str = "Austin",
    intermediate: str = "Texas",
    city: str = "Dallas",
    swap_prompt: str = "The capital of the state containing Seattle is",
    swap_intermediate: str = "Washington",
    swap_city: str = "Seattle",
    swap_answer: str = "Olympia",
    top_k: int = 5,
) -> dict:
    """Does the graph of a two-hop prompt contain the intermediate entity (e.g. "Texas")?

    Only features at or after the city's position count as intermediate features (one before it cannot
    depend on it). Evidence, all recorded:
    - those features: decoder vectors ranking `intermediate` among their top-k direct logits, with layer,
      position and influence on the output (circuit-tracer's node influence);
    - ablation: zeroing them, the answer's margin (its logit minus the best other logit), beside its
      controls (`card_controls.ablation_controls`): 200 matched draws (layer, position, influence, size)
      from every active feature, the same number of the most influential other features after the city,
      and the strongest feature alone against the rest;
    - swap: zeroing them *and* writing in the `swap_intermediate` features of `swap_prompt` (same
      template, same positions) at their activations there; does the answer become `swap_answer`?
    - flow: the share of the city embedding's influence on the answer's logit that passes through
      them, beside the same share for the influence control's features;
    - the residual-stream logit lens at the last position (rank of `intermediate` after each layer).
    - the swap's controls (`card_controls.swap_controls`): random other source features written in, and
      the source's state features written in without zeroing.
    `shows_intermediate` is true when such features exist and either the swap changes the answer to
    `swap_answer` while random written-in features do so in < 5% of draws, or zeroing them removes at
    least half of the margin while < 5% of matched draws and not the influence control do.
    """
    tok = model.tokenizer
    graph, all_hits, every = _intermediate_features(model, prompt, intermediate, top_k)
    ids = graph.input_tokens
    tokens = tok.convert_ids_to_tokens(ids.tolist())
    city_pos = tokens.index(city) if city in tokens else 0
    hits = [h for h in all_hits if h["position"] >= city_pos]
    answer_id, inter_id = tok.convert_tokens_to_ids(answer), tok.convert_tokens_to_ids(intermediate)
    base, lens = _logit_lens(model, ids, inter_id)
    zero = [(h["layer"], h["position"], h["feature"], 0.0) for h in hits]
    ablated = model.feature_intervention(ids, zero, freeze_attention=False)[0][0, -1] if zero else base
    excluded = {h["node"] for h in all_hits}
    controls = ablation_controls(model, graph, hits, every, excluded, answer_id, city_pos) if hits else {}
    swap_graph, swap_all, swap_every = _intermediate_features(model, swap_prompt, swap_intermediate, top_k)
    swap_tokens = tok.convert_ids_to_tokens(swap_graph.input_tokens.tolist())
    swap_city_pos = swap_tokens.index(swap_city) if swap_city in swap_tokens else 0
    swap_hits = [h for h in swap_all if h["position"] >= swap_city_pos]
    swap_in = [(h["layer"], h["position"], h["feature"], h["activation"]) for h in swap_hits]
    swapped = model.feature_intervention(ids, zero + swap_in, freeze_attention=False)[0][0, -1]
    swap_top = tok.convert_ids_to_tokens(int(swapped.argmax()))
    swap_answer_id = tok.convert_tokens_to_ids(swap_answer)
    swap_excluded = {h["node"] for h in swap_all}
    swap_ctrl = (
        swap_controls(model, graph, hits, swap_hits, swap_every, swap_excluded, swap_city_pos, swap_answer_id)
        if hits
        else {}
    )

    top_ids = set(controls.get("top_influence", {}).get("features", []))
    top_nodes = {f[0] for f in every if f"{f[1]}_{f[3]}_{f[2]}" in top_ids}
    share, control_share = _flow_shares(
        model, graph, city_pos, answer_id, {h["node"] for h in hits}, top_nodes
    )

    base_margin, ablated_margin = margin(base, answer_id), margin(ablated, answer_id)
    removes_half = bool(hits) and ablated_margin <= 0.5 * base_margin
    swap_changes = bool(hits) and swap_top == swap_answer
    random_swap = swap_ctrl.get("random_written", {}).get("share_giving_the_swap_answer", 1.0)
    swap_specific = swap_changes and random_swap < 0.05
    survives = bool(controls.get("survives_matched")) and bool(controls.get("survives_top_influence"))
    return {
        "prompt": prompt,
        "answer": answer,
        "intermediate": intermediate,
        "city": city,
        "city_position": city_pos,
        "n_graph_features": len(graph.selected_features),
        "intermediate_features": [_public(h) for h in hits[:10]],
        "n_intermediate_features": len(hits),
        "n_intermediate_features_before_the_city": len(all_hits) - len(hits),
        "logit_lens_rank_last_position": lens,
        "answer_probability": float(torch.softmax(base, -1)[answer_id]),
        "answer_probability_with_intermediate_features_zeroed": float(torch.softmax(ablated, -1)[answer_id]),
        "answer_margin": base_margin,
        "answer_margin_with_intermediate_features_zeroed": ablated_margin,
        "controls": controls,
        "flow_share": {
            "intermediate_features": share,
            "control_features": control_share,
            "what": f"share of the {city!r} embedding's influence on the {answer!r} logit via the features",
        },
        "swap": {
            "prompt": swap_prompt,
            "intermediate": swap_intermediate,
            "answer": swap_answer,
            "n_features_written": len(swap_in),
            "top_prediction": swap_top,
            "answer_probability": float(torch.softmax(swapped, -1)[swap_answer_id]),
            "controls": swap_ctrl,
        },
        "ablation_removes_half_the_margin": removes_half,
        "ablation_survives_controls": survives,
        "swap_changes_the_answer": swap_changes,
        "swap_survives_controls": swap_specific,
        "shows_intermediate": bool(hits) and (swap_specific or (removes_half and survives)),
    }
