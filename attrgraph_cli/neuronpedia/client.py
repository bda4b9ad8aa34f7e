"""Neuronpedia's routes, through the bounded client (`net.http`), with their answers' shapes checked.

Routes and shapes, from Neuronpedia's source (hijohnnylin/neuronpedia, apps/webapp):
- `GET /api/graph/{modelId}/{slug}` (`app/api/graph/[modelId]/[slug]/route.ts`): the GraphMetadata row
  (`prisma/schema.prisma`: id, modelId, sourceSetName, slug, promptTokens, prompt, titlePrefix, isFeatured,
  url, userId, createdAt, updatedAt) with `user: {name, id}`; 404 `{"error": "Graph not found"}`.
  `url` is where the graph JSON is stored (an S3 or CDN address): untrusted, http(s) only here.
- `POST /api/features` (`app/api/features/route.ts`): a JSON array of `{modelId, layer, index,
  maxActsToReturn}` -> an array of Neuron rows found (missing features are simply absent); a Neuron has
  modelId, layer (`20-clt-hp`), index (a string), explanations[] (description, typeName,
  explanationModelName), activations[] (tokens, values, maxValue, maxValueTokenIndex), pos_str/pos_values,
  neg_str/neg_values, frac_nonzero, freq_hist_data_bar_heights/values.
- `POST /api/graph/signed-put` (`app/api/graph/signed-put/route.ts`): `{filename (.json), contentLength
  (1024 .. MAX_GRAPH_UPLOAD_SIZE_BYTES)}` -> `{url, key, putRequestId}`; then a PUT of the file to `url`.
- `POST /api/graph/save-to-db` (`app/api/graph/save-to-db/route.ts`): `{putRequestId}` -> `{message, url}`.
- Authentication: the `x-api-key` header (`lib/with-user.ts`).
"""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import quote

from attrgraph_cli.net.http import Client, Limits, NetError, check_url, limits_from_env
from attrgraph_cli.neuronpedia.ids import is_np_id

API_KEY_ENV = "NEURONPEDIA_API_KEY"
API_KEY_HEADER = "x-api-key"
#: `MAX_GRAPH_UPLOAD_SIZE_BYTES` in `app/[modelId]/graph/utils.ts` (100 MiB); signed-put's minimum is 1024
MAX_UPLOAD_BYTES = 100 * 1024 * 1024
MIN_UPLOAD_BYTES = 1024
#: the largest graph JSON downloaded (a hosted graph was uploaded under the 100 MiB limit; featured graphs
#: from other buckets get some room)
MAX_GRAPH_BYTES = 256 << 20
MAX_METADATA_BYTES = 4 << 20
MAX_FEATURES_BYTES = 64 << 20


def api_key() -> str | None:
    """The Neuronpedia API key from `$NEURONPEDIA_API_KEY`, if set (never from a flag or a file)."""
    key = os.environ.get(API_KEY_ENV, "").strip()
    if key and any(ord(c) < 33 or ord(c) == 127 for c in key):
        raise NetError(f"{API_KEY_ENV} holds spaces or control characters")
    return key or None


def client(
    base: str, *, limits: Limits | None = None, on_request: Any = None, send_key: bool = True
) -> Client:
    """A client for the Neuronpedia at `base`; the API key (if any, and `send_key`) goes to that origin."""
    key = api_key() if send_key else None
    return Client(
        base,
        limits=limits or limits_from_env(Limits(timeout=30.0, deadline=300.0, max_bytes=MAX_FEATURES_BYTES)),
        auth_headers={API_KEY_HEADER: key} if key else {},
        on_request=on_request,
    )


def graph_metadata(np: Client, model_id: str, slug: str) -> dict[str, Any]:
    """The GraphMetadata row of a hosted graph (NetError when absent or of the wrong shape)."""
    url = np.url(f"api/graph/{quote(model_id, safe='')}/{quote(slug, safe='')}")
    lim = np.limits
    limits = Limits(
        lim.timeout, lim.deadline, min(MAX_METADATA_BYTES, lim.max_bytes), lim.retries, lim.backoff
    )
    try:
        doc = np.get_json(url, f"the metadata of graph {model_id}/{slug}", limits=limits)
    except NetError as exc:
        if exc.status == 404:
            raise NetError(f"{np.base} has no graph {model_id}/{slug} (HTTP 404)", status=404) from None
        raise
    if not isinstance(doc, dict):
        raise NetError(f"the metadata of graph {model_id}/{slug} is not a JSON object")
    stored = doc.get("url")
    if not isinstance(stored, str) or not stored:
        raise NetError(f"the metadata of graph {model_id}/{slug} names no stored JSON (no 'url' string)")
    check_url(stored, f"the stored location of graph {model_id}/{slug}")
    for key in ("modelId", "slug"):
        if key in doc and not isinstance(doc[key], str):
            raise NetError(f"the metadata of graph {model_id}/{slug} has a '{key}' that is not a string")
    return doc


def features(np: Client, model_id: str, wanted: list[tuple[str, int]], max_acts: int) -> list[dict[str, Any]]:
    """POST /api/features for (layer id, index) pairs: the Neuron rows found (NetError on a bad answer)."""
    body = [
        {"modelId": model_id, "layer": layer, "index": index, "maxActsToReturn": max_acts}
        for layer, index in wanted
    ]
    doc = np.post_json(np.url("api/features"), body, "the feature details")
    if not isinstance(doc, list):
        raise NetError(f"the feature details from {np.base} are not a JSON array")
    return [row for row in doc if isinstance(row, dict)]


def signed_put(np: Client, filename: str, size: int) -> tuple[str, str]:
    """Step 1 of an upload: (signed URL, putRequestId)."""
    doc = np.post_json(
        np.url("api/graph/signed-put"),
        {"filename": filename, "contentLength": size, "contentType": "application/json"},
        "the upload request (signed-put)",
    )
    if not isinstance(doc, dict) or not isinstance(doc.get("url"), str) or not doc.get("putRequestId"):
        raise NetError("the upload request (signed-put): the answer has no 'url' and 'putRequestId'")
    put_id = doc["putRequestId"]
    if not isinstance(put_id, str) or not is_np_id(put_id):
        raise NetError("the upload request (signed-put): 'putRequestId' is not a plain id")
    return check_url(doc["url"], "the signed upload URL"), put_id


def put_file(np: Client, url: str, data: bytes) -> None:
    """Step 2: PUT the graph JSON to the signed URL (no API key: the URL itself authorises it)."""
    limits = Limits(np.limits.timeout, max(np.limits.deadline, 600.0), 1 << 20, np.limits.retries)
    np.request(
        "PUT",
        url,
        "the graph upload (PUT to the signed URL)",
        content=data,
        headers={"Content-Type": "application/json"},
        limits=limits,
        credentials=False,
    )


def save_to_db(np: Client, put_request_id: str) -> str:
    """Step 3: register the uploaded file; the graph's page URL."""
    doc = np.post_json(np.url("api/graph/save-to-db"), {"putRequestId": put_request_id}, "save-to-db")
    if not isinstance(doc, dict) or not isinstance(doc.get("url"), str):
        raise NetError("save-to-db: the answer has no 'url'")
    return check_url(doc["url"], "the graph's page URL")
