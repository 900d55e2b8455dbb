"""httpbin-compatible endpoints: pure helpers, then every endpoint through the test client, then
the runner's requests/urllib checks against a real server on 127.0.0.1."""

from __future__ import annotations

import base64
import contextlib
import gzip
import io
import json
import random
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.serving import make_server

from flask_api import create_app, httpbin
from flask_api import httpbin_util as u

# --- Pure helpers ---------------------------------------------------------------------------------


def test_semiflatten_keeps_lists_only_for_repeated_keys() -> None:
    assert u.semiflatten([("a", ["1"]), ("b", ["2", "3"])]) == {"a": "1", "b": ["2", "3"]}
    assert u.semiflatten([]) == {}


def test_json_safe_passes_text_and_wraps_binary_as_data_url() -> None:
    assert u.json_safe("张三".encode()) == "张三"
    assert u.json_safe(b"\xff\x00", "image/png") == "data:image/png;base64,/wA="


def test_parse_json_returns_none_for_non_json() -> None:
    assert u.parse_json(b'{"a": [1, null]}') == {"a": [1, None]}
    for raw in (b"", b"{", b"\xff", b"[" * 100_000):
        assert u.parse_json(raw) is None


@pytest.mark.parametrize(
    ("codes", "expected"),
    [("418", [(418, 1.0)]), ("200:1,500:3", [(200, 1.0), (500, 3.0)]), ("204, 404", None)],
)
def test_parse_status_codes_valid(codes: str, expected: list[tuple[int, float]] | None) -> None:
    parsed = u.parse_status_codes(codes)
    assert parsed == (expected or [(204, 1.0), (404, 1.0)])


@pytest.mark.parametrize(
    "codes", ["abc", "", "99", "100", "600", "1000", "200:x", "200:-1", "200:0", "200:nan", "2e2"]
)
def test_parse_status_codes_invalid(codes: str) -> None:
    with pytest.raises(u.BadInput):
        u.parse_status_codes(codes)


def test_parse_status_codes_limits_the_list() -> None:
    u.parse_status_codes(",".join(["200"] * 3), max_choices=3)
    with pytest.raises(u.BadInput):
        u.parse_status_codes(",".join(["200"] * 4), max_choices=3)


def test_weighted_choice_follows_weights() -> None:
    rng = random.Random(1)
    picks = [u.weighted_choice([(200, 1), (500, 0), (404, 3)], rng) for _ in range(400)]
    assert 500 not in picks
    assert picks.count(404) > picks.count(200) > 0


def test_parse_delay_bounds() -> None:
    assert u.parse_delay("0.25") == 0.25
    assert u.parse_delay("10") == 10.0
    for bad in ("10.01", "-1", "nan", "inf", "x", ""):
        with pytest.raises(u.BadInput):
            u.parse_delay(bad)


def test_random_bytes_repeat_with_a_seed() -> None:
    assert u.random_bytes(64, 5) == u.random_bytes(64, 5)
    assert u.random_bytes(64, 5) != u.random_bytes(64, 6)
    assert len(u.random_bytes(0, None)) == 0


@pytest.mark.parametrize("url", ["/get", "/anything/x?y=1", "/cookies"])
def test_local_redirects_allowed(url: str) -> None:
    assert u.is_local_redirect(url)


@pytest.mark.parametrize(
    "url",
    ["http://evil.example/", "//evil.example", "/\\evil.example", "\\\\evil", "get",
     "javascript:alert(1)", "/\tevil", "/a\r\nSet-Cookie: x=1", ""],
)
def test_foreign_redirects_refused(url: str) -> None:
    assert not u.is_local_redirect(url)


def test_check_cookie_and_bearer() -> None:
    u.check_cookie("sessionid", "123456")
    u.check_cookie("n", "any value; even this")  # werkzeug quotes it
    for name in ("", "a b", "a;b", "a=b", "名"):
        with pytest.raises(u.BadInput):
            u.check_cookie(name, "v")
    with pytest.raises(u.BadInput):
        u.check_cookie("n", "v" * 10, max_size=5)
    assert u.parse_bearer("Bearer abc") == "abc"
    assert u.parse_bearer("bearer  abc ") == "abc"
    for header in (None, "", "Bearer", "Bearer ", "Basic abc", "Bearerabc"):
        assert u.parse_bearer(header) is None


def test_limit_reads_app_config_override() -> None:
    assert u.limit({}, "MAX_DELAY") == u.MAX_DELAY
    assert u.limit({"HTTPBIN_MAX_DELAY": 2}, "MAX_DELAY") == 2


# --- Every endpoint through the test client -------------------------------------------------------


def make_app(tmp_path: Path, **config: Any) -> Flask:
    """The real app from the public factory, with its own database file."""
    return create_app({"DATABASE": str(tmp_path / "users.db"), "TESTING": True, **config})


@pytest.fixture
def app(tmp_path: Path) -> Flask:
    return make_app(tmp_path)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def test_get_echoes_args_headers_origin_url(client: FlaskClient) -> None:
    r = client.get("/get?name=%E5%BC%A0%E4%B8%89&tag=a&tag=b", headers={"X-Custom": "v1"})
    body = r.get_json()
    assert r.status_code == 200
    assert set(body) == {"args", "headers", "origin", "url"}
    assert body["args"] == {"name": "张三", "tag": ["a", "b"]}
    assert body["headers"]["X-Custom"] == "v1"
    assert all(isinstance(v, str) for v in body["headers"].values())
    assert body["origin"] == "127.0.0.1"
    assert body["url"] == "http://localhost/get?name=张三&tag=a&tag=b"  # an IRI, as httpbin.org


def test_origin_ignores_x_forwarded_for(client: FlaskClient) -> None:
    r = client.get("/ip", headers={"X-Forwarded-For": "203.0.113.9"})
    assert r.get_json() == {"origin": "127.0.0.1"}


def test_post_form_fields(client: FlaskClient) -> None:
    body = client.post("/post", data={"u": "x", "m": ["1", "2"]}).get_json()
    assert body["form"] == {"u": "x", "m": ["1", "2"]}
    assert (body["data"], body["json"], body["files"]) == ("", None, {})
    assert set(body) == {"args", "data", "files", "form", "headers", "json", "origin", "url"}


def test_post_json_and_raw_data(client: FlaskClient) -> None:
    body = client.post("/post?q=1", json={"title": "测试"}).get_json()
    assert body["json"] == {"title": "测试"}
    assert json.loads(body["data"]) == {"title": "测试"}
    assert body["args"] == {"q": "1"}
    raw = client.post("/post", data=b"\x00\xffbin", content_type="application/octet-stream")
    assert raw.get_json()["data"] == "data:application/octet-stream;base64," + base64.b64encode(
        b"\x00\xffbin"
    ).decode()
    assert raw.get_json()["json"] is None


def test_post_files_text_binary_and_repeated(client: FlaskClient) -> None:
    data = {
        "file": (io.BytesIO(b"hello file"), "a.txt", "text/plain"),
        "img": (io.BytesIO(b"\x89PNG\xff"), "i.png", "image/png"),
        "many": [(io.BytesIO(b"one"), "1.txt"), (io.BytesIO(b"two"), "2.txt")],
        "field": "v",
    }
    body = client.post("/post", data=data, content_type="multipart/form-data").get_json()
    assert body["files"] == {
        "file": "hello file",
        "img": "data:image/png;base64," + base64.b64encode(b"\x89PNG\xff").decode(),
        "many": ["one", "two"],
    }
    assert body["form"] == {"field": "v"}


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_put_patch_delete_echo(client: FlaskClient, method: str) -> None:
    body = getattr(client, method)(f"/{method}", json={"m": method}).get_json()
    assert body["json"] == {"m": method}
    assert client.get(f"/{method}").status_code == 405


def test_get_refuses_post(client: FlaskClient) -> None:
    assert client.post("/get").status_code == 405


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "PATCH", "DELETE"])
def test_anything_any_method_and_path(client: FlaskClient, method: str) -> None:
    body = client.open("/anything/a/b?x=1", method=method, data={"f": "1"}).get_json()
    assert body["method"] == method
    assert body["url"].endswith("/anything/a/b?x=1")
    assert body["args"] == {"x": "1"}
    assert client.open("/anything", method=method).get_json()["method"] == method


def test_body_over_limit_is_413_and_app_keeps_serving(client: FlaskClient) -> None:
    big = b"x" * (u.MAX_BODY_SIZE + 1)
    r = client.post("/post", data=big, content_type="application/octet-stream")
    assert r.status_code == 413
    fields = {f"k{i}": "v" for i in range(u.MAX_FORM_PARTS + 1)}
    form = client.post("/anything", data=fields, content_type="multipart/form-data")
    assert form.status_code == 413
    fields.popitem()
    at_limit = client.post("/anything", data=fields, content_type="multipart/form-data")
    assert at_limit.status_code == 200
    assert client.get("/get").status_code == 200


def test_headers_user_agent_uuid(client: FlaskClient) -> None:
    body = client.get("/headers", headers={"User-Agent": "ua/1", "X-A": "b"}).get_json()
    assert set(body) == {"headers"}
    assert body["headers"]["X-A"] == "b"
    assert client.get("/user-agent", headers={"User-Agent": "ua/1"}).get_json() == {
        "user-agent": "ua/1"
    }
    first, second = (client.get("/uuid").get_json()["uuid"] for _ in range(2))
    assert len(first) == 36 and first != second


def test_json_and_html(client: FlaskClient) -> None:
    doc = client.get("/json").get_json()
    assert doc["slideshow"]["slides"][0]["title"]
    page = client.get("/html")
    assert page.mimetype == "text/html"
    assert page.data.lstrip().startswith(b"<!DOCTYPE html>")


def test_gzip_is_compressed_json(client: FlaskClient) -> None:
    r = client.get("/gzip", headers={"X-A": "1"})
    assert r.headers["Content-Encoding"] == "gzip"
    assert int(r.headers["Content-Length"]) == len(r.data)
    body = json.loads(gzip.decompress(r.data))
    assert body["gzipped"] is True and body["method"] == "GET"
    assert body["headers"]["X-A"] == "1" and body["origin"] == "127.0.0.1"


@pytest.mark.parametrize("code", [200, 204, 404, 500, 503])
def test_status_single_code(client: FlaskClient, code: int) -> None:
    assert client.get(f"/status/{code}").status_code == code
    assert client.post(f"/status/{code}").status_code == code


def test_status_special_codes(client: FlaskClient) -> None:
    assert client.get("/status/302").headers["Location"] == "/redirect/1"
    assert client.get("/status/401").headers["WWW-Authenticate"].startswith("Basic")
    assert client.get("/status/407").headers["Proxy-Authenticate"].startswith("Basic")
    assert b"teapot" in client.get("/status/418").data


def test_status_weighted_list(client: FlaskClient) -> None:
    seen = {client.get("/status/201:1,202:1,203:0").status_code for _ in range(40)}
    assert seen <= {201, 202} and seen  # a zero weight is never picked


@pytest.mark.parametrize("codes", ["abc", "99", "600", "200:x", "200:0", ",".join(["200"] * 51)])
def test_status_invalid_is_400(client: FlaskClient, codes: str) -> None:
    r = client.get(f"/status/{codes}")
    assert r.status_code == 400
    assert r.mimetype == "text/plain"


class SleepRecorder:
    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


@pytest.fixture
def slept(monkeypatch: pytest.MonkeyPatch) -> SleepRecorder:
    recorder = SleepRecorder()
    monkeypatch.setattr(httpbin.time, "sleep", recorder)
    return recorder


def test_delay_sleeps_the_asked_time(client: FlaskClient, slept: SleepRecorder) -> None:
    body = client.get("/delay/0.5?a=1").get_json()
    assert slept.calls == [0.5]
    assert body["args"] == {"a": "1"}
    assert set(body) == {"args", "data", "files", "form", "headers", "origin", "url"}
    client.post("/delay/10")
    assert slept.calls == [0.5, 10.0]


@pytest.mark.parametrize("delay", ["10.5", "11", "-1", "nan", "inf", "abc"])
def test_delay_over_cap_or_invalid_is_400_without_sleeping(
    client: FlaskClient, slept: SleepRecorder, delay: str
) -> None:
    assert client.get(f"/delay/{delay}").status_code == 400
    assert slept.calls == []


def test_delay_cap_from_config(tmp_path: Path, slept: SleepRecorder) -> None:
    client = make_app(tmp_path, HTTPBIN_MAX_DELAY=1).test_client()
    assert client.get("/delay/2").status_code == 400
    assert client.get("/delay/1").status_code == 200


def test_delay_all_slots_busy_is_503(app: Flask, client: FlaskClient, slept: SleepRecorder) -> None:
    slots = app.extensions["httpbin_delay_slots"]
    taken = 0
    while slots.acquire(blocking=False):
        taken += 1
    assert taken == u.MAX_CONCURRENT_DELAYS
    r = client.get("/delay/1")
    assert (r.status_code, r.headers["Retry-After"]) == (503, "1")
    assert slept.calls == []
    slots.release()
    assert client.get("/delay/1").status_code == 200  # and the slot came back
    assert slots.acquire(blocking=False)


def test_bytes_length_seed_and_cap(client: FlaskClient) -> None:
    r = client.get("/bytes/1024?seed=3")
    assert (r.mimetype, len(r.data)) == ("application/octet-stream", 1024)
    assert client.get("/bytes/1024?seed=3").data == r.data
    assert client.get("/bytes/1024?seed=4").data != r.data
    assert len(client.get(f"/bytes/{u.MAX_BYTES}").data) == u.MAX_BYTES
    for bad in (f"/bytes/{u.MAX_BYTES + 1}", "/bytes/-1", "/bytes/8?seed=x"):
        assert client.get(bad).status_code == 400, bad


def test_redirect_chain_relative(client: FlaskClient) -> None:
    r = client.get("/redirect/3")
    assert (r.status_code, r.headers["Location"]) == (302, "/relative-redirect/2")
    assert client.get("/relative-redirect/2").headers["Location"] == "/relative-redirect/1"
    assert client.get("/relative-redirect/1").headers["Location"] == "/get"
    followed = client.get("/redirect/3", follow_redirects=True)
    assert len(followed.history) == 3 and followed.request.path == "/get"


def test_redirect_absolute(client: FlaskClient) -> None:
    assert client.get("/redirect/2?absolute=true").headers["Location"] == (
        "http://localhost/absolute-redirect/1"
    )
    assert client.get("/absolute-redirect/1").headers["Location"] == "http://localhost/get"
    assert client.get("/redirect/1?absolute=true").headers["Location"] == "http://localhost/get"


@pytest.mark.parametrize("kind", ["redirect", "relative-redirect", "absolute-redirect"])
def test_redirect_counts_out_of_range_are_400(client: FlaskClient, kind: str) -> None:
    assert client.get(f"/{kind}/0").status_code == 400
    assert client.get(f"/{kind}/{u.MAX_REDIRECTS + 1}").status_code == 400
    assert client.get(f"/{kind}/{u.MAX_REDIRECTS}").status_code == 302


def test_redirect_to_local_only(client: FlaskClient) -> None:
    r = client.get("/redirect-to?url=/get%3Fa%3D1")
    assert (r.status_code, r.headers["Location"]) == (302, "/get?a=1")
    assert client.post("/redirect-to?url=/anything&status_code=307").status_code == 307
    assert client.get("/redirect-to?url=/get&status_code=200").status_code == 302
    for bad in ("http://evil.example/", "//evil.example", "/%5Cevil.example", "/%0d%0aX:1"):
        assert client.get(f"/redirect-to?url={bad}").status_code == 400, bad
    assert client.get("/redirect-to").status_code == 400
    assert client.get("/redirect-to?url=/get&status_code=x").status_code == 400


def test_cookies_set_read_delete(client: FlaskClient) -> None:
    r = client.get("/cookies/set/sessionid/123456")
    assert (r.status_code, r.headers["Location"]) == (302, "/cookies")
    assert "HttpOnly" in r.headers["Set-Cookie"] and "SameSite=Lax" in r.headers["Set-Cookie"]
    client.get("/cookies/set?a=1&b=2")
    assert client.get("/cookies").get_json() == {
        "cookies": {"sessionid": "123456", "a": "1", "b": "2"}
    }
    followed = client.get("/cookies/delete?a&b", follow_redirects=True)
    assert followed.get_json() == {"cookies": {"sessionid": "123456"}}


def test_cookie_limits_are_400(client: FlaskClient) -> None:
    many = "&".join(f"c{i}=v" for i in range(u.MAX_COOKIES + 1))
    assert client.get(f"/cookies/set?{many}").status_code == 400
    assert client.get(f"/cookies/delete?{many}").status_code == 400
    assert client.get("/cookies/set?a%3Bb=1").status_code == 400
    assert client.get(f"/cookies/set/n/{'v' * u.MAX_COOKIE_SIZE}").status_code == 400
    assert client.get("/cookies").get_json() == {"cookies": {}}


def test_basic_auth(client: FlaskClient) -> None:
    good = client.get("/basic-auth/user/pw", auth=("user", "pw"))
    assert good.get_json() == {"authenticated": True, "user": "user"}
    for auth in (("user", "no"), ("other", "pw"), None):
        r = client.get("/basic-auth/user/pw", auth=auth)
        assert r.status_code == 401
        assert r.headers["WWW-Authenticate"] == 'Basic realm="Fake Realm"'


def test_bearer(client: FlaskClient) -> None:
    good = client.get("/bearer", headers={"Authorization": "Bearer tok123"})
    assert good.get_json() == {"authenticated": True, "token": "tok123"}
    for header in ({}, {"Authorization": "Basic dTpw"}, {"Authorization": "Bearer "}):
        r = client.get("/bearer", headers=header)
        assert (r.status_code, r.headers["WWW-Authenticate"]) == (401, "Bearer")


def test_cache_conditional(client: FlaskClient) -> None:
    r = client.get("/cache")
    assert r.status_code == 200 and "Last-Modified" in r.headers and r.headers["ETag"]
    assert "args" in r.get_json()
    assert client.get("/cache", headers={"If-None-Match": r.headers["ETag"]}).status_code == 304
    since = {"If-Modified-Since": r.headers["Last-Modified"]}
    assert client.get("/cache", headers=since).status_code == 304


def test_cache_max_age(client: FlaskClient) -> None:
    r = client.get("/cache/60")
    assert r.headers["Cache-Control"] == "public, max-age=60"
    assert r.get_json()["url"].endswith("/cache/60")
    assert client.get(f"/cache/{u.MAX_CACHE_AGE + 1}").status_code == 400
    assert client.get("/cache/-1").status_code == 400


# --- The runner's checks against a real server ---------------------------------------------------

from client_runner.checks import base  # noqa: E402
from client_runner.checks import flask_api_httpbin as runner_checks  # noqa: E402

RUNNER_CHECKS = [c for c in base.REGISTRY.checks if c.fn.__module__ == runner_checks.__name__]


@contextlib.contextmanager
def serve(app: Flask) -> Iterator[base.Context]:
    """``app`` on a free 127.0.0.1 port in a thread (werkzeug's threaded server)."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield base.Context({"flask_api": base.Target("127.0.0.1", server.server_port)}, settings={})
    finally:
        server.shutdown()
        thread.join(5)


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[base.Context]:
    with serve(make_app(tmp_path_factory.mktemp("httpbin"))) as ctx:
        yield ctx


def test_chunked_bodies_over_the_cap_are_413_not_truncated(tmp_path: Path) -> None:
    """Werkzeug truncates a body without Content-Length at the limit; we must refuse it."""
    cap = 1000

    def chunks(total: int) -> Iterator[bytes]:
        for start in range(0, total, 300):
            yield b"x" * min(300, total - start)

    with serve(make_app(tmp_path, HTTPBIN_MAX_BODY_SIZE=cap)) as ctx:
        url = f"http://127.0.0.1:{ctx.target('flask_api').port}"
        at_cap = requests.post(f"{url}/post", data=chunks(cap), timeout=5)
        assert (at_cap.status_code, len(at_cap.json()["data"])) == (200, cap)
        for total in (cap + 1, 5 * cap):
            r = requests.post(f"{url}/post", data=chunks(total), timeout=5)
            assert r.status_code == 413, total
        form_headers = {"Content-Type": "application/x-www-form-urlencoded"}
        r = requests.post(f"{url}/anything", data=chunks(3 * cap), headers=form_headers, timeout=5)
        assert r.status_code == 413
        assert requests.post(f"{url}/post", data=b"y" * (cap + 1), timeout=5).status_code == 413
        assert requests.get(f"{url}/get", timeout=5).status_code == 200


def test_every_runner_check_is_registered_for_flask_api() -> None:
    assert len(RUNNER_CHECKS) >= 14
    assert {c.service for c in RUNNER_CHECKS} == {"flask_api"}
    assert runner_checks.__name__ not in {p.__module__ for p in base.REGISTRY.probes.values()}


@pytest.mark.parametrize("chk", RUNNER_CHECKS, ids=lambda c: c.name)
def test_runner_check_passes_against_real_server(
    live_server: base.Context, chk: base.Check
) -> None:
    chk.fn(live_server)


def test_runner_check_fails_when_server_misbehaves() -> None:
    """The checks can fail: a server that ignores /status codes makes raise_for_status fail."""
    broken = Flask("broken")

    @broken.route("/status/<code>")
    def always_ok(code: str) -> str:
        return "ok"

    with serve(broken) as ctx:
        with pytest.raises(base.CheckFailed):
            runner_checks.raise_for_status(ctx)
        with pytest.raises(base.CheckFailed):
            runner_checks.retry_503(ctx)


@pytest.mark.parametrize("data", [b"1e999", b'{"a": NaN}', b"[-Infinity]"])
def test_post_json_of_non_json_numbers_is_null(client: FlaskClient, data: bytes) -> None:
    # NaN/Infinity are not JSON: echoing them made the whole answer unparseable (JSON.parse).
    resp = client.post("/post", data=data, content_type="application/json")
    assert resp.status_code == 200
    assert json.loads(resp.get_data(), parse_constant=lambda c: pytest.fail(c))["json"] is None
