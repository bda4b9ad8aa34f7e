"""The bounded HTTP client (attrgraph_cli/net/http.py) against local servers: every bound, every failure."""

from __future__ import annotations

import gzip
import socket
import time

import pytest

from attrgraph_cli.errors import AttrgraphError
from attrgraph_cli.net.cache import BlobCache
from attrgraph_cli.net.http import Client, Limits, NetError, check_seconds, check_url
from attrgraph_testing.np_server import Reply, Server, js

FAST = dict(timeout=2.0, deadline=10.0, retries=3, backoff=0.01, backoff_cap=0.05)


@pytest.fixture
def srv():
    s = Server()
    yield s
    s.close()


@pytest.fixture
def other():
    s = Server()
    yield s
    s.close()


def client(srv, **kw):
    return Client(srv.url, limits=Limits(**{**FAST, **kw}), auth_headers={"x-api-key": "SECRET"})


def one_line(exc: BaseException) -> str:
    text = str(exc)
    assert "\n" not in text and "\r" not in text
    return text


def test_json_ok_and_key_sent_to_own_origin(srv):
    srv.routes[("GET", "/a")] = js({"ok": 1})
    with client(srv) as c:
        assert c.get_json(c.url("a"), "thing") == {"ok": 1}
    assert srv.seen[0].headers["x-api-key"] == "SECRET"


def test_html_error_page_is_one_line(srv):
    srv.routes[("GET", "/a")] = Reply(200, b"<!DOCTYPE html><html>oops</html>", {"Content-Type": "text/html"})
    with client(srv) as c, pytest.raises(NetError) as err:
        c.get_json(c.url("a"), "thing")
    assert "HTML page" in one_line(err.value) and err.value.exit_code == 2


@pytest.mark.parametrize("body", [b"{not json", b"", b"[1, 2"])
def test_malformed_json(srv, body):
    srv.routes[("GET", "/a")] = Reply(200, body)
    with client(srv) as c, pytest.raises(NetError) as err:
        c.get_json(c.url("a"), "thing")
    assert "JSON" in one_line(err.value)


def test_too_large_declared_and_streamed(srv):
    srv.routes[("GET", "/declared")] = Reply(200, b"[" + b"1," * 5000 + b"1]")
    srv.routes[("GET", "/streamed")] = Reply(200, b"[" + b"1," * 5000 + b"1]", {"Content-Length": "none"})
    with client(srv, max_bytes=1000) as c:
        for path in ("declared", "streamed"):
            with pytest.raises(NetError) as err:
                c.get_json(c.url(path), "thing")
            assert "too large" in one_line(err.value)


def test_gzip_bomb_stops_at_the_decoded_cap(srv):
    bomb = gzip.compress(b" " * (20 << 20))  # 20 MiB of spaces in ~20 KB
    srv.routes[("GET", "/bomb")] = Reply(
        200, bomb, {"Content-Type": "application/json", "Content-Encoding": "gzip"}
    )
    with client(srv, max_bytes=1 << 20) as c, pytest.raises(NetError) as err:
        c.get_json(c.url("bomb"), "thing")
    assert "too large" in one_line(err.value)


def test_gzip_bomb_costs_about_the_cap_in_memory(srv):
    """httpx inflates a whole network chunk at once (~64 MiB from one 64 kB chunk of zeros, 193 MB peak under
    a 64 MiB cap): the body is inflated in bounded steps instead. Control: the same body within the cap."""
    import tracemalloc

    bomb = gzip.compress(b"\0" * (256 << 20), 9)  # 256 MiB in ~250 kB
    srv.routes[("GET", "/bomb")] = Reply(
        200, bomb, {"Content-Type": "application/json", "Content-Encoding": "gzip"}
    )
    srv.routes[("GET", "/fine")] = Reply(
        200, gzip.compress(b'{"a": 1}'), {"Content-Type": "application/json", "Content-Encoding": "gzip"}
    )
    with client(srv, max_bytes=1 << 20) as c:
        assert c.get_json(c.url("fine"), "thing") == {"a": 1}
        tracemalloc.start()
        try:
            with pytest.raises(NetError, match="too large"):
                c.get_json(c.url("bomb"), "thing")
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert peak < 8 << 20, peak / (1 << 20)


def test_an_unknown_content_encoding_is_one_line(srv):
    srv.routes[("GET", "/br")] = Reply(
        200, b"\x1b\x00", {"Content-Type": "application/json", "Content-Encoding": "br"}
    )
    with client(srv) as c, pytest.raises(NetError, match="unsupported Content-Encoding"):
        c.get_json(c.url("br"), "thing")


def test_timeout_is_retried_then_one_line(srv):
    srv.routes[("GET", "/slow")] = Reply(200, b"{}", delay=5.0)
    started = time.monotonic()
    with client(srv, timeout=0.2, retries=2) as c, pytest.raises(NetError) as err:
        c.get_json(c.url("slow"), "thing")
    assert "timed out" in one_line(err.value) and "2 tries" in str(err.value)
    assert time.monotonic() - started < 4  # the server would take 2 x 5 s
    assert len(srv.requests("GET", "/slow")) == 2


def test_total_deadline_holds_against_a_dripping_server(srv):
    # control: each byte arrives well within the per-request timeout, so only the total deadline stops it
    srv.routes[("GET", "/drip")] = Reply(200, b'{"a": "' + b"x" * 200 + b'"}', drip=0.05)
    started = time.monotonic()
    with client(srv, timeout=1.0, deadline=1.0) as c, pytest.raises(NetError) as err:
        c.get_json(c.url("drip"), "thing")
    elapsed = time.monotonic() - started
    assert "deadline" in one_line(err.value)
    assert elapsed < 6.0, elapsed  # the whole drip takes ~10 s


def test_retry_on_5xx_then_ok(srv):
    calls = []

    def flaky(seen):
        calls.append(1)
        return js({"error": "busy"}, 503) if len(calls) < 3 else js([1])

    srv.routes[("GET", "/f")] = flaky
    with client(srv, retries=3) as c:
        assert c.get_json(c.url("f"), "thing") == [1]
    assert len(calls) == 3


def test_429_retry_after_honoured_within_cap(srv):
    calls = []

    def limited(seen):
        calls.append(time.monotonic())
        return js({}, 429, **{"Retry-After": "0.3"}) if len(calls) == 1 else js({"ok": True})

    srv.routes[("GET", "/r")] = limited
    with client(srv, backoff_cap=1.0) as c:
        assert c.get_json(c.url("r"), "thing") == {"ok": True}
    assert calls[1] - calls[0] >= 0.3


def test_retry_after_over_the_cap_fails_at_once(srv):
    srv.routes[("GET", "/r")] = js({}, 429, **{"Retry-After": "3600"})
    started = time.monotonic()
    with client(srv, backoff_cap=1.0) as c, pytest.raises(NetError) as err:
        c.get_json(c.url("r"), "thing")
    assert "retry after 3600" in one_line(err.value) and time.monotonic() - started < 10


def test_back_off_is_capped(srv):
    srv.routes[("GET", "/x")] = js({}, 500)
    started = time.monotonic()
    with client(srv, retries=6, backoff=0.5, backoff_cap=0.1) as c, pytest.raises(NetError):
        c.get_json(c.url("x"), "thing")
    # uncapped, 0.5 * (1+2+4+8+16) = 15.5 s of sleeping; capped at 0.1: at most ~0.5 s
    assert time.monotonic() - started < 6
    assert len(srv.requests("GET", "/x")) == 6


def test_4xx_is_not_retried(srv):
    srv.routes[("GET", "/x")] = js({"error": "nope"}, 404)
    with client(srv) as c, pytest.raises(NetError) as err:
        c.get_json(c.url("x"), "thing")
    assert err.value.status == 404 and len(srv.requests("GET", "/x")) == 1


def test_same_origin_redirect_followed(srv):
    srv.routes[("GET", "/old")] = Reply(302, b"", {"Location": "/new"})
    srv.routes[("GET", "/new")] = js({"moved": True})
    with client(srv) as c:
        assert c.get_json(c.url("old"), "thing") == {"moved": True}
    assert srv.requests("GET", "/new")[0].headers["x-api-key"] == "SECRET"


def test_cross_origin_redirect_refused_and_key_never_sent(srv, other):
    srv.routes[("POST", "/v1/chat/completions")] = Reply(307, b"", {"Location": other.url + "/steal"})
    other.routes[("POST", "/steal")] = js({"choices": [{"message": {"content": "pwned"}}]})
    with client(srv) as c, pytest.raises(NetError) as err:
        c.post_json(c.url("v1/chat/completions"), {"x": 1}, "the LLM")
    assert "another origin" in one_line(err.value)
    assert other.seen == []  # no request at all reached the other origin


def test_key_not_sent_to_other_origin_or_signed_urls(srv, other):
    other.routes[("GET", "/stored.json")] = js({"ok": 1})
    srv.routes[("PUT", "/signed")] = Reply(200, b"")
    with client(srv) as c:
        c.get_json(other.url + "/stored.json", "stored")
        c.request("PUT", c.url("signed"), "upload", content=b"x", credentials=False)
    assert "x-api-key" not in other.seen[0].headers
    assert "x-api-key" not in srv.requests("PUT")[0].headers


def test_network_error_one_line():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again below: nothing listens there
    c = Client(f"http://127.0.0.1:{port}", limits=Limits(**FAST))
    with pytest.raises(NetError) as err:
        c.get_json(c.url("x"), "thing")
    assert "cannot reach" in one_line(err.value)


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "ftp://host/x",
        "gopher://h",
        "http://",
        "http://h:99999/x",
        "http://h/\nx",
        "http://h/\x1b[31m",
        "javascript:alert(1)",
        "not a url",
        "",
    ],
)
def test_bad_urls_refused(url):
    with pytest.raises(NetError) as err:
        check_url(url, "the URL")
    one_line(err.value)


@pytest.mark.parametrize("value", [float("inf"), 1e20, float("nan"), -1, 0])
def test_bad_timeouts_refused(value):
    with pytest.raises(AttrgraphError):
        check_seconds(value, "--llm-timeout")
    with pytest.raises(AttrgraphError):
        Limits(timeout=value)


def test_cache_is_content_checked(tmp_path):
    cache = BlobCache("t", max_bytes=1000, root=tmp_path)
    cache.put("k", b"hello")
    assert cache.get("k") == b"hello"
    blob = next((tmp_path / "t" / "blobs").iterdir())
    blob.write_bytes(b"hellX")  # damaged on disk
    assert cache.get("k") is None and not blob.exists()
    for n in range(5):
        cache.put(f"k{n}", bytes([n]) * 400)
    total = sum(p.stat().st_size for p in (tmp_path / "t" / "blobs").iterdir())
    assert total <= 1000
    assert cache.get("k4") == bytes([4]) * 400
