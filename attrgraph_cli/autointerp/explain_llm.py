"""The LLM explainer: any OpenAI-compatible chat endpoint turns a dashboard into a 1-6 word label.

The prompt follows Neuronpedia's np_max-act-logits: the top activating tokens, the tokens after them, the top
logits, and short context windows with the activating token marked. The API key comes from an environment
variable only (`--api-key-env`, never a flag or the graph). Requests go through attrgraph's one bounded
HTTP client (`net.http`): the key is sent to the endpoint's origin only and a redirect elsewhere is an
error; each request has a whole-request deadline (`--llm-timeout`), the back-off on timeouts, 429 and 5xx
is exponential but capped, and answers are size-capped. Labels are cached on disk by endpoint + feature +
model + prompt (`$XDG_CACHE_HOME/attrgraph/llm-labels`), so a rerun costs nothing and one endpoint's
answers are never reused for another. A feature whose request fails keeps its heuristic label.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from attrgraph_cli.autointerp.examples import clean_token, peaks
from attrgraph_cli.net.cache import write_atomic

MAX_WORDS = 6
N_WINDOWS = 8
SYSTEM = (
    "You label features of a language model from their activating examples. Answer with the label only: "
    "1 to 6 words, no sentence, no quotes, no trailing period."
)
_PADDING = re.compile(
    r"^(?:label\s*:\s*|this feature (?:fires|activates|responds) (?:on|to|for)\s+"
    r"|the feature (?:fires|activates) (?:on|to|for)\s+"
    r"|this feature (?:is about|detects|represents)\s+|feature:\s*|the (?:token|word)s?\s+)",
    re.IGNORECASE,
)


#: the longest single back-off between tries (issue: an uncapped back-off took ~255 s per feature)
BACKOFF_CAP = 8.0
#: the largest answer read from the endpoint (a chat completion of a few words)
MAX_ANSWER_BYTES = 1 << 20


@dataclass
class LLMSettings:
    endpoint: str
    model: str
    api_key_env: str = "OPENAI_API_KEY"
    concurrency: int = 4
    retries: int = 3
    timeout: float = 30.0
    backoff: float = 0.5
    cache_dir: Path | None = None

    def __post_init__(self) -> None:
        """Refuse a malformed endpoint, a non-finite or absurd timeout, before any request (one line)."""
        from attrgraph_cli.errors import AttrgraphError
        from attrgraph_cli.net.http import check_seconds, check_url

        check_url(_url(self.endpoint) if isinstance(self.endpoint, str) else self.endpoint, "--endpoint")
        self.timeout = check_seconds(self.timeout, "--llm-timeout", low=0.1)
        if not isinstance(self.retries, int) or not 1 <= self.retries <= 100:
            raise AttrgraphError("--llm-retries must be from 1 to 100")
        if not isinstance(self.concurrency, int) or not 1 <= self.concurrency <= 64:
            raise AttrgraphError("--llm-concurrency must be from 1 to 64")

    def limits(self):
        """Per feature: each try within `timeout` (headers and body), `retries` tries, capped back-off."""
        from attrgraph_cli.net.http import Limits

        cap = min(BACKOFF_CAP, max(self.backoff, self.timeout))
        deadline = self.timeout * self.retries + cap * max(0, self.retries - 1) + 1.0
        return Limits(
            timeout=self.timeout,
            deadline=deadline,
            max_bytes=MAX_ANSWER_BYTES,
            retries=self.retries,
            backoff=self.backoff,
            backoff_cap=cap,
            try_deadline=self.timeout,
        )


@dataclass
class LLMRun:
    labels: dict[tuple[int, int], str] = field(default_factory=dict)
    errors: dict[tuple[int, int], str] = field(default_factory=dict)
    requests: int = 0
    cached: int = 0

    def summary(self) -> dict[str, Any]:
        reasons = Counter(self.errors.values())
        return {
            "labelled": len(self.labels),
            "failed": len(self.errors),
            "requests": self.requests,
            "cached": self.cached,
            "errors": dict(reasons.most_common(5)),
        }


class _Failure(Exception):
    def __init__(self, reason: str, retry: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry = retry


def build_prompt(details: dict[str, Any]) -> str:
    """The user message for one feature, from its dashboard."""
    found = sorted(peaks(details), key=lambda p: -p.act)
    top = Counter(clean_token(p.token) for p in found).most_common(8)
    after = Counter(clean_token(p.next_token) for p in found if p.next_token).most_common(8)
    logits = [clean_token(t) for t in (details.get("top_logits") or [])[:10] if isinstance(t, str)]
    lines = [
        "Top activating tokens: " + ", ".join(f"{t} ({n})" for t, n in top),
        "Tokens right after them: " + ", ".join(f"{t} ({n})" for t, n in after),
        "Top logits (tokens the feature promotes): " + ", ".join(logits),
        "Examples (the activating token in <<>>):",
    ]
    for p in found[:N_WINDOWS]:
        lo, hi = max(0, p.index - 8), min(len(p.tokens), p.index + 3)
        words = [f"<<{t}>>" if k == p.index else t for k, t in enumerate(p.tokens[lo:hi], lo)]
        lines.append("- " + " ".join(w.strip() for w in words))
    lines.append("Label (1-6 words):")
    return "\n".join(lines)


def parse_label(text: Any) -> str | None:
    """The label in a model's answer, padding phrases and quotes stripped, at most 6 words; None if junk."""
    if not isinstance(text, str):
        return None
    line = next((ln.strip() for ln in text.strip().splitlines() if ln.strip()), "")
    line = _PADDING.sub("", line).strip().strip("\"'`*").rstrip(".").strip()
    if not line or len(line) > 200:
        return None
    return " ".join(line.split()[:MAX_WORDS])


def explain_all(items: dict[tuple[int, int], dict[str, Any]], settings: LLMSettings) -> LLMRun:
    """Ask the endpoint for every feature (cache first); failures are recorded, never raised."""
    from attrgraph_cli.net.http import Client

    run = LLMRun()
    prompts = {key: build_prompt(details) for key, details in items.items()}
    key = os.environ.get(settings.api_key_env) if settings.api_key_env else None
    auth = {"Authorization": f"Bearer {key}"} if key else {}
    client = Client(_url(settings.endpoint), limits=settings.limits(), auth_headers=auth)

    def one(key: tuple[int, int]) -> None:
        prompt = prompts[key]
        cache = _cache_path(settings, key, prompt)
        if cache is not None and cache.is_file():
            try:
                label = parse_label(json.loads(cache.read_text())["label"])
            except (OSError, ValueError, KeyError, TypeError):
                label = None
            if label:
                run.labels[key] = label
                run.cached += 1
                return
        try:
            label = _ask(settings, prompt, client)
        except _Failure as exc:
            run.errors[key] = exc.reason
            return
        run.labels[key] = label
        if cache is not None:
            record = {
                "feature": f"{key[0]}_{key[1]}",
                "endpoint": _url(settings.endpoint),
                "model": settings.model,
                "label": label,
            }
            try:
                write_atomic(cache, json.dumps(record).encode())
            except OSError:
                pass  # an unwritable cache costs a later request, nothing else

    try:
        with ThreadPoolExecutor(max_workers=max(1, settings.concurrency)) as pool:
            list(pool.map(one, list(items)))
    finally:
        run.requests = client.requests
        client.close()
    return run


def _cache_path(settings: LLMSettings, key: tuple[int, int], prompt: str) -> Path | None:
    if settings.cache_dir is None:
        return None
    digest = hashlib.sha256(
        "\n".join([_url(settings.endpoint), f"{key[0]}_{key[1]}", settings.model, SYSTEM, prompt]).encode()
    ).hexdigest()
    return settings.cache_dir / f"{digest}.json"


def _url(endpoint: str) -> str:
    base = endpoint.rstrip("/")
    return base if base.endswith("/chat/completions") else base + "/chat/completions"


def _ask(settings: LLMSettings, prompt: str, client) -> str:
    """One feature's label from the endpoint (tries, back-off and deadlines are the client's)."""
    from attrgraph_cli.net.http import NetError

    body = {
        "model": settings.model,
        "messages": [{"role": "system", "content": SYSTEM}, {"role": "user", "content": prompt}],
        "temperature": 0,
        "max_tokens": 24,
    }
    try:
        doc = client.post_json(client.base, body, "the LLM endpoint")
    except NetError as exc:
        raise _Failure(_reason(str(exc)), retry=False) from None
    try:
        content = doc["choices"][0]["message"]["content"]
    except (KeyError, IndexError, TypeError):
        raise _Failure("returned junk (not an OpenAI chat completion)", retry=False) from None
    label = parse_label(content)
    if label is None:
        raise _Failure("returned junk (an empty or overlong label)", retry=False)
    return label


def _reason(message: str) -> str:
    """The client's one-line error without the repeated "the LLM endpoint: " prefix."""
    prefix = "the LLM endpoint: "
    text = message[len(prefix) :] if message.startswith(prefix) else message
    if "HTML page" in text or "JSON" in text:
        return "returned junk (" + text + ")"
    return text
