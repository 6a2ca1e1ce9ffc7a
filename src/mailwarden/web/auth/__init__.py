"""Sign-in pages, the route guard and the auth API, installed on the app in one call."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from mailwarden.app import Services
from mailwarden.auth.errors import (
    AuthError,
    ConflictError,
    InvalidCredentialsError,
    NotFoundError,
    PermissionDeniedError,
    ThrottledError,
)
from mailwarden.web.auth.api import auth_api_router
from mailwarden.web.auth.cookies import CookiePolicy
from mailwarden.web.auth.guard import AuthGuard
from mailwarden.web.auth.pages import auth_pages_router
from mailwarden.web.auth.templating import make_templates
from mailwarden.web.errors import error_response

_STATUS: tuple[tuple[type[AuthError], int, str], ...] = (
    (NotFoundError, 404, "not_found"),
    (ConflictError, 409, "conflict"),
    (PermissionDeniedError, 403, "forbidden"),
    (InvalidCredentialsError, 401, "invalid_credentials"),
    (ThrottledError, 429, "throttled"),
)


def install_auth(app: FastAPI, services: Services) -> None:
    """Guard every route with the permission table and add the sign-in pages and auth API."""
    if services.auth is None:
        raise RuntimeError("services.auth is missing; build services with mailwarden.app.build")
    auth = services.auth
    settings = services.settings
    cookies = CookiePolicy(secure=settings.cookie_secure, trust_proxy=settings.trust_proxy)
    app.add_middleware(AuthGuard, routes=app.router.routes, auth=auth, cookies=cookies)
    app.include_router(auth_pages_router(auth, cookies, make_templates()))
    app.include_router(auth_api_router(auth))

    @app.exception_handler(AuthError)
    async def _refused(_request: Request, exc: AuthError) -> JSONResponse:
        for kind, status, code in _STATUS:
            if isinstance(exc, kind):
                return error_response(status, code, str(exc))
        return error_response(400, "bad_request", str(exc))
