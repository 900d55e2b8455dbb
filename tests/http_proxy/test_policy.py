"""Access control, blocklists, header rules and the command line (pure)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from http_proxy import access, cli, rules
from http_proxy.access import BasicAuth


def basic(user: str, password: str) -> bytes:
    return b"Basic " + base64.b64encode(f"{user}:{password}".encode())


def test_default_networks_are_loopback_and_private_only() -> None:
    nets = access.parse_networks(access.DEFAULT_NETWORKS)
    for ok in ("127.0.0.1", "10.1.2.3", "172.20.0.5", "192.168.1.1", "::1", "::ffff:10.0.0.1"):
        assert access.client_allowed(ok, nets), ok
    for bad in ("8.8.8.8", "172.32.0.1", "2001:db8::1", "::ffff:8.8.8.8", "garbage", ""):
        assert not access.client_allowed(bad, nets), bad


def test_bad_network_is_named() -> None:
    with pytest.raises(ValueError, match=r"10\.0\.0\.0/33"):
        access.parse_networks(["10.0.0.0/33"])


def test_ports() -> None:
    assert access.parse_ports("443, 8443") == {443, 8443}
    assert access.parse_ports("80,1025-1027") == {80, 1025, 1026, 1027}
    for bad in ("0", "22-21", "x", "70000"):
        with pytest.raises(ValueError):
            access.parse_ports(bad)


def test_basic_auth() -> None:
    auth = BasicAuth("lab", "s3cret:with:colons")
    assert auth.enabled
    assert auth.check(basic("lab", "s3cret:with:colons"))
    assert auth.check(b"basic " + basic("lab", "s3cret:with:colons")[6:])
    for bad in (None, b"", basic("lab", "wrong"), basic("other", "s3cret:with:colons"),
                b"Bearer abc", b"Basic !!!notbase64", b"Basic " + base64.b64encode(b"lab")):
        assert not auth.check(bad), bad
    assert 'realm="netlab proxy"' in auth.challenge
    assert BasicAuth().check(None)  # off: everyone passes


def test_blocklist_hosts_subdomains_and_path_prefixes() -> None:
    r = rules.build_rules(block_hosts=["Blocked.Example"], block_paths=["/admin"])
    assert r.blocked("blocked.example")
    assert r.blocked("www.blocked.example.")
    assert not r.blocked("notblocked.example")
    assert r.blocked("ok.example", "/admin")
    assert r.blocked("ok.example", "/admin/users?x=1")
    assert not r.blocked("ok.example", "/administrator")
    assert not r.blocked("ok.example", "/")


def test_header_rules_add_replace_and_remove() -> None:
    r = rules.build_rules(add_request=["X-Lab: 1"], remove_request=["User-Agent"])
    out = r.request.apply([(b"user-agent", b"curl"), (b"x-lab", b"old"), (b"accept", b"*/*")])
    assert out == [(b"accept", b"*/*"), (b"x-lab", b"1")]


@pytest.mark.parametrize("line", ["Content-Length: 5", "Host: x", "Proxy-Foo: 1", "Via: x",
                                  "Bad Name: 1", "NoColon", "X-Ok: bad\x00value"])
def test_header_rules_refuse_framing_headers_and_garbage(line: str) -> None:
    with pytest.raises(ValueError):
        rules.build_rules(add_response=[line])


def test_rules_file(tmp_path: Path) -> None:
    path = tmp_path / "rules.json"
    path.write_text(json.dumps({
        "block_hosts": ["a.example"], "block_paths": ["/x"],
        "request_headers": {"add": {"X-From": "proxy"}, "remove": ["Cookie"]},
        "response_headers": {"remove": ["Server"]},
    }))
    r = rules.build_rules(block_hosts=["b.example"], document=rules.load_rules_file(str(path)))
    assert r.blocked("a.example") and r.blocked("b.example") and r.blocked("c", "/x/y")
    assert r.request.add == ((b"x-from", b"proxy"),) and r.request.remove == {b"cookie"}
    assert r.response.remove == {b"server"}
    for bad in ('{"unknown": 1}', '{"block_hosts": "a"}', "[1]", "not json",
                '{"block_paths": ["no-slash"]}'):
        path.write_text(bad)
        with pytest.raises(ValueError):
            rules.build_rules(document=rules.load_rules_file(str(path)))


def test_cli_flags_mirrored_by_env_and_never_plain_http_proxy(monkeypatch) -> None:
    monkeypatch.setenv("HTTP_PROXY", "http://elsewhere:1")  # the client variable: ignored
    monkeypatch.setenv("HTTP_PROXY_PORT", "4000")
    monkeypatch.setenv("HTTP_PROXY_CONNECT_PORTS", "443,9443")
    monkeypatch.setenv("HTTP_PROXY_BLOCK_HOSTS", "blocked.example, other.example")
    monkeypatch.setenv("HTTP_PROXY_ADD_RESPONSE_HEADER", "X-A: 1\nX-B: 2")
    cfg = cli.config_from_args(cli.build_parser().parse_args([]))
    assert cfg.port == 4000 and cfg.host == "127.0.0.1"
    assert cfg.connect_ports == {443, 9443}
    assert cfg.rules.blocked("other.example")
    assert cfg.rules.response.add == ((b"x-a", b"1"), (b"x-b", b"2"))
    flag = cli.config_from_args(cli.build_parser().parse_args(["--port", "5000"]))
    assert flag.port == 5000  # a flag beats the environment


def test_cli_defaults_are_safe() -> None:
    cfg = cli.config_from_args(cli.build_parser().parse_args([]))
    assert cfg.host == "127.0.0.1" and cfg.port == 3128
    assert cfg.connect_ports == {443, 8443}
    assert 22 not in cfg.http_ports and 25 not in cfg.http_ports and 8080 in cfg.http_ports
    assert not cfg.auth_user


@pytest.mark.parametrize("args", [["--port", "70000"], ["--auth-user", "only"],
                                  ["--idle-timeout", "0"], ["--via-name", "a b"],
                                  ["--allow-networks", "nonsense"], ["--connect-ports", "22-1"]])
def test_cli_rejects_bad_values(args: list[str]) -> None:
    with pytest.raises(ValueError):
        cli.config_from_args(cli.build_parser().parse_args(args))


@pytest.mark.parametrize(
    "path", ["//admin", "/%61dmin", "/x/../admin", "/./admin/users", "/%2fadmin", "//admin//x"]
)
def test_blocked_path_not_bypassed_by_equivalent_spellings(path: str) -> None:
    """Origins collapse ``//``, decode ``%XX`` and resolve dot segments: the rule must too."""
    r = rules.build_rules(block_paths=["/admin"])
    assert r.blocked("ok.example", path)
    assert not r.blocked("ok.example", "/%61dministrator")
