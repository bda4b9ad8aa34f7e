"""Text from a graph file made safe to show: one place for every renderer (SVG, PDF, viewer payload).

Every string from a graph or a model is untrusted. `clean_text` removes what XML cannot hold and folds
line breaks; `xml_text` also escapes it for XML text and attribute values; `token_text` shows a prompt
token's whitespace. HTML escaping itself is Jinja2's autoescape (PDF) or `textContent` (viewer).
"""

from __future__ import annotations

import re
from xml.sax.saxutils import escape

_XML_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff\ud800-\udfff]")


def clean_text(text: object) -> str:
    """A graph string made safe to put in XML text: forbidden characters become U+FFFD, breaks spaces."""
    value = str(text).replace("\r\n", " ").replace("\n", " ").replace("\r", " ").replace("\t", " ")
    return _XML_FORBIDDEN.sub("\ufffd", value)


def xml_text(text: object) -> str:
    """`clean_text` then XML-escaped (also quotes, so the result is safe in attribute values)."""
    return escape(clean_text(text), {'"': "&quot;", "'": "&#39;"})


def token_text(token: str) -> str:
    """A prompt token as shown under its column: whitespace made visible where it is all there is."""
    shown = token.replace("\n", "\u21b5").replace("\t", "\u21e5")
    return shown.strip() or ("\u2423" * min(len(shown), 3) if shown else "\u2205")


def shown_token(token: str) -> str:
    """A token inside a longer label (`Output " the"`): line breaks and tabs made visible, spaces kept."""
    return clean_text(token.replace("\r\n", "\u21b5").replace("\n", "\u21b5").replace("\t", "\u21e5"))
