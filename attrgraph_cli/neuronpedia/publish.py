"""Upload a graph to Neuronpedia: check it as Neuronpedia would, then signed-put -> PUT -> save-to-db.

What Neuronpedia refuses (read from its upload routes, hijohnnylin/neuronpedia apps/webapp):
- `api/graph/signed-put/route.ts`: `filename` must end in `.json`; `contentLength` from 1024 to
  `MAX_GRAPH_UPLOAD_SIZE_BYTES` (100 MiB, `app/[modelId]/graph/utils.ts`); 429 after too many uploads a day;
- `api/graph/save-to-db/route.ts`: the file must pass the graph schema (Ajv; attrgraph's `validate` checks
  the same schema, `schemas/NOTICE.md`); `metadata.scan` and `metadata.slug` only `[a-zA-Z0-9_-]`; the model
  (`scan`) must exist there (`ERR_MODEL_DOES_NOT_EXIST`); a slug another user owns for that model is taken.
The first three are checked here before any request; the last two only the server can answer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from attrgraph_cli.errors import AttrgraphError
from attrgraph_cli.safetext import printable

_NP_SLUG = re.compile(r"^[a-zA-Z0-9_-]+$")


class PublishRefused(AttrgraphError):
    """A graph Neuronpedia would reject: refused before any request (exit 1)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, exit_code=1)


@dataclass
class Plan:
    data: bytes
    filename: str
    scan: str
    slug: str
    n_nodes: int
    n_links: int
    base: str

    def describe(self) -> list[str]:
        """What will be sent, where, in the order it is sent."""
        size = (
            f"{len(self.data) / (1 << 20):.2f} MiB" if len(self.data) >= 1 << 20 else f"{len(self.data):,} B"
        )
        return [
            f"graph {printable(self.scan)}/{printable(self.slug)}: {self.n_nodes:,} nodes, "
            f"{self.n_links:,} links, {size} of graph JSON (the whole file: metadata, qParams, nodes, "
            "links, labels and the attrgraph extension)",
            f"1. POST {printable(self.base)}/api/graph/signed-put  {{filename: {printable(self.filename)!r}, "
            f"contentLength: {len(self.data)}}}  (with your NEURONPEDIA_API_KEY)",
            "2. PUT the graph JSON to the signed storage URL it answers (no API key)",
            f"3. POST {printable(self.base)}/api/graph/save-to-db  {{putRequestId}}  (with your API key)",
        ]


def plan(data: bytes, name: str, base: str) -> Plan:
    """Check the graph JSON bytes as Neuronpedia would; the plan of the upload (PublishRefused if not)."""
    import orjson

    from attrgraph_cli.neuronpedia.client import MAX_UPLOAD_BYTES, MIN_UPLOAD_BYTES
    from attrgraph_cli.validate.engine import validate_bytes

    if len(data) > MAX_UPLOAD_BYTES:
        raise PublishRefused(
            f"{name}: {len(data) / (1 << 20):.1f} MiB of graph JSON is over Neuronpedia's 100 MiB upload "
            "limit (prune it harder: convert --node-threshold/--edge-threshold)"
        )
    if len(data) < MIN_UPLOAD_BYTES:
        raise PublishRefused(f"{name}: {len(data)} bytes; Neuronpedia accepts uploads of 1,024 bytes or more")
    problems = validate_bytes(data, name, max_per_rule=3, kind="graph").sink.problems
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        first = errors[0]
        more = f" (and {len(errors) - 1} more; `attrgraph validate` lists them)" if len(errors) > 1 else ""
        raise PublishRefused(
            f"{name} is not a valid graph, nothing sent: [{first.rule}] {first.path}: {first.message}{more}"
        )
    doc = orjson.loads(data)
    meta = doc.get("metadata") or {}
    scan, slug = meta.get("scan"), meta.get("slug")
    for field, value in (("scan", scan), ("slug", slug)):
        if not isinstance(value, str) or not _NP_SLUG.match(value):
            raise PublishRefused(
                f"{name}: metadata.{field} {printable(str(value))[:80]!r} is refused by Neuronpedia (only "
                f"letters, digits, '_' and '-'); set it with `attrgraph convert --{field} ...`"
            )
    return Plan(
        data, f"{slug}.json", scan, slug, len(doc.get("nodes") or []), len(doc.get("links") or []), base
    )


def send(p: Plan, on_step: Any = None) -> str:
    """The three upload requests; the graph's page URL Neuronpedia answers."""
    from attrgraph_cli.net.http import NetError
    from attrgraph_cli.neuronpedia import client as npc

    if npc.api_key() is None:
        raise AttrgraphError(
            f"publishing needs an API key in ${npc.API_KEY_ENV} (Neuronpedia: Settings -> API key); "
            "nothing sent (--dry-run shows what would be)",
            exit_code=2,
        )
    with npc.client(p.base) as np:
        try:
            url, put_id = npc.signed_put(np, p.filename, len(p.data))
            if on_step:
                on_step(f"upload slot granted ({urlsplit(url).netloc})")
            npc.put_file(np, url, p.data)
            if on_step:
                on_step("graph JSON uploaded")
            page = npc.save_to_db(np, put_id)
        except NetError as exc:
            if exc.status == 401:
                raise NetError(f"{p.base} refused the API key in ${npc.API_KEY_ENV} (HTTP 401)") from None
            raise
    return page
