"""Feature dashboards from a model and a corpus, for the graph's features only (torch inside functions).

Pass 1 streams the corpus in batches of contexts (`[BOS]` + up to `ctx_len - 1` tokens of one document)
through the model, reads each needed layer's transcoder input at circuit-tracer's `feature_input_hook`,
encodes it and keeps, per recorded feature: its per-context maximum and where it is, the number of tokens on
which it fires (density), a reservoir sample of its non-zero activations (histogram), and, on held-out
contexts (every `HELDOUT_EVERY`-th), a reservoir of firing tokens and a fixed sample of random tokens for the
label-quality score. The examples are the top contexts and samples from equal-width activation intervals, all
from the non-held-out contexts; their activation profiles are kept from pass 1 when tokens x features is
small (`PROFILE_CACHE_ENTRIES`), else pass 2 re-runs only those contexts (and the held-out ones sampled).
Memory is O(contexts x features) for the per-context maxima, never O(tokens x features) beyond that cache.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from attrgraph_cli.errors import AttrgraphError

#: every HELDOUT_EVERY-th context is held out from the examples (used only by the score)
HELDOUT_EVERY = 5
TOP_EXAMPLES = 10
N_INTERVALS = 4
PER_INTERVAL = 5
HIST_BINS = 24
HIST_RESERVOIR = 1024
HELDOUT_POS_RESERVOIR = 256
HELDOUT_NEG_PER_BATCH = 64
HELDOUT_NEG_MAX = 4000
WINDOW_BEFORE = 24
WINDOW_AFTER = 8
N_LOGITS = 10
#: activation profiles of all contexts are kept from pass 1 (no re-run) when tokens x features is below this
PROFILE_CACHE_ENTRIES = 32_000_000
#: a held-out token counts as "activating" for the score when its activation is at least this share of max
POSITIVE_SHARE = 0.2


@dataclass
class HeldOut:
    """Held-out tokens of one feature for the score: (token, next token) pairs, activating and not."""

    positives: list[tuple[str, str]] = field(default_factory=list)
    negatives: list[tuple[str, str]] = field(default_factory=list)
    threshold: float = 0.0


@dataclass
class DashboardResult:
    details: dict[tuple[int, int], dict[str, Any]]
    density: dict[tuple[int, int], float]
    heldout: dict[tuple[int, int], HeldOut]
    n_tokens: int
    n_contexts: int
    seconds: float
    device: str


class _Tokens:
    """Token id -> display string, decoded once per id."""

    def __init__(self, tokenizer: Any) -> None:
        self.tokenizer = tokenizer
        self.cache: dict[int, str] = {}

    def __call__(self, token_id: int) -> str:
        text = self.cache.get(token_id)
        if text is None:
            text = self.cache[token_id] = self.tokenizer.decode([int(token_id)])
        return text


def contexts(tokenizer: Any, documents: Iterable[str], ctx_len: int, max_tokens: int) -> Iterator[list[int]]:
    """Token ids of each context: `[BOS]` + up to `ctx_len - 1` tokens of one document (long ones split)."""
    bos = tokenizer.bos_token_id
    if bos is None:
        raise AttrgraphError("the model's tokenizer has no BOS token; dashboards need one to start contexts")
    produced = 0
    for doc in documents:
        ids = tokenizer(doc, add_special_tokens=False)["input_ids"]
        for start in range(0, len(ids), ctx_len - 1):
            chunk = ids[start : start + ctx_len - 1]
            if len(chunk) < 2:
                continue
            yield [bos, *chunk]
            produced += len(chunk)
            if produced >= max_tokens:
                return


def _batches(items: Iterator[list[int]], size: int) -> Iterator[list[list[int]]]:
    batch: list[list[int]] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


class _Encoder:
    """Runs a batch of contexts and returns the recorded features' activations, (B, S, F)."""

    def __init__(self, model: Any, features: list[tuple[int, int]], device: str) -> None:
        import torch

        self.model = model
        self.device = device
        self.layers = sorted({layer for layer, _ in features})
        n_layers = int(model.cfg.n_layers)
        bad = [layer for layer in self.layers if not 0 <= layer < n_layers]
        if bad:
            raise AttrgraphError(f"the graph has features in layer {bad[0]}, the model has {n_layers} layers")
        self.columns: dict[int, tuple[Any, Any]] = {}
        for layer in self.layers:
            where = [k for k, (lay, _) in enumerate(features) if lay == layer]
            index = [features[k][1] for k in where]
            self.columns[layer] = (
                torch.tensor(where, device=device),
                torch.tensor(index, device=device),
            )
        self.n = len(features)

    def __call__(self, tokens: Any) -> Any:
        import torch

        model = self.model
        captured: dict[int, Any] = {}

        def grab(acts: Any, hook: Any, layer: int) -> None:
            captured[layer] = acts.detach()

        hooks = [
            (f"blocks.{layer}.{model.feature_input_hook}", lambda a, hook, layer=layer: grab(a, hook, layer))
            for layer in self.layers
        ]
        with torch.inference_mode(), model.hooks(hooks):
            model(tokens, stop_at_layer=max(self.layers) + 1)
        b, s = tokens.shape
        out = torch.zeros((b, s, self.n), device=tokens.device, dtype=torch.float32)
        for layer in self.layers:
            where, index = self.columns[layer]
            x = captured[layer].reshape(b * s, -1)
            for start in range(0, b * s, 4096):
                chunk = model.transcoders.encode_layer(x[start : start + 4096], layer)[:, index]
                out.view(b * s, -1)[start : start + 4096, where] = chunk.float()
        return out


def _reservoir_merge(keys: Any, vals: Any, new_keys: Any, new_vals: Any, size: int) -> tuple[Any, Any]:
    """Keep the `size` largest keys per column (a reservoir sample when keys are uniform random)."""
    import torch

    all_keys = torch.cat([keys, new_keys], 0)
    all_vals = torch.cat([vals, new_vals], 0)
    k = min(size, all_keys.shape[0])
    top, where = torch.topk(all_keys, k, dim=0)
    return top, torch.gather(all_vals, 0, where)


def compute_dashboards(
    model: Any,
    tokenizer: Any,
    features: list[tuple[int, int]],
    documents: Iterable[str],
    *,
    device: str,
    ctx_len: int = 64,
    batch_size: int = 64,
    max_tokens: int = 100_000,
    seed: int = 0,
    progress: bool = True,
) -> DashboardResult:
    """Dashboards (feature-details objects with attrgraph's extras) for `features` over `documents`: one
    streaming pass (`_CorpusPass`), then each feature's examples, histogram, logits and held-out tokens."""
    started = time.perf_counter()
    n_ctx = getattr(model.cfg, "n_ctx", None)
    ctx_len = int(min(ctx_len, n_ctx)) if n_ctx else int(ctx_len)
    encoder = _Encoder(model, features, device)
    tok_str = _Tokens(tokenizer)
    keep_profiles = max_tokens * len(features) <= PROFILE_CACHE_ENTRIES
    corpus = _CorpusPass(len(features), device, ctx_len, seed, keep_profiles)
    bar = _progress(progress, max_tokens)
    with bar:
        task = bar.add_task("dashboards", total=max_tokens)
        for batch in _batches(contexts(tokenizer, documents, ctx_len, max_tokens), batch_size):
            bar.update(task, advance=corpus.add(batch, encoder))
    if corpus.n_tokens == 0:
        raise AttrgraphError("the corpus produced no tokens to compute dashboards over")
    stats = corpus.finish()

    all_contexts = corpus.contexts
    rng = np.random.default_rng(seed)
    explain = (np.arange(len(all_contexts)) % HELDOUT_EVERY) != HELDOUT_EVERY - 1
    chosen = [_choose_examples(stats.maxima[:, f], explain, rng) for f in range(len(features))]
    profiles = _profiles(
        encoder, all_contexts, sorted({c for ch in chosen for _, c in ch}), device, batch_size
    )
    top_logits = _logits(model, features)

    def token_pair(ref: int) -> tuple[str, str]:
        ctx, pos = divmod(int(ref), ctx_len)
        ids = all_contexts[ctx]
        nxt = tok_str(ids[pos + 1]) if pos + 1 < len(ids) else ""
        return tok_str(ids[pos]), nxt

    details: dict[tuple[int, int], dict[str, Any]] = {}
    heldout: dict[tuple[int, int], HeldOut] = {}
    for f, key in enumerate(features):
        details[key] = _feature_details(
            f, key, stats, chosen[f], profiles, top_logits[f], all_contexts, tok_str, int(corpus.n_tokens)
        )
        negatives = [
            token_pair(r) for r, a in zip(stats.neg_refs, stats.neg_acts[:, f], strict=True) if a == 0
        ]
        act_max = float(stats.maxima[:, f].max(initial=0.0))
        heldout[key] = HeldOut(negatives=negatives, threshold=POSITIVE_SHARE * act_max)
    positives = (stats.pos_refs, stats.pos_keys)
    cache = corpus.cache
    _fill_positives(
        encoder, all_contexts, features, heldout, positives, ctx_len, device, batch_size, tok_str, cache
    )
    return DashboardResult(
        details=details,
        density={key: float(stats.density[f]) for f, key in enumerate(features)},
        heldout=heldout,
        n_tokens=int(corpus.n_tokens),
        n_contexts=len(all_contexts),
        seconds=time.perf_counter() - started,
        device=device,
    )


@dataclass
class _PassStats:
    """Pass 1's statistics as numpy arrays (contexts x features, reservoirs x features)."""

    maxima: np.ndarray
    argmax: np.ndarray
    density: np.ndarray
    hist_keys: np.ndarray
    hist_vals: np.ndarray
    pos_keys: np.ndarray
    pos_refs: np.ndarray
    neg_refs: np.ndarray
    neg_acts: np.ndarray


class _CorpusPass:
    """Pass 1 (see the module docstring), one batch of contexts at a time, on the device."""

    def __init__(self, n_feat: int, device: str, ctx_len: int, seed: int, keep_profiles: bool) -> None:
        import torch

        self.n_feat, self.device, self.ctx_len = n_feat, device, ctx_len
        self.gen = torch.Generator(device="cpu").manual_seed(seed)
        self.contexts: list[list[int]] = []
        self.seq_max: list[Any] = []
        self.seq_arg: list[Any] = []
        self.fires = torch.zeros(n_feat, dtype=torch.float64, device=device)
        self.n_tokens = 0
        self.hist_keys = torch.full((0, n_feat), -1.0, device=device)
        self.hist_vals = torch.zeros((0, n_feat), device=device)
        self.pos_keys = torch.full((0, n_feat), -1.0, device=device)
        self.pos_refs = torch.zeros((0, n_feat), dtype=torch.int64, device=device)
        self.neg_refs: list[Any] = []
        self.neg_acts: list[Any] = []
        self.n_neg = 0
        #: context -> its activation profile (tokens x features), when small enough to keep
        self.cache: dict[int, np.ndarray] | None = {} if keep_profiles else None

    def add(self, batch: list[list[int]], encoder: _Encoder) -> int:
        """Encode one batch and fold it into the statistics; returns the tokens it counted."""
        import torch

        first = len(self.contexts)
        self.contexts.extend(batch)
        tokens, valid = _pad(batch, self.device)
        acts = encoder(tokens)
        acts[:, 0, :] = 0  # BOS, as circuit-tracer zeroes it
        acts[~valid] = 0
        b, s, _ = acts.shape
        valid[:, 0] = False
        n_valid = int(valid.sum())
        self.n_tokens += n_valid
        active = acts > 0
        self.fires += active.sum((0, 1)).double()
        if self.cache is not None:
            rows = acts.cpu().numpy()
            for row, ids in enumerate(batch):
                self.cache[first + row] = rows[row, : len(ids)]
        best, where = acts.max(1)
        self.seq_max.append(best.cpu())
        self.seq_arg.append(where.to(torch.int16).cpu())
        flat = acts.reshape(b * s, self.n_feat)
        flat_active = active.reshape(b * s, self.n_feat)
        keys = torch.rand((b * s, self.n_feat), generator=self.gen).to(self.device)
        self.hist_keys, self.hist_vals = _reservoir_merge(
            self.hist_keys, self.hist_vals, torch.where(flat_active, keys, -1.0), flat, HIST_RESERVOIR
        )
        ctx_ids = torch.arange(first, first + b, device=self.device)
        held = (ctx_ids % HELDOUT_EVERY) == HELDOUT_EVERY - 1
        if bool(held.any()):
            self._add_heldout(held, valid, ctx_ids, s, flat, flat_active, keys)
        return n_valid

    def _add_heldout(self, held, valid, ctx_ids, s: int, flat, flat_active, keys) -> None:
        """Held-out contexts: firing token references into a reservoir, and a few random tokens."""
        import torch

        held_tok = (held[:, None] & valid).reshape(-1)
        refs = (ctx_ids[:, None] * self.ctx_len + torch.arange(s, device=self.device)[None, :]).reshape(-1)
        pkeys = torch.where(flat_active & held_tok[:, None], keys, -1.0)
        self.pos_keys, self.pos_refs = _reservoir_merge(
            self.pos_keys, self.pos_refs, pkeys, refs[:, None].expand(-1, self.n_feat), HELDOUT_POS_RESERVOIR
        )
        if self.n_neg < HELDOUT_NEG_MAX:
            cand = torch.nonzero(held_tok).squeeze(1)
            pick = cand[torch.randperm(len(cand), generator=self.gen)[:HELDOUT_NEG_PER_BATCH].to(self.device)]
            self.neg_refs.append(refs[pick].cpu())
            self.neg_acts.append(flat[pick].cpu())
            self.n_neg += len(pick)

    def finish(self) -> _PassStats:
        import torch

        return _PassStats(
            maxima=torch.cat(self.seq_max).numpy(),
            argmax=torch.cat(self.seq_arg).numpy().astype(np.int64),
            density=(self.fires / self.n_tokens).cpu().numpy(),
            hist_keys=self.hist_keys.cpu().numpy(),
            hist_vals=self.hist_vals.cpu().numpy(),
            pos_keys=self.pos_keys.cpu().numpy(),
            pos_refs=self.pos_refs.cpu().numpy(),
            neg_refs=torch.cat(self.neg_refs).numpy() if self.neg_refs else np.zeros(0, dtype=np.int64),
            neg_acts=torch.cat(self.neg_acts).numpy() if self.neg_acts else np.zeros((0, self.n_feat)),
        )


def _feature_details(
    f: int,
    key: tuple[int, int],
    stats: _PassStats,
    chosen: list[tuple[str, int]],
    profiles: dict[int, np.ndarray],
    logits: tuple[Any, Any, Any, Any],
    all_contexts: list[list[int]],
    tok_str: _Tokens,
    n_tokens: int,
) -> dict[str, Any]:
    """Feature `f`'s feature-details object: examples by quantile, logits, histogram, maximum."""
    act_max = float(stats.maxima[:, f].max(initial=0.0))
    quantiles: dict[str, list[dict[str, Any]]] = {}
    for name, ctx in chosen:
        example = _example(all_contexts[ctx], profiles[ctx][:, f], int(stats.argmax[ctx, f]), tok_str)
        quantiles.setdefault(name, []).append(example)
    values = stats.hist_vals[:, f][stats.hist_keys[:, f] >= 0]
    counts, edges = np.histogram(values, bins=HIST_BINS, range=(0.0, act_max or 1.0))
    top, top_v, bottom, bottom_v = logits
    return {
        "index": key[1],
        "examples_quantiles": [{"quantile_name": n, "examples": ex} for n, ex in quantiles.items()],
        "top_logits": [tok_str(i) for i in top],
        "bottom_logits": [tok_str(i) for i in bottom],
        "top_logit_values": [round(float(v), 4) for v in top_v],
        "bottom_logit_values": [round(float(v), 4) for v in bottom_v],
        "act_max": round(act_max, 5),
        "histogram": {
            "edges": [round(float(e), 5) for e in edges],
            "counts": [int(c) for c in counts],
            "sampled": int(len(values)),
        },
        "n_tokens": n_tokens,
    }


def _fill_positives(
    encoder: _Encoder,
    all_contexts: list[list[int]],
    features: list[tuple[int, int]],
    heldout: dict[tuple[int, int], HeldOut],
    reservoir: tuple[np.ndarray, np.ndarray],
    ctx_len: int,
    device: str,
    batch_size: int,
    tok_str: _Tokens,
    cache: dict[int, np.ndarray] | None,
) -> None:
    """The held-out firing tokens (from the reservoir) whose activation reaches the feature's threshold."""
    pos_r, pos_k = reservoir
    needed = sorted({int(r) // ctx_len for f in range(len(features)) for r in pos_r[:, f][pos_k[:, f] >= 0]})
    profiles = cache if cache is not None else _profiles(encoder, all_contexts, needed, device, batch_size)
    for f, key in enumerate(features):
        pairs: list[tuple[str, str]] = []
        for ref in pos_r[:, f][pos_k[:, f] >= 0]:
            ctx, pos = divmod(int(ref), ctx_len)
            if profiles[ctx][pos, f] >= heldout[key].threshold > 0:
                ids = all_contexts[ctx]
                pairs.append((tok_str(ids[pos]), tok_str(ids[pos + 1]) if pos + 1 < len(ids) else ""))
        heldout[key].positives = pairs


def _choose_examples(
    maxima: np.ndarray, explain: np.ndarray, rng: np.random.Generator
) -> list[tuple[str, int]]:
    """(quantile name, context) pairs: the top contexts, then samples from equal-width intervals of max."""
    candidates = np.nonzero(explain & (maxima > 0))[0]
    if len(candidates) == 0:
        return []
    order = candidates[np.argsort(-maxima[candidates], kind="stable")]
    top = order[:TOP_EXAMPLES]
    out = [("Top activations", int(c)) for c in top]
    rest = order[TOP_EXAMPLES:]
    act_max = float(maxima[order[0]])
    for i in range(N_INTERVALS, 0, -1):
        lo, hi = act_max * (i - 1) / N_INTERVALS, act_max * i / N_INTERVALS
        pool = rest[(maxima[rest] > lo) & (maxima[rest] <= hi)]
        if len(pool) == 0:
            continue
        pick = rng.choice(pool, size=min(PER_INTERVAL, len(pool)), replace=False)
        name = f"Interval {i} ({(i - 1) / N_INTERVALS:.2f}-{i / N_INTERVALS:.2f} of max)"
        out.extend((name, int(c)) for c in sorted(pick, key=lambda c: -maxima[c]))
    return out


def _pad(batch: list[list[int]], device: str) -> tuple[Any, Any]:
    import torch

    s = max(len(ids) for ids in batch)
    tokens = torch.zeros((len(batch), s), dtype=torch.long)
    valid = torch.zeros((len(batch), s), dtype=torch.bool)
    for i, ids in enumerate(batch):
        tokens[i, : len(ids)] = torch.tensor(ids)
        valid[i, : len(ids)] = True
    return tokens.to(device), valid.to(device)


def _profiles(
    encoder: _Encoder, all_contexts: list[list[int]], wanted: list[int], device: str, batch_size: int
) -> dict[int, np.ndarray]:
    """Activation profile (tokens x features) of each wanted context, re-run in batches."""
    out: dict[int, np.ndarray] = {}
    for start in range(0, len(wanted), batch_size):
        ids = wanted[start : start + batch_size]
        tokens, _valid = _pad([all_contexts[c] for c in ids], device)
        acts = encoder(tokens)
        acts[:, 0, :] = 0
        acts = acts.cpu().numpy()
        for row, c in enumerate(ids):
            out[c] = acts[row, : len(all_contexts[c])]
    return out


def _example(ids: list[int], prof: np.ndarray, peak: int, tok_str: _Tokens) -> dict[str, Any]:
    lo, hi = max(1, peak - WINDOW_BEFORE), min(len(ids), peak + WINDOW_AFTER + 1)
    return {
        "tokens": [tok_str(t) for t in ids[lo:hi]],
        "tokens_acts_list": [round(float(a), 4) for a in prof[lo:hi]],
        "train_token_ind": peak - lo,
    }


def _logits(
    model: Any, features: list[tuple[int, int]]
) -> list[tuple[list[int], list[float], list[int], list[float]]]:
    """Top and bottom vocabulary entries of each feature's decoder direction through the unembedding."""
    import torch

    w_u = model.unembed.W_U if hasattr(model, "unembed") else model.unembed_proj
    out = []
    with torch.inference_mode():
        for layer, index in features:
            vec = model.transcoders._get_decoder_vectors(layer, torch.tensor([index], device=w_u.device))
            vec = vec.reshape(-1, w_u.shape[0]).sum(0).to(w_u.dtype)  # a CLT writes to several layers
            logits = (vec @ w_u).float().cpu()
            k = min(N_LOGITS, logits.shape[0])
            top = torch.topk(logits, k)
            bottom = torch.topk(-logits, k)
            out.append(
                (
                    top.indices.tolist(),
                    top.values.tolist(),
                    bottom.indices.tolist(),
                    (-bottom.values).tolist(),
                )
            )
    return out


def _progress(enabled: bool, total: int):
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    console = Console(stderr=True)
    return Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("tokens"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=not enabled or not console.is_terminal,
    )
