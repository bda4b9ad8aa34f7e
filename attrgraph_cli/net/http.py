"""One bounded HTTP client (httpx) for every request attrgraph makes: Neuronpedia, stored graph JSON, LLMs.

Bounds, all enforced here so no caller can forget one:
- only `http` / `https` URLs, no control characters, a host required;
- redirects followed only within the origin (scheme, host, port) of the URL asked for; a redirect to
  another origin is an error, so credentials never leave the origin the user named. Credentials
  (`auth_headers`) are only ever sent to the client's own origin, never to a stored or signed URL;
- a response size cap, enforced while streaming the decoded body (a gzip bomb stops at the cap);
- a per-request timeout and a total deadline over every try, redirect and back-off; the total deadline
  holds even against a server that drips one byte at a time (each try runs in a watched thread);
- retries on network errors, timeouts, 429 and 5xx with capped exponential back-off; Retry-After is
  honoured when it fits within the cap and the deadline;
- `json()` refuses an HTML error page or malformed JSON with one line.

Every failure is a `NetError` (an `AttrgraphError`, exit 2) whose message is one printable line.
"""

from __future__ import annotations

import math
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

from attrgraph_cli.errors import AttrgraphError
from attrgraph_cli.safetext import printable

MAX_TIMEOUT_S = 3600.0
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
MAX_REDIRECTS = 5


class NetError(AttrgraphError):
    """A request failed (network, timeout, status, size, shape): one line, exit 2.

    `status` is the HTTP status when there was one (404 means "not found" to callers that count it).
    """

    def __init__(
        self, message: str, status: int | None = None, retry: bool = False, retry_after: float | None = None
    ) -> None:
        super().__init__(printable(message), exit_code=2)
        self.status = status
        self.retry = retry
        self.retry_after = retry_after


def check_url(url: Any, what: str = "URL") -> str:
    """`url` if it is an http(s) URL with a host and no control characters; else NetError (one line)."""
    if not isinstance(url, str) or not url:
        raise NetError(f"{what} is not a URL")
    if len(url) > 8192:
        raise NetError(f"{what} is too long ({len(url)} characters)")
    if any(ord(c) < 32 or 127 <= ord(c) < 160 for c in url):
        raise NetError(f"{what} holds control characters: {url[:200]}")
    try:
        parts = urlsplit(url)
        port = parts.port  # raises on a bad port
    except ValueError as exc:
        raise NetError(f"{what} is malformed ({exc}): {url[:200]}") from None
    if parts.scheme not in ("http", "https"):
        scheme = parts.scheme or "none"
        raise NetError(f"{what} must be http or https, not {scheme!r}: {url[:200]}")
    if not parts.hostname:
        raise NetError(f"{what} has no host: {url[:200]}")
    if port is not None and not 0 < port < 65536:
        raise NetError(f"{what} has a bad port: {url[:200]}")
    if " " in url:
        raise NetError(f"{what} holds a space: {url[:200]}")
    return url


def origin(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) of an http(s) URL, the default port filled in."""
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return parts.scheme, (parts.hostname or "").lower(), port


def check_seconds(value: Any, what: str, *, low: float = 0.001, high: float = MAX_TIMEOUT_S) -> float:
    """A finite number of seconds within [low, high]; else AttrgraphError naming the option."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise AttrgraphError(f"{what} must be a number of seconds")
    v = float(value)
    if not math.isfinite(v) or not low <= v <= high:
        raise AttrgraphError(f"{what} must be between {low:g} and {high:g} seconds, got {value!r}")
    return v


@dataclass
class Limits:
    """Bounds of one logical request (its tries, redirects and back-offs together)."""

    timeout: float = 30.0  # seconds per try (connect, each read, each write)
    deadline: float = 120.0  # seconds for everything, tries and back-offs included
    max_bytes: int = 64 << 20  # decoded response body
    retries: int = 3  # tries in all (1 = no retry)
    backoff: float = 0.5  # first back-off; doubles each retry
    backoff_cap: float = 8.0  # no back-off (or honoured Retry-After) longer than this
    try_deadline: float | None = None  # seconds for one whole try (headers and body), when set

    def __post_init__(self) -> None:
        self.timeout = check_seconds(self.timeout, "the request timeout")
        self.deadline = check_seconds(self.deadline, "the total deadline", high=24 * 3600.0)
        self.backoff = check_seconds(self.backoff, "the back-off", low=0.0)
        self.backoff_cap = check_seconds(self.backoff_cap, "the back-off cap", low=0.0)
        if self.try_deadline is not None:
            self.try_deadline = check_seconds(self.try_deadline, "the per-request deadline")
        if not isinstance(self.retries, int) or not 1 <= self.retries <= 100:
            raise AttrgraphError("tries per request must be an integer from 1 to 100")
        if not isinstance(self.max_bytes, int) or self.max_bytes < 1:
            raise AttrgraphError("the response size cap must be a positive integer")


@dataclass
class Response:
    status: int
    url: str
    headers: dict[str, str]
    body: bytes

    def json(self, what: str = "the answer") -> Any:
        """The body as JSON; NetError for an HTML page, an empty body or malformed JSON."""
        return parse_json(self.body, self.headers.get("content-type", ""), what, self.url)


def parse_json(body: bytes, content_type: str, what: str, url: str = "") -> Any:
    import orjson

    where = f" from {_host(url)}" if url else ""
    head = body[:512].lstrip().lower()
    if "html" in content_type.lower() or head.startswith((b"<!doctype", b"<html", b"<")):
        raise NetError(f"{what}{where} is an HTML page, not JSON (an error page or a login wall?)")
    if not body.strip():
        raise NetError(f"{what}{where} is empty, not JSON")
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise NetError(f"{what}{where} is malformed JSON ({str(exc)[:120]})") from None


def _host(url: str) -> str:
    try:
        parts = urlsplit(url)
        return parts.netloc or url[:100]
    except ValueError:
        return url[:100]


@dataclass
class Client:
    """Requests to one origin (`base`), with credentials sent to that origin only.

    `auth_headers` go with requests whose URL has the base's origin; any other URL (a graph's stored JSON,
    a signed upload URL) is fetched without them. `on_request` is called once per try that is sent (tests
    and progress counts use it).
    """

    base: str
    limits: Limits = field(default_factory=Limits)
    auth_headers: dict[str, str] = field(default_factory=dict)
    user_agent: str = "attrgraph"
    on_request: Callable[[str, str], None] | None = None
    requests: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        self.base = check_url(self.base, "the server URL").rstrip("/")
        self._origin = origin(self.base)
        self._client: Any = None

    # ---- public -------------------------------------------------------------------------------
    def url(self, path: str) -> str:
        """The base URL joined with `path` (`/api/...`)."""
        return self.base + "/" + path.lstrip("/")

    def get_json(self, url: str, what: str, *, limits: Limits | None = None) -> Any:
        return self.request("GET", url, what, limits=limits).json(what)

    def post_json(self, url: str, payload: Any, what: str, *, limits: Limits | None = None) -> Any:
        import orjson

        body = orjson.dumps(payload)
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        return self.request("POST", url, what, content=body, headers=headers, limits=limits).json(what)

    def request(
        self,
        method: str,
        url: str,
        what: str,
        *,
        content: bytes | None = None,
        headers: dict[str, str] | None = None,
        limits: Limits | None = None,
        credentials: bool = True,
        ok: Callable[[int], bool] = lambda s: 200 <= s < 300,
    ) -> Response:
        """Send one logical request within `limits`; a non-ok status, a bound crossed: NetError.

        `credentials=False` sends no `auth_headers` even to the client's own origin (a signed URL)."""
        lim = limits or self.limits
        url = check_url(url, f"the URL of {what}")
        deadline = time.monotonic() + lim.deadline
        last: NetError | None = None
        for attempt in range(lim.retries):
            if attempt:
                assert last is not None
                self._back_off(attempt, last, deadline, lim, what)
            try:
                response = self._watched(
                    method, url, what, content, headers or {}, lim, deadline, credentials
                )
            except NetError as exc:
                if not exc.retry:
                    raise
                last = exc
                continue
            if ok(response.status):
                return response
            status = response.status
            last = NetError(
                f"{what}: HTTP {status} from {_host(response.url)}{_said(response)}",
                status=status,
                retry=status in RETRY_STATUSES,
                retry_after=_retry_after(response.headers.get("retry-after")),
            )
            if not last.retry:
                raise last
        assert last is not None
        tries = lim.retries
        raise NetError(f"{last} (after {tries} {'try' if tries == 1 else 'tries'})", status=last.status)

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- internals ----------------------------------------------------------------------------
    def _httpx(self) -> Any:
        with self._lock:
            if self._client is None:
                import httpx

                self._client = httpx.Client(
                    follow_redirects=False,
                    trust_env=True,  # the user's proxy and CA settings (httpx reads no .netrc)
                    headers={"User-Agent": self.user_agent},
                    limits=httpx.Limits(max_connections=32, max_keepalive_connections=8),
                )
            return self._client

    def _back_off(self, attempt: int, last: NetError, deadline: float, lim: Limits, what: str) -> None:
        delay = min(lim.backoff * 2 ** (attempt - 1), lim.backoff_cap)
        delay *= 1.0 + 0.1 * random.random()  # a little jitter so parallel workers do not retry in step
        asked = last.retry_after
        if asked is not None:
            if asked > lim.backoff_cap:
                raise NetError(f"{last}; the server asks to retry after {asked:g} s (over the cap)")
            delay = max(delay, asked)
        delay = min(delay, lim.backoff_cap)
        if time.monotonic() + delay >= deadline:
            raise NetError(f"{last}; gave up: the {lim.deadline:g} s deadline for {what} is reached")
        time.sleep(delay)

    def _watched(
        self,
        method: str,
        url: str,
        what: str,
        content: bytes | None,
        headers: dict[str, str],
        lim: Limits,
        deadline: float,
        credentials: bool,
    ) -> Response:
        """One try (redirects included) in a daemon thread, abandoned when the deadline passes."""
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise NetError(f"{what}: the {lim.deadline:g} s deadline is reached")
        per_try = lim.try_deadline is not None and lim.try_deadline < remaining
        if per_try:
            remaining = lim.try_deadline
            deadline = time.monotonic() + remaining
        box: dict[str, Any] = {}
        done = threading.Event()
        cancel = threading.Event()

        def work() -> None:
            try:
                box["r"] = self._follow(
                    method, url, what, content, headers, lim, deadline, cancel, box, credentials
                )
            except BaseException as exc:  # noqa: BLE001 - handed to the waiting thread
                box["e"] = exc
            finally:
                done.set()

        threading.Thread(target=work, name="attrgraph-http", daemon=True).start()
        if not done.wait(remaining):
            cancel.set()
            stream = box.get("stream")
            if stream is not None:
                try:
                    stream.close()
                except Exception:  # noqa: BLE001 - best effort; the thread is abandoned anyway
                    pass
            if per_try:
                raise NetError(f"{what}: timed out (no complete answer within {remaining:g} s)", retry=True)
            raise NetError(f"{what}: no complete answer within the {lim.deadline:g} s deadline")
        if "e" in box:
            exc = box["e"]
            if isinstance(exc, NetError):
                raise exc
            raise NetError(f"{what}: {type(exc).__name__}: {str(exc)[:200]}") from None
        return box["r"]

    def _follow(
        self,
        method: str,
        url: str,
        what: str,
        content: bytes | None,
        headers: dict[str, str],
        lim: Limits,
        deadline: float,
        cancel: threading.Event,
        box: dict[str, Any],
        credentials: bool,
    ) -> Response:
        first = origin(url)
        for _hop in range(MAX_REDIRECTS + 1):
            response, location = self._send(
                method, url, what, content, headers, lim, deadline, cancel, box, credentials
            )
            if location is None:
                return response
            target = urljoin(url, location)
            try:
                check_url(target, f"the redirect of {what}")
            except NetError as exc:
                raise NetError(f"{what}: refused a redirect ({exc})") from None
            if origin(target) != first:
                raise NetError(
                    f"{what}: {_host(url)} redirected to another origin ({_host(target)}); refused "
                    "(credentials and requests stay with the server named)"
                )
            if response.status == 303 or (response.status in (301, 302) and method == "POST"):
                method, content = "GET", None
            url = target
        raise NetError(f"{what}: more than {MAX_REDIRECTS} redirects")

    def _send(
        self,
        method: str,
        url: str,
        what: str,
        content: bytes | None,
        headers: dict[str, str],
        lim: Limits,
        deadline: float,
        cancel: threading.Event,
        box: dict[str, Any],
        credentials: bool,
    ) -> tuple[Response, str | None]:
        import httpx

        sent = {"Accept-Encoding": "gzip, deflate", **headers}
        if credentials and origin(url) == self._origin:
            sent.update(self.auth_headers)
        timeout = max(0.001, min(lim.timeout, deadline - time.monotonic()))
        with self._lock:
            self.requests += 1
        if self.on_request is not None:
            self.on_request(method, url)
        try:
            request = self._httpx().build_request(
                method, url, content=content, headers=sent, timeout=httpx.Timeout(timeout)
            )
            stream = self._httpx().send(request, stream=True)
        except httpx.TimeoutException:
            raise NetError(f"{what}: {_host(url)} timed out after {timeout:g} s", retry=True) from None
        except httpx.HTTPError as exc:
            reason = printable(str(exc) or type(exc).__name__)[:160]
            raise NetError(f"{what}: cannot reach {_host(url)} ({reason})", retry=True) from None
        box["stream"] = stream
        try:
            status = stream.status_code
            rheaders = {k.lower(): v for k, v in stream.headers.items()}
            if status in _REDIRECTS:
                location = rheaders.get("location")
                if not location:
                    raise NetError(f"{what}: HTTP {status} redirect without a Location")
                return Response(status, url, rheaders, b""), location
            declared = rheaders.get("content-length", "")
            if declared.isdigit() and int(declared) > lim.max_bytes:
                raise NetError(
                    f"{what} from {_host(url)} is too large "
                    f"({_size(int(declared))}, cap {_size(lim.max_bytes)})"
                )
            decode = _Decoder(rheaders.get("content-encoding", ""), what, url)
            chunks: list[bytes] = []
            total = 0
            for raw in stream.iter_raw(_RAW_CHUNK):
                if cancel.is_set():
                    raise NetError(f"{what}: cancelled at the deadline")
                for chunk in decode.feed(raw, lim.max_bytes - total + 1):
                    total += len(chunk)
                    if total > lim.max_bytes:
                        raise NetError(f"{what} from {_host(url)} is too large (over {_size(lim.max_bytes)})")
                    chunks.append(chunk)
                if time.monotonic() > deadline:
                    raise NetError(f"{what}: no complete answer in time (a slow drip?)", retry=True)
            chunks.append(decode.finish())
            return Response(status, url, rheaders, b"".join(chunks)), None
        except httpx.TimeoutException:
            raise NetError(f"{what}: {_host(url)} timed out after {timeout:g} s", retry=True) from None
        except httpx.HTTPError as exc:
            reason = printable(str(exc) or type(exc).__name__)[:160]
            raise NetError(f"{what}: the answer from {_host(url)} broke off ({reason})", retry=True) from None
        finally:
            stream.close()


_RAW_CHUNK = 64 << 10  # bytes read off the socket at a time
_INFLATE_STEP = 1 << 20  # at most this much inflated per step, so a bomb stops one step past the cap


class _Decoder:
    """Inflates a `gzip`/`deflate` body step by step (httpx's own decoder inflates a whole network chunk
    at once: ~64 MB from one 64 kB chunk of a bomb), so the size cap holds within one step."""

    def __init__(self, encoding: str, what: str, url: str) -> None:
        import zlib

        name = encoding.strip().lower()
        self._what, self._url = what, url
        if name in ("", "identity"):
            self._inflate = None
        elif name in ("gzip", "x-gzip", "deflate"):
            self._inflate = zlib.decompressobj(32 + zlib.MAX_WBITS)  # zlib or gzip header, detected
        else:
            raise NetError(f"{what} from {_host(url)}: unsupported Content-Encoding {printable(name)[:40]!r}")

    def feed(self, raw: bytes, room: int) -> list[bytes]:
        """The decoded pieces of `raw`; stops early once more than `room` bytes came out."""
        import zlib

        if self._inflate is None:
            return [raw]
        out: list[bytes] = []
        data, made = raw, 0
        try:
            while data and made <= room:
                piece = self._inflate.decompress(data, _INFLATE_STEP)
                out.append(piece)
                made += len(piece)
                data = self._inflate.unconsumed_tail
        except zlib.error:
            raise NetError(f"{self._what} from {_host(self._url)}: a damaged compressed body") from None
        return out

    def finish(self) -> bytes:
        """What the inflater still holds once the body ended (nothing, for a body within the cap)."""
        return self._inflate.flush(_INFLATE_STEP) if self._inflate is not None else b""


def _said(response: Response) -> str:
    """`: "message"` from a JSON error answer (`error` or `message`, clipped), else nothing."""
    if not response.body or len(response.body) > 65536:
        return ""
    try:
        import orjson

        doc = orjson.loads(response.body)
    except Exception:  # noqa: BLE001 - an error page that is not JSON says nothing more
        return ""
    if isinstance(doc, dict):
        for key in ("error", "message"):
            if isinstance(doc.get(key), str) and doc[key].strip():
                return f": {printable(doc[key].strip())[:200]}"
    return ""


def _retry_after(value: str | None) -> float | None:
    """Retry-After in seconds (delta form only; an HTTP date is ignored)."""
    if not value:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    return seconds if math.isfinite(seconds) and seconds >= 0 else None


def _size(n: int) -> str:
    return f"{n / (1 << 20):.1f} MiB" if n >= 1 << 20 else f"{n:,} bytes"


ENV_TIMEOUT = "ATTRGRAPH_NET_TIMEOUT"
ENV_DEADLINE = "ATTRGRAPH_NET_DEADLINE"
ENV_RETRIES = "ATTRGRAPH_NET_RETRIES"
ENV_MAX_MB = "ATTRGRAPH_NET_MAX_MB"


def limits_from_env(defaults: Limits) -> Limits:
    """`defaults` with `ATTRGRAPH_NET_TIMEOUT` / `_DEADLINE` (seconds), `_RETRIES` (tries) and `_MAX_MB`
    (response cap, MiB) applied when set; a bad value is an AttrgraphError naming the variable."""
    import os

    lim = Limits(
        defaults.timeout,
        defaults.deadline,
        defaults.max_bytes,
        defaults.retries,
        defaults.backoff,
        defaults.backoff_cap,
    )

    def number(name: str) -> float | None:
        raw = os.environ.get(name, "").strip()
        if not raw:
            return None
        try:
            return float(raw)
        except ValueError:
            raise AttrgraphError(f"{name}={raw[:40]!r} is not a number") from None

    if (v := number(ENV_TIMEOUT)) is not None:
        lim.timeout = check_seconds(v, ENV_TIMEOUT)
    if (v := number(ENV_DEADLINE)) is not None:
        lim.deadline = check_seconds(v, ENV_DEADLINE, high=24 * 3600.0)
    if (v := number(ENV_RETRIES)) is not None:
        if not v.is_integer() or not 1 <= v <= 100:
            raise AttrgraphError(f"{ENV_RETRIES} must be a whole number of tries from 1 to 100")
        lim.retries = int(v)
    if (v := number(ENV_MAX_MB)) is not None:
        if not math.isfinite(v) or not 0 < v <= 64 * 1024:
            raise AttrgraphError(f"{ENV_MAX_MB} must be a size in MiB from 0 to 65536")
        lim.max_bytes = max(1, int(v * (1 << 20)))
    return lim
