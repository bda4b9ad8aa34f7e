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
#: the longest line (one document) read from a corpus file: the corpus is streamed, a line is held whole
MAX_LINE_CHARS = 16 << 20


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
    from attrgraph_cli.io.sniff import regular_file_size

    if not path.exists():
        raise AttrgraphError(f"corpus {path} is not a readable file")
    regular_file_size(path, AttrgraphError, expected="a corpus file")  # FIFOs and devices: refused unread
    is_jsonl = path.suffix.lower() in (".jsonl", ".ndjson")
    try:
        with open(path, encoding="utf-8") as fh:
            lineno = 0
            while line := fh.readline(MAX_LINE_CHARS + 1):
                lineno += 1
                if len(line) > MAX_LINE_CHARS:
                    raise AttrgraphError(
                        f"corpus {path}, line {lineno}: longer than {MAX_LINE_CHARS:,} characters "
                        "(one document a line; a file without line breaks is not a corpus)"
                    )
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
