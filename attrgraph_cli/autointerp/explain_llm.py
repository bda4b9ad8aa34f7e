"""The LLM explainer: any OpenAI-compatible chat endpoint turns a dashboard into a 1-6 word label.

The prompt follows Neuronpedia's np_max-act-logits: the top activating tokens, the tokens after them, the top
logits, and short context windows with the activating token marked. The API key comes from an environment
variable only (`--api-key-env`, never a flag or the graph). Requests run concurrently up to a limit, are
retried with exponential back-off on timeouts, 429 and 5xx, and are cached on disk by feature + model +
prompt, so a rerun costs nothing. A feature whose request fails keeps its heuristic label; the caller says so.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
import urllib.error
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from attrgraph_cli.autointerp.examples import clean_token, peaks
from attrgraph_cli.io.atomic import atomic_write_bytes

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
    run = LLMRun()
    prompts = {key: build_prompt(details) for key, details in items.items()}

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
            label = _ask(settings, prompt, run)
        except _Failure as exc:
            run.errors[key] = exc.reason
            return
        run.labels[key] = label
        if cache is not None:
            record = {"feature": f"{key[0]}_{key[1]}", "model": settings.model, "label": label}
            atomic_write_bytes(cache, json.dumps(record).encode())

    with ThreadPoolExecutor(max_workers=max(1, settings.concurrency)) as pool:
        list(pool.map(one, list(items)))
    return run


def _cache_path(settings: LLMSettings, key: tuple[int, int], prompt: str) -> Path | None:
    if settings.cache_dir is None:
        return None
    digest = hashlib.sha256(
        "\n".join([f"{key[0]}_{key[1]}", settings.model, SYSTEM, prompt]).encode()
    ).hexdigest()
    return settings.cache_dir / f"{digest}.json"


def _url(endpoint: str) -> str:
    base = endpoint.rstrip("/")
    return base if base.endswith("/chat/completions") else base + "/chat/completions"


def _ask(settings: LLMSettings, prompt: str, run: LLMRun) -> str:
    body = json.dumps(
        {
            "model": settings.model,
            "messages": [{"role": "system", "content": SYSTEM}, {"role": "user", "content": prompt}],
            "temperature": 0,
            "max_tokens": 24,
        }
    ).encode()
    headers = {"Content-Type": "application/json"}
    key = os.environ.get(settings.api_key_env) if settings.api_key_env else None
    if key:
        headers["Authorization"] = f"Bearer {key}"
    last = "no attempt"
    for attempt in range(max(1, settings.retries)):
        if attempt:
            time.sleep(settings.backoff * 2 ** (attempt - 1))
        run.requests += 1
        try:
            return _post(_url(settings.endpoint), body, headers, settings.timeout)
        except _Failure as exc:
            last = exc.reason
            if not exc.retry:
                raise
    raise _Failure(f"{last} (after {max(1, settings.retries)} tries)", retry=False)


def _post(url: str, body: bytes, headers: dict[str, str], timeout: float) -> str:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - user's endpoint
            raw = response.read(1 << 20)
    except urllib.error.HTTPError as exc:
        retry = exc.code == 429 or exc.code >= 500
        raise _Failure(f"HTTP {exc.code}", retry) from None
    except TimeoutError:
        raise _Failure(f"timed out after {timeout:g} s", retry=True) from None
    except urllib.error.URLError as exc:
        reason = exc.reason
        if isinstance(reason, TimeoutError):
            raise _Failure(f"timed out after {timeout:g} s", retry=True) from None
        raise _Failure(f"cannot reach the endpoint ({reason})", retry=True) from None
    except (ConnectionError, OSError) as exc:
        raise _Failure(f"connection failed ({type(exc).__name__})", retry=True) from None
    try:
        doc = json.loads(raw)
        content = doc["choices"][0]["message"]["content"]
    except (ValueError, KeyError, IndexError, TypeError):
        raise _Failure("returned junk (not an OpenAI chat completion)", retry=False) from None
    label = parse_label(content)
    if label is None:
        raise _Failure("returned junk (an empty or overlong label)", retry=False)
    return label
