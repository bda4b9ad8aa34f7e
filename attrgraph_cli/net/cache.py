"""A download cache: content-addressed, size-bounded, written atomically, checked on every read.

Layout under `cache_root()/NAME`: `blobs/<sha256 of content>` holds each distinct answer once, and
`refs/<sha256 of key>` names the blob a request key gave. A write is a temp file renamed into place, and
callers store an answer only after it passed every check, so a failed or partial download never lands. A
read re-hashes the blob: a damaged or truncated file reads as a miss (and is removed), never as data.
When the cache grows past its budget the least recently used blobs go first.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
import time
from pathlib import Path

ENV_CACHE = "XDG_CACHE_HOME"


def cache_root() -> Path:
    """`$XDG_CACHE_HOME/attrgraph` when XDG_CACHE_HOME is an absolute path, else `~/.cache/attrgraph`."""
    xdg = os.environ.get(ENV_CACHE, "")
    if xdg and os.path.isabs(xdg):
        return Path(xdg) / "attrgraph"
    return Path.home() / ".cache" / "attrgraph"


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def write_atomic(path: Path, data: bytes) -> None:
    """Write `data` to `path` through a temp file in the same folder and a rename (no fsync: a cache)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


class BlobCache:
    """Request key -> bytes, stored by content under `cache_root()/name`, at most `max_bytes` of blobs."""

    def __init__(self, name: str, max_bytes: int = 1 << 30, root: Path | None = None) -> None:
        self.folder = (root or cache_root()) / name
        self.max_bytes = max_bytes

    def _ref(self, key: str) -> Path:
        return self.folder / "refs" / _digest(key.encode("utf-8", "surrogatepass"))

    def _blob(self, digest: str) -> Path:
        return self.folder / "blobs" / digest

    def get(self, key: str) -> bytes | None:
        """The bytes stored for `key`, or None (absent, or damaged: then removed)."""
        try:
            digest = self._ref(key).read_text("ascii").strip()
        except (OSError, UnicodeDecodeError):
            return None
        if len(digest) != 64 or not all(c in "0123456789abcdef" for c in digest):
            return None
        blob = self._blob(digest)
        try:
            data = blob.read_bytes()
        except OSError:
            return None
        if _digest(data) != digest:
            with contextlib.suppress(OSError):
                blob.unlink()
            return None
        with contextlib.suppress(OSError):
            os.utime(blob)  # recently used: evicted last
        return data

    def put(self, key: str, data: bytes, *, evict: bool = True) -> None:
        """Store `data` for `key` (call only with an answer that passed every check). Errors are ignored:
        a cache that cannot be written costs a later download, nothing else. With `evict=False` the
        budget is enforced later by `evict()` (many small puts in a row)."""
        if len(data) > self.max_bytes:
            return
        digest = _digest(data)
        try:
            blob = self._blob(digest)
            if not blob.is_file():
                write_atomic(blob, data)
            write_atomic(self._ref(key), digest.encode())
            if evict:
                self.evict(keep=digest)
        except OSError:
            return

    def evict(self, keep: str = "") -> None:
        """Remove least recently used blobs until the cache is within its budget."""
        folder = self.folder / "blobs"
        if not folder.is_dir():
            return
        entries = []
        total = 0
        for path in folder.iterdir():
            if path.name.startswith("."):
                continue
            try:
                st = path.stat()
            except OSError:
                continue
            entries.append((st.st_mtime, st.st_size, path))
            total += st.st_size
        if total <= self.max_bytes:
            return
        for _mtime, size, path in sorted(entries):
            if path.name == keep:
                continue
            with contextlib.suppress(OSError):
                path.unlink()
                total -= size
            if total <= self.max_bytes:
                break

    def clear_stale_temps(self, older_than_s: float = 3600.0) -> None:
        """Remove temp files a killed process left behind (older than an hour)."""
        now = time.time()
        for sub in ("blobs", "refs"):
            folder = self.folder / sub
            if not folder.is_dir():
                continue
            for path in folder.glob(".*.tmp"):
                with contextlib.suppress(OSError):
                    if now - path.stat().st_mtime > older_than_s:
                        path.unlink()
