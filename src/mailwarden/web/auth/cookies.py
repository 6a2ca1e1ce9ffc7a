"""Cookies and client facts: Secure detection, the session and sign-in cookies, source address."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from starlette.requests import HTTPConnection
from starlette.responses import Response

from mailwarden.auth.model import Client

SESSION_COOKIE = "mw_session"
LOGIN_CSRF_COOKIE = "mw_login_csrf"
_HOST_PREFIX = "__Host-"  # browsers only accept it Secure, Path=/, without Domain


@dataclass(frozen=True, slots=True)
class CookiePolicy:
    """Decides cookie flags; trusts proxy headers only when told to."""

    secure: bool | None = None
    trust_proxy: bool = False

    def is_secure(self, conn: HTTPConnection) -> bool:
        """True when cookies must be Secure: by setting, else by the request's scheme."""
        if self.secure is not None:
            return self.secure
        if self.trust_proxy:
            forwarded = conn.headers.get("x-forwarded-proto", "")
            if forwarded:
                return forwarded.split(",")[0].strip().lower() == "https"
        return conn.url.scheme in ("https", "wss")

    def client(self, conn: HTTPConnection) -> Client:
        """The source address (from X-Forwarded-For only behind a trusted proxy) and agent."""
        ip = conn.client.host if conn.client else None
        if self.trust_proxy:
            hops = [hop.strip() for hop in conn.headers.get("x-forwarded-for", "").split(",")]
            ip = next((hop for hop in reversed(hops) if hop), ip)
        return Client(ip=ip, user_agent=conn.headers.get("user-agent"))

    def read(self, conn: HTTPConnection, name: str) -> str | None:
        """Return a cookie's value, whichever of its two names it was set under."""
        return conn.cookies.get(_HOST_PREFIX + name) or conn.cookies.get(name)

    def set(
        self,
        response: Response,
        conn: HTTPConnection,
        name: str,
        value: str,
        *,
        max_age: int | None = None,
        samesite: Literal["lax", "strict"] = "lax",
    ) -> None:
        """Set an HttpOnly cookie for the whole site; Secure (and __Host-) over TLS."""
        secure = self.is_secure(conn)
        response.set_cookie(
            (_HOST_PREFIX + name) if secure else name,
            value,
            max_age=max_age,
            path="/",
            secure=secure,
            httponly=True,
            samesite=samesite,
        )

    def clear(self, response: Response, conn: HTTPConnection, name: str) -> None:
        """Delete a cookie under both of its names."""
        for full in (name, _HOST_PREFIX + name):
            if full in conn.cookies:
                secure = full.startswith(_HOST_PREFIX)
                response.delete_cookie(full, path="/", secure=secure, httponly=True)
