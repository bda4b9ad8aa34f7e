"""Cut long strings from a graph file where they are displayed (titles, the prompt), so that one 50 MB
field cannot make a figure's `<title>` or a PDF's layout as large as the file."""

from __future__ import annotations

#: characters shown of a title (the SVG's `<title>`, the HTML page's and the PDF's heading)
MAX_TITLE = 300
#: characters shown of the prompt in the PDF's header
MAX_PROMPT = 2000


def clip(text: str, limit: int) -> str:
    """`text` if it is at most `limit` characters long, else its first `limit - 1` and an ellipsis."""
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"
