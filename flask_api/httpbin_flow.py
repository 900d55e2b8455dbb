"""Redirect chains, cookies, basic/bearer auth and caching of the httpbin blueprint.

Split from ``httpbin`` only for size: these views register on the same ``bp`` when ``httpbin``
imports this module at its end, and share its limits and error handling.
"""

from __future__ import annotations

import hmac
import uuid

from flask import Response, jsonify, redirect, request, url_for
from werkzeug.http import http_date

from . import httpbin_util as u
from .httpbin import BODY_METHODS, _limit, bp, view_get

# --- Redirects -----------------------------------------------------------------------------------


def _hops(n: int) -> int:
    return u.check_range(n, 1, _limit("MAX_REDIRECTS"), "redirect count")


@bp.route("/redirect/<int(signed=True):n>")
def view_redirect(n: int) -> Response:
    absolute = request.args.get("absolute", "false").lower() == "true"
    if _hops(n) == 1:
        return redirect(url_for("httpbin.view_get", _external=absolute))
    kind = "absolute" if absolute else "relative"
    return redirect(url_for(f"httpbin.view_{kind}_redirect", n=n - 1, _external=absolute))


@bp.route("/relative-redirect/<int(signed=True):n>")
def view_relative_redirect(n: int) -> Response:
    if _hops(n) == 1:
        return redirect(url_for("httpbin.view_get"))
    return redirect(url_for("httpbin.view_relative_redirect", n=n - 1))


@bp.route("/absolute-redirect/<int(signed=True):n>")
def view_absolute_redirect(n: int) -> Response:
    if _hops(n) == 1:
        return redirect(url_for("httpbin.view_get", _external=True))
    return redirect(url_for("httpbin.view_absolute_redirect", n=n - 1, _external=True))


@bp.route("/redirect-to", methods=BODY_METHODS)
def view_redirect_to() -> Response:
    """302 (or ``status_code`` 300-399) to ``url``, which must be a path on this server."""
    target = request.args.get("url")
    if target is None:
        raise u.BadInput("Missing url parameter")
    if not u.is_local_redirect(target):
        raise u.BadInput("Only redirects to a local path such as /get are allowed")
    status = 302
    if "status_code" in request.args:
        try:
            wanted = int(request.args["status_code"])
        except ValueError:
            raise u.BadInput("Invalid status_code") from None
        if 300 <= wanted < 400:
            status = wanted
    response = Response("", status=status)
    response.headers["Location"] = target
    return response


# --- Cookies and auth ----------------------------------------------------------------------------


@bp.route("/cookies")
def view_cookies() -> Response:
    return jsonify(cookies=dict(request.cookies.items()))


def _set_cookies(pairs: list[tuple[str, str]]) -> Response:
    u.check_count(len(pairs), _limit("MAX_COOKIES"), "cookies")
    for name, value in pairs:
        u.check_cookie(name, value, _limit("MAX_COOKIE_SIZE"))
    response = redirect(url_for("httpbin.view_cookies"))
    for name, value in pairs:
        response.set_cookie(name, value, secure=request.is_secure, httponly=True, samesite="Lax")
    return response


@bp.route("/cookies/set/<name>/<value>")
def view_set_cookie(name: str, value: str) -> Response:
    return _set_cookies([(name, value)])


@bp.route("/cookies/set")
def view_set_cookies() -> Response:
    return _set_cookies(list(request.args.items()))


@bp.route("/cookies/delete")
def view_delete_cookies() -> Response:
    names = list(request.args.keys())
    u.check_count(len(names), _limit("MAX_COOKIES"), "cookies")
    for name in names:
        u.check_cookie(name, "", _limit("MAX_COOKIE_SIZE"))
    response = redirect(url_for("httpbin.view_cookies"))
    for name in names:
        response.delete_cookie(name, secure=request.is_secure, httponly=True, samesite="Lax")
    return response


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


@bp.route("/basic-auth/<user>/<passwd>")
def view_basic_auth(user: str, passwd: str) -> Response:
    auth = request.authorization
    ok = (
        auth is not None
        and auth.type == "basic"
        and _same(auth.username or "", user)
        and _same(auth.password or "", passwd)
    )
    if not ok:
        response = Response("", status=401)
        response.headers["WWW-Authenticate"] = 'Basic realm="Fake Realm"'
        return response
    return jsonify(authenticated=True, user=user)


@bp.route("/bearer")
def view_bearer() -> Response:
    token = u.parse_bearer(request.headers.get("Authorization"))
    if token is None:
        response = Response("", status=401)
        response.headers["WWW-Authenticate"] = "Bearer"
        return response
    return jsonify(authenticated=True, token=token)


# --- Caching -------------------------------------------------------------------------------------


@bp.route("/cache")
def view_cache() -> Response:
    """304 for any conditional request; otherwise /get with fresh validators (as httpbin)."""
    if request.headers.get("If-Modified-Since") or request.headers.get("If-None-Match"):
        return Response(status=304)
    response = view_get()
    response.headers["Last-Modified"] = http_date()
    response.set_etag(uuid.uuid4().hex)
    return response


@bp.route("/cache/<int(signed=True):seconds>")
def view_cache_seconds(seconds: int) -> Response:
    u.check_range(seconds, 0, _limit("MAX_CACHE_AGE"), "max-age")
    response = view_get()
    response.headers["Cache-Control"] = f"public, max-age={seconds}"
    return response
