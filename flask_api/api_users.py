"""The users API: the course's CRUD exercise with real storage, validation and ownership.

Anyone may register and read users (no password or hash ever leaves the server); only the
holder of a user's own bearer token may replace, patch or delete that user.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, g, jsonify, request, url_for

from . import security, store, web
from .errors import ApiError
from .validation import Invalid, Malformed, page_args, user_fields

bp = Blueprint("users", __name__, url_prefix="/api/users")

ID = "<int:user_id>"
MAX_ID = 2**63 - 1  # SQLite's largest integer; a larger id cannot exist (and cannot be bound)


def _fields(required: tuple[str, ...]) -> dict[str, str]:
    try:
        return user_fields(web.json_body(), required=required)
    except Malformed as exc:
        raise ApiError(400, str(exc)) from None
    except Invalid as exc:
        raise ApiError(422, "some fields are invalid", fields=exc.fields) from None


def _conflict(exc: store.Conflict) -> ApiError:
    return ApiError(409, f"already taken: {', '.join(exc.fields)}",
                    fields={f: "already taken" for f in exc.fields})


def _no_user(user_id: int) -> ApiError:
    return ApiError(404, f"no user with id {user_id}")


def _known_id(user_id: int) -> int:
    if user_id > MAX_ID:
        raise _no_user(user_id)
    return user_id


def _owner(user_id: int) -> None:
    if web.require_user() != user_id:
        raise ApiError(403, "this token belongs to another user")


def create(fields: dict[str, str]) -> dict:
    """Create a user from checked fields (shared with the registration form)."""
    cfg = current_app.config
    digest = security.hash_password(fields["password"], cfg["BCRYPT_ROUNDS"])
    try:
        return store.create_user(web.conn(), fields["username"], fields["email"], digest,
                                 web.now_iso(), cfg["MAX_USERS"])
    except store.Conflict as exc:
        raise _conflict(exc) from None
    except store.Full:
        raise ApiError(507, "the user limit of this server is reached") from None


@bp.post("")
def create_user() -> tuple[Response, int, dict[str, str]]:
    user = create(_fields(required=("username", "email", "password")))
    return jsonify(user), 201, {"Location": url_for(".get_user", user_id=user["id"])}


@bp.get("")
def list_users() -> Response:
    try:
        page, per_page = page_args(request.args, current_app.config["PER_PAGE_MAX"])
    except Malformed as exc:
        raise ApiError(400, str(exc), error="invalid_query") from None
    users, total = store.list_users(web.conn(), page, per_page)
    return jsonify(users=users, page=page, per_page=per_page, total=total,
                   pages=(total + per_page - 1) // per_page)


@bp.get(f"/{ID}")
def get_user(user_id: int) -> Response:
    user = store.get_user(web.conn(), _known_id(user_id))
    if user is None:
        raise _no_user(user_id)
    return jsonify(user)


def _update(user_id: int, required: tuple[str, ...]) -> Response:
    _owner(user_id)
    fields = _fields(required=required)
    changes = {k: v for k, v in fields.items() if k != "password"}
    if "password" in fields:
        changes["password_hash"] = security.hash_password(
            fields["password"], current_app.config["BCRYPT_ROUNDS"])
    try:
        user = store.update_user(web.conn(), user_id, changes, web.now_iso())
    except store.Conflict as exc:
        raise _conflict(exc) from None
    if user is None:  # deleted between the token check and now
        raise _no_user(user_id)
    if "password" in fields:
        # A new password ends every other session: a thief's token stops working.
        store.revoke_tokens(web.conn(), user_id, except_hash=g.token_hash)
    return jsonify(user)


@bp.put(f"/{ID}")
def replace_user(user_id: int) -> Response:
    """Full replacement of the public fields; the password changes only if given."""
    return _update(user_id, required=("username", "email"))


@bp.patch(f"/{ID}")
def patch_user(user_id: int) -> Response:
    return _update(user_id, required=())


@bp.delete(f"/{ID}")
def delete_user(user_id: int) -> tuple[str, int]:
    _owner(user_id)
    if not store.delete_user(web.conn(), user_id):
        raise _no_user(user_id)
    return "", 204
