"""A local HTTP server playing Neuronpedia (and hostile servers) for the network tests.

Every canned answer has the shape of the Neuronpedia route it stands for; the route's source file in
hijohnnylin/neuronpedia (apps/webapp) is named beside it:
- `GET /api/graph/{modelId}/{slug}` -> the GraphMetadata row with `user` (app/api/graph/[modelId]/[slug]/
  route.ts, fields from prisma/schema.prisma `model GraphMetadata`); 404 `{"error": "Graph not found"}`;
- `POST /api/features` -> an array of Neuron rows found, missing ones absent (app/api/features/route.ts;
  fields from prisma/schema.prisma `model Neuron`, `model Explanation`, `model Activation`);
- `POST /api/graph/signed-put` -> `{url, key, putRequestId}` (app/api/graph/signed-put/route.ts);
- `POST /api/graph/save-to-db` -> `{message, url}` (app/api/graph/save-to-db/route.ts);
- authentication by the `x-api-key` header (lib/with-user.ts).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=lambda: {"Content-Type": "application/json"})
    drip: float = 0.0  # seconds between body bytes (a slow server)
    delay: float = 0.0  # seconds before answering


def js(doc: Any, status: int = 200, **headers: str) -> Reply:
    return Reply(status, json.dumps(doc).encode(), {"Content-Type": "application/json", **headers})


Handler = Callable[["Seen"], Reply]


class Server:
    """Routes `(METHOD, path)` -> a Reply or a function of the request; records every request."""

    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], Reply | Handler] = {}
        self.seen: list[Seen] = []
        self.lock = threading.Lock()
        server = self

        class H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                path = urlsplit(self.path).path
                seen = Seen(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                with server.lock:
                    server.seen.append(seen)
                    route = server.routes.get((self.command, path))
                reply = route(seen) if callable(route) else route
                if reply is None:
                    reply = js({"error": "Not found"}, 404)
                try:
                    if reply.delay:
                        time.sleep(reply.delay)
                    self.send_response(reply.status)
                    unsized = reply.headers.get("Content-Length") == "none"  # read until the close
                    for k, v in reply.headers.items():
                        if not (unsized and k == "Content-Length"):
                            self.send_header(k, v)
                    if unsized:
                        self.send_header("Connection", "close")
                        self.close_connection = True
                    elif "Content-Length" not in reply.headers:
                        self.send_header("Content-Length", str(len(reply.body)))
                    self.end_headers()
                    if reply.drip:
                        for i in range(len(reply.body)):
                            self.wfile.write(reply.body[i : i + 1])
                            self.wfile.flush()
                            time.sleep(reply.drip)
                    else:
                        self.wfile.write(reply.body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            do_GET = do_POST = do_PUT = _serve  # noqa: N815 - http.server's names

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def requests(self, method: str | None = None, path_prefix: str = "") -> list[Seen]:
        with self.lock:
            return [
                s
                for s in self.seen
                if (method is None or s.method == method) and s.path.startswith(path_prefix)
            ]

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def graph_metadata_row(
    server_url: str, model: str, slug: str, stored_url: str, source_set: str | None
) -> dict:
    """A GraphMetadata row as GET /api/graph/{modelId}/{slug} returns it (prisma `model GraphMetadata`)."""
    return {
        "id": "clx0graphmeta0000000000",
        "modelId": model,
        "sourceSetName": source_set,
        "slug": slug,
        "promptTokens": ["<bos>", "The", " capital"],
        "prompt": "<bos>The capital",
        "titlePrefix": "",
        "isFeatured": False,
        "url": stored_url,
        "userId": "clx0user000000000000000",
        "createdAt": "2026-01-01T00:00:00.000Z",
        "updatedAt": "2026-01-01T00:00:00.000Z",
        "user": {"name": "tester", "id": "clx0user000000000000000"},
    }


def neuron_row(model: str, layer_id: str, index: int, label: str | None, *, acts: bool = True) -> dict:
    """A Neuron row as POST /api/features returns it (prisma `model Neuron` with explanations and
    activations; `index` is a string there)."""
    explanations = []
    if label is not None:
        explanations = [
            {
                "id": f"expl-old-{index}",
                "modelId": model,
                "layer": layer_id,
                "index": str(index),
                "description": f"older {label}",
                "typeName": "oai_token-act-pair",
                "explanationModelName": "gpt-4o-mini",
                "createdAt": "2025-01-01T00:00:00.000Z",
            },
            {
                "id": f"expl-{index}",
                "modelId": model,
                "layer": layer_id,
                "index": str(index),
                "description": label,
                "typeName": "np_max-act-logits",
                "explanationModelName": "gemini-2.0-flash",
                "createdAt": "2025-06-01T00:00:00.000Z",
            },
        ]
    activations = []
    if acts:
        activations = [
            {
                "id": f"act-{index}-{k}",
                "tokens": ["<bos>", " The", " city", " of", " Austin"],
                "values": [0.0, 0.0, 0.5 * (k + 1), 0.0, 2.0 * (k + 1)],
                "maxValue": 2.0 * (k + 1),
                "maxValueTokenIndex": 4,
                "minValue": 0.0,
                "index": str(index),
                "layer": layer_id,
                "modelId": model,
            }
            for k in range(3)
        ]
    return {
        "modelId": model,
        "layer": layer_id,
        "index": str(index),
        "sourceSetName": layer_id.split("-", 1)[1],
        "maxActApprox": 6.0,
        "explanations": explanations,
        "activations": activations,
        "pos_str": [" Austin", " Dallas", " Houston"],
        "pos_values": [1.5, 1.2, 0.9],
        "neg_str": [" the", " a"],
        "neg_values": [-0.7, -0.5],
        "frac_nonzero": 0.0123,
        "freq_hist_data_bar_heights": [10.0, 5.0, 1.0],
        "freq_hist_data_bar_values": [0.5, 1.5, 2.5],
    }
