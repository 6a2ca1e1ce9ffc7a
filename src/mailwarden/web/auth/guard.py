"""The route guard: one middleware looks each request's route up in the permission table.

It authenticates (bearer token, else session cookie), refuses what the table does not
allow (401 / 403, or a redirect to /login for a browser), checks the CSRF token of
state-changing requests made with a session cookie, and adds security headers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import MutableHeaders
from starlette.requests import HTTPConnection, Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mailwarden.auth.model import Principal
from mailwarden.auth.randomness import same
from mailwarden.auth.service import Auth
from mailwarden.web.auth.cookies import SESSION_COOKIE, CookiePolicy
from mailwarden.web.auth.permissions import PERMISSIONS, Access
from mailwarden.web.auth.routes import route_key, route_specs

GUARD_HEADER = "x-mailwarden-guard"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_FORMS = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})
_SECURITY_HEADERS = (
    ("x-content-type-options", "nosniff"),
    ("x-frame-options", "DENY"),
    ("referrer-policy", "same-origin"),
)


class FormTooLargeError(ValueError):
    """A form body is larger than the guard will read to find its CSRF token."""


def principal_of(conn: HTTPConnection) -> Principal | None:
    """The principal the guard found for this request (None when anonymous)."""
    found = conn.scope.get("state", {}).get("principal")
    return found if isinstance(found, Principal) else None


class AuthGuard:
    """ASGI middleware enforcing PERMISSIONS on every route; deny by default."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        routes: Sequence[BaseRoute],
        auth: Auth,
        cookies: CookiePolicy,
        table: Mapping[str, Access] = PERMISSIONS,
        form_limit: int = 10 * 1024 * 1024,
    ) -> None:
        self.app = app
        self.routes = routes
        self.auth = auth
        self.cookies = cookies
        self.table = table
        self.form_limit = form_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Let the request through only when the table allows it."""
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        key = route_key(route_specs(self.routes), scope)
        access = self.table.get(key) if key is not None else None
        if scope["type"] == "http":
            send = _with_security_headers(send, no_store=access is None or not access.public)
        if key is None:  # no such route: the router answers 404 or 405, no handler runs
            await self.app(scope, receive, send)
            return
        conn = HTTPConnection(scope)
        principal, bad_bearer = await self._authenticate(conn)
        scope.setdefault("state", {})["principal"] = principal
        refusal = _refusal(conn, key, access, principal, bad_bearer)
        # Public routes carry their own proof: the sign-in form its own token, webhooks a
        # provider signature. Everything else changed by a session needs its CSRF token.
        guarded = access is not None and not access.public
        if refusal is None and guarded and principal and _needs_csrf(scope, principal):
            receive, refusal = await self._check_csrf(conn, receive, principal)
        if refusal is not None:
            await _refuse(scope, receive, send, refusal)
            return
        await self.app(scope, receive, send)

    async def _authenticate(self, conn: HTTPConnection) -> tuple[Principal | None, bool]:
        header = conn.headers.get("authorization", "")
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "bearer":
            found = await run_in_threadpool(self.auth.tokens.resolve, value.strip())
            return found, found is None
        token = self.cookies.read(conn, SESSION_COOKIE)
        if token:
            return await run_in_threadpool(self.auth.sessions.resolve, token), False
        return None, False

    async def _check_csrf(
        self, conn: HTTPConnection, receive: Receive, principal: Principal
    ) -> tuple[Receive, Response | None]:
        given = conn.headers.get(CSRF_HEADER)
        content_type = conn.headers.get("content-type", "").split(";")[0].strip().lower()
        if given is None and content_type in _FORMS:
            try:
                body = await _read_body(receive, self.form_limit)
            except FormTooLargeError as exc:
                return receive, _deny(conn, 413, "too_large", str(exc))
            original, receive = receive, _replay(body, receive)
            try:
                async with Request(conn.scope, _replay(body, original)).form() as form:
                    field = form.get(CSRF_FIELD)
            except Exception:
                return receive, _deny(conn, 400, "bad_request", "the form could not be read")
            given = field if isinstance(field, str) else None
        if same(given, principal.csrf_token):
            return receive, None
        detail = "missing or wrong CSRF token; reload the page and try again"
        return receive, _deny(conn, 403, "csrf_failed", detail)


def _refusal(
    conn: HTTPConnection,
    key: str,
    access: Access | None,
    principal: Principal | None,
    bad_bearer: bool,
) -> Response | None:
    if access is None:
        detail = f"{key!r} is not in the permission table, so nobody may call it"
        return _deny(conn, 403, "not_in_permission_table", detail)
    if access.public:
        return None
    if bad_bearer:
        return _deny(conn, 401, "invalid_token", "the API token is unknown, expired or revoked")
    if principal is None:
        return _unauthenticated(conn)
    if access.session_only and principal.kind != "session":
        return _deny(conn, 403, "session_required", "sign in; API tokens cannot do this")
    if principal.must_change_password and not access.during_password_change:
        if _wants_html(conn):
            return _redirect("/account/password", "password_change_required")
        return _deny(conn, 403, "password_change_required", "change your password first")
    assert access.role is not None
    if principal.role < access.role:
        detail = f"needs the {access.role.label} role; you are {principal.role.label}"
        return _deny(conn, 403, "forbidden", detail)
    return None


def _needs_csrf(scope: Scope, principal: Principal) -> bool:
    return principal.kind == "session" and str(scope.get("method", "")).upper() in UNSAFE_METHODS


def _wants_html(conn: HTTPConnection) -> bool:
    method = str(conn.scope.get("method", "")).upper()
    return (
        method in ("GET", "HEAD")
        and "text/html" in conn.headers.get("accept", "")
        and "authorization" not in conn.headers
    )


def _unauthenticated(conn: HTTPConnection) -> Response:
    if _wants_html(conn):
        here = conn.url.path + (f"?{conn.url.query}" if conn.url.query else "")
        return _redirect(f"/login?next={quote(here, safe='')}", "unauthenticated")
    response = _deny(conn, 401, "unauthenticated", "sign in or send Authorization: Bearer mw_...")
    response.headers["www-authenticate"] = 'Bearer realm="mailwarden"'
    return response


def _redirect(location: str, reason: str) -> Response:
    return RedirectResponse(location, status_code=303, headers={GUARD_HEADER: reason})


def _deny(conn: HTTPConnection, status: int, code: str, detail: str) -> Response:
    headers = {GUARD_HEADER: code, "cache-control": "no-store"}
    if _wants_html(conn):
        page = (
            "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
            "<meta name='viewport' content='width=device-width, initial-scale=1'>"
            "<title>Not allowed - Mailwarden</title></head><body><main><h1>Not allowed</h1>"
            f"<p>{escape(detail)}</p><p><a href='/'>Back to the console</a></p>"
            "</main></body></html>"
        )
        return HTMLResponse(page, status_code=status, headers=headers)
    return JSONResponse({"error": code, "detail": detail}, status_code=status, headers=headers)


async def _refuse(scope: Scope, receive: Receive, send: Send, response: Response) -> None:
    if scope["type"] == "websocket":
        await send({"type": "websocket.close", "code": 1008})
        return
    await response(scope, receive, send)


async def _read_body(receive: Receive, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise FormTooLargeError(f"form exceeds the {limit}-byte limit")
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


def _with_security_headers(send: Send, *, no_store: bool) -> Send:
    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = MutableHeaders(scope=message)
            for name, value in _SECURITY_HEADERS:
                headers.setdefault(name, value)
            if no_store:  # pages and API answers with personal data stay out of caches
                headers.setdefault("cache-control", "no-store")
        await send(message)

    return wrapped
