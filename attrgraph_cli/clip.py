"""Cut long strings from a graph file where they are shown (titles, the prompt, labels), so that one
50 MB field cannot make a figure's `<title>`, a PDF's layout or the viewer's page as large as the file."""

from __future__ import annotations

from typing import Any

#: characters shown of a title (the SVG's `<title>`, the HTML page's and the PDF's heading)
MAX_TITLE = 300
#: characters shown of the prompt in the PDF's header
MAX_PROMPT = 2000
#: characters kept of a node label, a feature's label or any other string a report shows (the viewer's
#: payload, its panels and its SVG export, the CLI's SVG and the PDF: one length everywhere)
MAX_LABEL = 2000


def clip(text: str, limit: int) -> str:
    """`text` if it is at most `limit` characters long, else its first `limit - 1` and an ellipsis."""
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def clip_strings(value: Any, limit: int = MAX_LABEL) -> Any:
    """`value` with every string in it (keys included, at any depth) cut to `limit` characters."""
    if isinstance(value, str):
        return clip(value, limit)
    if isinstance(value, dict):
        return {clip(str(k), limit): clip_strings(v, limit) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [clip_strings(v, limit) for v in value]
    return value
