"""Sign-in, sign-out and change-password pages (HTML forms, CSRF-protected)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.templating import Jinja2Templates

from mailwarden.auth.errors import AuthError, InvalidCredentialsError, ThrottledError
from mailwarden.auth.model import Principal
from mailwarden.auth.passwords import MIN_LENGTH
from mailwarden.auth.randomness import new_csrf_token, same
from mailwarden.auth.service import Auth
from mailwarden.web.auth.cookies import LOGIN_CSRF_COOKIE, SESSION_COOKIE, CookiePolicy
from mailwarden.web.auth.guard import principal_of
from mailwarden.web.auth.templating import CSP

_NOT_AFTER_SIGN_IN = ("/login", "/logout")


def safe_next(target: str | None) -> str:
    """Return target if it is a path on this site (no open redirect), else '/'."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return "/"
    if any(ord(char) < 32 for char in target) or target.startswith(_NOT_AFTER_SIGN_IN):
        return "/"
    return target


def auth_pages_router(auth: Auth, cookies: CookiePolicy, templates: Jinja2Templates) -> APIRouter:
    """The browser side of signing in and out."""
    router = APIRouter(include_in_schema=False)
    pages = _Pages(auth, cookies, templates)
    router.add_api_route("/login", pages.login_form, methods=["GET"])
    router.add_api_route("/login", pages.login, methods=["POST"])
    router.add_api_route("/logout", pages.logout, methods=["POST"])
    router.add_api_route("/account/password", pages.password_form, methods=["GET"])
    router.add_api_route("/account/password", pages.change_password, methods=["POST"])
    return router


class _Pages:
    def __init__(self, auth: Auth, cookies: CookiePolicy, templates: Jinja2Templates) -> None:
        self.auth = auth
        self.cookies = cookies
        self.templates = templates

    async def login_form(self, request: Request, next_: str = Query("/", alias="next")) -> Response:
        """Show the sign-in form (or go on, when already signed in)."""
        principal = principal_of(request)
        if principal is not None and principal.kind == "session":
            return RedirectResponse(safe_next(next_), status_code=303)
        return self._login_page(request, safe_next(next_))

    async def login(self, request: Request) -> Response:
        """Check the form's CSRF token, throttle, verify, then start a fresh session."""
        form = await _form(request)
        username, target = form.get("username", ""), safe_next(form.get("next"))
        if not same(form.get("csrf_token"), self.cookies.read(request, LOGIN_CSRF_COOKIE)):
            error = "This sign-in form had expired. Please sign in again."
            return self._login_page(request, target, error, username, status=403)
        client = self.cookies.client(request)
        planted = self.cookies.read(request, SESSION_COOKIE)
        try:
            session = await run_in_threadpool(
                self.auth.signin.sign_in, username, form.get("password", ""), client, planted
            )
        except ThrottledError as exc:
            minutes = max(1, round(exc.retry_after_seconds / 60))
            error = f"Too many failed attempts. Try again in about {minutes} minute(s)."
            headers = {"retry-after": str(exc.retry_after_seconds)}
            return self._login_page(request, target, error, username, 429, headers)
        except InvalidCredentialsError:
            error = "Wrong username or password."
            return self._login_page(request, target, error, username, status=401)
        must_change = session.user.must_change_password
        response = RedirectResponse("/account/password" if must_change else target, 303)
        self.cookies.set(response, request, SESSION_COOKIE, session.token)
        self.cookies.clear(response, request, LOGIN_CSRF_COOKIE)
        return response

    def logout(self, request: Request) -> Response:
        """End the session and forget the cookie."""
        principal = _signed_in(request)
        token = self.cookies.read(request, SESSION_COOKIE) or ""
        self.auth.signin.sign_out(principal, token, self.cookies.client(request))
        response = RedirectResponse("/login", status_code=303)
        self.cookies.clear(response, request, SESSION_COOKIE)
        return response

    async def password_form(self, request: Request) -> Response:
        """Show the change-password form."""
        return self._password_page(request, _signed_in(request))

    async def change_password(self, request: Request) -> Response:
        """Change one's password, end every session, and continue in a new one."""
        principal = _signed_in(request)
        form = await _form(request)
        new = form.get("new_password", "")
        if new != form.get("confirm_password", ""):
            return self._password_page(request, principal, "The new passwords differ.", 400)
        client = self.cookies.client(request)
        try:
            user = await run_in_threadpool(
                self.auth.users.change_password,
                principal.user_id,
                form.get("current_password", ""),
                new,
                client,
            )
        except AuthError as exc:  # a form error (400), not an authentication failure
            return self._password_page(request, principal, _sentence(str(exc)), 400)
        session = await run_in_threadpool(self.auth.sessions.start, user, client)
        response = RedirectResponse("/", status_code=303)
        self.cookies.set(response, request, SESSION_COOKIE, session.token)
        return response

    def _login_page(
        self,
        request: Request,
        target: str,
        error: str | None = None,
        username: str = "",
        status: int = 200,
        headers: Mapping[str, str] | None = None,
    ) -> Response:
        token = self.cookies.read(request, LOGIN_CSRF_COOKIE) or new_csrf_token()
        context = {"login_csrf": token, "next": target, "error": error, "username": username}
        response = self._render(request, "auth/login.html", context, status, headers)
        self.cookies.set(response, request, LOGIN_CSRF_COOKIE, token, samesite="strict")
        return response

    def _password_page(
        self, request: Request, principal: Principal, error: str | None = None, status: int = 200
    ) -> Response:
        context = {
            "error": error,
            "must_change": principal.must_change_password,
            "username": principal.username,
            "min_length": MIN_LENGTH,
        }
        return self._render(request, "auth/password.html", context, status)

    def _render(
        self,
        request: Request,
        name: str,
        context: dict[str, Any],
        status: int,
        headers: Mapping[str, str] | None = None,
    ) -> HTMLResponse:
        all_headers = {"content-security-policy": CSP, "cache-control": "no-store"}
        all_headers.update(headers or {})
        return self.templates.TemplateResponse(
            request, name, context, status_code=status, headers=all_headers
        )


async def _form(request: Request) -> dict[str, str]:
    async with request.form(max_files=0) as form:
        return {key: value for key, value in form.items() if isinstance(value, str)}


def _signed_in(request: Request) -> Principal:
    principal = principal_of(request)
    if principal is None:  # the guard lets no anonymous request reach these pages
        raise PermissionError("no principal on a guarded page")
    return principal


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")
