"""The text a dashboard is computed over: a `.txt` (one document per line) or `.jsonl` file, or the
embedded demo model's own seeded corpus."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import orjson

from attrgraph_cli.errors import AttrgraphError

#: seed of the demo corpus for dashboards (training used seed 0: fresh draws of the same stream)
DEMO_CORPUS_SEED = 20251
#: statements per demo document
DEMO_STATEMENTS_PER_DOC = 6
#: jsonl keys tried, in order, for the text of a record
TEXT_KEYS = ("text", "content", "document", "prompt")


def demo_documents(n_tokens: int, seed: int = DEMO_CORPUS_SEED) -> Iterator[str]:
    """Documents of the demo model's corpus until about `n_tokens` words were produced."""
    from attrgraph_cli.demo_model.corpus import CorpusGenerator

    gen = CorpusGenerator(seed)
    produced = 0
    while produced < n_tokens:
        doc = gen.document(DEMO_STATEMENTS_PER_DOC)
        produced += len(doc.split())
        yield doc


def read_documents(path: Path) -> Iterator[str]:
    """Documents of a corpus file: `.jsonl` records (a string or an object with a `text`-like key), else
    one document per non-empty line of text. Bad records are one clear error naming the line."""
    if not path.is_file():
        raise AttrgraphError(f"corpus {path} is not a readable file")
    is_jsonl = path.suffix.lower() in (".jsonl", ".ndjson")
    try:
        with open(path, encoding="utf-8") as fh:
            for lineno, line in enumerate(fh, 1):
                line = line.strip()
                if not line:
                    continue
                if not is_jsonl:
                    yield line
                    continue
                try:
                    record = orjson.loads(line)
                except orjson.JSONDecodeError as exc:
                    raise AttrgraphError(f"corpus {path}, line {lineno}: not JSON ({exc})") from None
                text = record if isinstance(record, str) else _text_of(record)
                if text is None:
                    raise AttrgraphError(
                        f"corpus {path}, line {lineno}: a record needs a string or one of the keys "
                        f"{', '.join(TEXT_KEYS)}"
                    )
                if text.strip():
                    yield text
    except UnicodeDecodeError as exc:
        raise AttrgraphError(f"corpus {path} is not UTF-8 text ({exc.reason} at byte {exc.start})") from None


def _text_of(record: object) -> str | None:
    if isinstance(record, dict):
        for key in TEXT_KEYS:
            value = record.get(key)
            if isinstance(value, str):
                return value
    return None
