"""Hostile files built byte by byte for the readers' tests: raw PDFs (attachment name trees that are DAGs or
cycles, deflate bombs, many attachments) and gzip bombs (one small deflated member repeated)."""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Attachment:
    """One embedded file: `content` is stored deflated unless `deflate` is False; `declared` is the size
    the stream's /Params says (None: no /Params)."""

    name: str
    content: bytes = b""
    mime: str = "application/json"
    deflate: bool = True
    packed: bytes | None = None  # stored as is (already deflated) instead of `content`
    declared: int | None = None


def deflated_zeros(n_bytes: int, level: int = 9) -> bytes:
    """A zlib stream that inflates to `n_bytes` zero bytes, built in 1 MiB steps (never `n_bytes` at once)."""
    packer = zlib.compressobj(level)
    step = bytes(1 << 20)
    parts = []
    left = n_bytes
    while left > 0:
        parts.append(packer.compress(step[: min(left, len(step))]))
        left -= len(step)
    parts.append(packer.flush())
    return b"".join(parts)


def gzip_bomb(member_bytes: int, repeats: int, prefix: bytes = b"") -> bytes:
    """A multi-member gzip file: `prefix` + `member_bytes` spaces, deflated once, the member repeated
    `repeats` times (inflates to about member_bytes x repeats)."""
    import gzip
    import io

    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", compresslevel=9, mtime=0) as out:
        out.write(prefix)
        step = b" " * (1 << 20)
        left = member_bytes
        while left > 0:
            out.write(step[: min(left, len(step))])
            left -= len(step)
    return buf.getvalue() * repeats


def _stream(dictionary: bytes, data: bytes) -> bytes:
    return b"<< " + dictionary + b" /Length %d >>\nstream\n" % len(data) + data + b"\nendstream"


def _pdf_string(text: str) -> bytes:
    raw = text.encode("latin-1", "replace")
    return b"(" + raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)") + b")"


def build_pdf(objects: dict[int, bytes], root: int) -> bytes:
    """A PDF file of `objects` (number -> body), its cross-reference table and trailer."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets: dict[int, int] = {}
    for num in sorted(objects):
        offsets[num] = len(out)
        out += b"%d 0 obj\n" % num + objects[num] + b"\nendobj\n"
    xref = len(out)
    size = max(objects) + 1
    out += b"xref\n0 %d\n0000000000 65535 f \n" % size
    for num in range(1, size):
        out += b"%010d 00000 n \n" % offsets[num] if num in offsets else b"0000000000 65535 f \n"
    out += b"trailer\n<< /Size %d /Root %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (size, root, xref)
    return bytes(out)


def attachments_pdf(files: Sequence[Attachment], tree: str = "flat", depth: int = 28) -> bytes:
    """A PDF carrying `files` as document attachments.

    `tree`: "flat" (one name-tree node), "dag" (a chain of `depth` inner nodes, each listing the next one
    twice: 2**depth paths to the leaf), or "cycle" (two inner nodes that are each other's kid, plus the
    leaf).
    """
    objects: dict[int, bytes] = {1: b"<< /Type /Catalog /Pages 2 0 R /Names << /EmbeddedFiles 3 0 R >> >>"}
    objects[2] = b"<< /Type /Pages /Kids [] /Count 0 >>"
    pairs = []
    num = 10
    for att in files:
        packed = (
            att.packed
            if att.packed is not None
            else (zlib.compress(att.content, 6) if att.deflate else att.content)
        )
        mime = att.mime.replace("/", "#2F").encode()
        params = b" /Params << /Size %d >>" % att.declared if att.declared is not None else b""
        flt = b" /Filter /FlateDecode" if att.deflate or att.packed is not None else b""
        objects[num] = _stream(b"/Type /EmbeddedFile /Subtype /" + mime + flt + params, packed)
        name = _pdf_string(att.name)
        objects[num + 1] = (
            b"<< /Type /Filespec /F " + name + b" /UF " + name + b" /EF << /F %d 0 R >> >>" % num
        )
        pairs.append(name + b" %d 0 R" % (num + 1))
        num += 2
    leaf = b"<< /Names [" + b" ".join(pairs) + b"] >>"
    if tree == "flat":
        objects[3] = leaf
    elif tree == "dag":
        chain = list(range(num, num + depth))
        objects[3] = b"<< /Kids [%d 0 R %d 0 R] >>" % (chain[0], chain[0])
        for a, b in zip(chain, chain[1:], strict=False):
            objects[a] = b"<< /Kids [%d 0 R %d 0 R] >>" % (b, b)
        objects[chain[-1]] = leaf
    elif tree == "cycle":
        a, b, c = num, num + 1, num + 2
        objects[3] = b"<< /Kids [%d 0 R] >>" % a
        objects[a] = b"<< /Kids [%d 0 R %d 0 R] >>" % (b, c)
        objects[b] = b"<< /Kids [%d 0 R 3 0 R] >>" % a
        objects[c] = leaf
    else:
        raise ValueError(tree)
    return build_pdf(objects, 1)


def object_stream_bomb_pdf(inflated_bytes: int) -> bytes:
    """A PDF 1.5 whose attachment name tree (object 3) lives in a deflated object stream padded with
    `inflated_bytes` of spaces (an xref stream points into it): pypdf inflates that stream itself."""
    import struct

    head = b"3 0 "
    body = b"<< /Names [] >>" + b" " * inflated_bytes
    packer = zlib.compressobj(9)
    packed = packer.compress(head) + packer.compress(body) + packer.flush()
    out = bytearray(b"%PDF-1.5\n%\xe2\xe3\xcf\xd3\n")
    offsets = {}
    offsets[1] = len(out)
    out += b"1 0 obj\n<< /Type /Catalog /Pages 2 0 R /Names << /EmbeddedFiles 3 0 R >> >>\nendobj\n"
    offsets[2] = len(out)
    out += b"2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n"
    offsets[5] = len(out)
    out += b"5 0 obj\n" + _stream(b"/Type /ObjStm /N 1 /First %d /Filter /FlateDecode" % len(head), packed)
    out += b"\nendobj\n"
    offsets[6] = len(out)
    rows = [struct.pack(">BIH", 0, 0, 65535)]
    for num in range(1, 7):
        if num == 3:
            rows.append(struct.pack(">BIH", 2, 5, 0))
        elif num in offsets:
            rows.append(struct.pack(">BIH", 1, offsets[num], 0))
        else:
            rows.append(struct.pack(">BIH", 0, 0, 0))
    xref = b"".join(rows)
    out += b"6 0 obj\n" + _stream(b"/Type /XRef /Size 7 /W [1 4 2] /Root 1 0 R", xref) + b"\nendobj\n"
    out += b"startxref\n%d\n%%%%EOF\n" % offsets[6]
    return bytes(out)
