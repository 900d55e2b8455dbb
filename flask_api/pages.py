"""The HTML side: the course's page with a registration form (CSRF-protected) and a users list.

A successful registration redirects (303, POST-redirect-GET) to the new user's page, so reloading
it does not post twice; a failed one re-renders the form with a message per field and the values
typed (escaped by Jinja's autoescaping, like everything else on these pages).
"""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    url_for,
)

from . import security, store, web
from .api_users import MAX_ID, create
from .errors import ApiError
from .validation import USER_FIELDS, Invalid, Malformed, user_fields

bp = Blueprint("pages", __name__)


def _csrf_key() -> str:
    return str(current_app.config["CSRF_KEY"])


def _form_page(status: int = 200, message: str = "", errors: dict[str, str] | None = None,
               values: dict[str, str] | None = None) -> Response:
    """The index page with a CSRF token: the browser's own if still valid, else a new one."""
    key = _csrf_key()
    token = request.cookies.get(security.CSRF_COOKIE, "")
    if not security.csrf_token_valid(key, token):
        token = security.new_csrf_token(key)
    values = {k: v for k, v in (values or {}).items() if k != "password"}
    html = render_template("index.html", csrf_token=token, message=message,
                           errors=errors or {}, values=values)
    resp = Response(html, status=status, mimetype="text/html")
    resp.set_cookie(security.CSRF_COOKIE, token, httponly=True, samesite="Strict",
                    secure=request.is_secure, path="/")
    resp.headers["Cache-Control"] = "no-store"
    return resp


@bp.get("/")
def index() -> Response:
    return _form_page()


@bp.post("/register")
def register() -> Response:
    web.form()  # 413 beyond MAX_FORM_PARTS fields
    try:
        security.check_csrf(_csrf_key(), request.cookies.get(security.CSRF_COOKIE),
                            request.form.get(security.CSRF_FIELD))
    except security.CsrfMissing as exc:
        return _form_page(400, str(exc))
    except security.CsrfInvalid as exc:
        return _form_page(403, str(exc))

    values: dict[str, Any] = {k: request.form[k] for k in USER_FIELDS if k in request.form}
    try:
        fields = user_fields(values, required=USER_FIELDS)
        user = create(fields)
    except Invalid as exc:
        return _form_page(422, "Please correct the fields below.", exc.fields, values)
    except Malformed as exc:  # not reachable from a form (all strings), kept for safety
        return _form_page(400, str(exc), None, values)
    except ApiError as exc:
        return _form_page(exc.status, exc.message, exc.fields, values)
    return redirect(url_for(".user_page", user_id=user["id"], created=1), code=303)


@bp.get("/users/<int:user_id>")
def user_page(user_id: int) -> str:
    user = store.get_user(web.conn(), user_id) if user_id <= MAX_ID else None
    if user is None:
        abort(404, description=f"There is no user with id {user_id}.")
    return render_template("user.html", user=user, created=request.args.get("created") == "1")
