"""Settings (admins): providers and their webhooks, credentials (set or not: never the value),
detection thresholds, registered actions and the rest of the configuration.

Secrets are never rendered: a SecretStr shows as "set" or "not set", and a URL's password
is replaced by "***" before it reaches a template.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Final

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from pydantic import SecretStr

from mailwarden.config import Settings
from mailwarden.web.pages import firstrun
from mailwarden.web.pages.render import Console

_USERINFO: Final = re.compile(
    r"(?P<scheme>[a-z][a-z0-9+.\-]*://)(?P<user>[^:@/]*)(:[^@/]*)?@", re.I
)
_SECRET_NAMES: Final = re.compile(r"(key|password|secret|token)", re.I)


@dataclass(frozen=True, slots=True)
class SettingRow:
    """One setting as shown: its environment variable, a safe value, and whether it is secret."""

    env: str
    value: str
    secret: bool
    description: str


def mask_url(text: str) -> str:
    """A URL with any password replaced by *** (postgresql://u:***@host/db)."""
    return _USERINFO.sub(lambda m: f"{m['scheme']}{m['user']}{':***' if m.group(3) else ''}@", text)


def shown(name: str, value: Any, secret: bool = False) -> tuple[str, bool]:
    """A setting's value as it may be shown, and whether it is a secret."""
    if secret or isinstance(value, SecretStr) or _SECRET_NAMES.search(name):
        return ("set" if value else "not set"), True
    if value is None or value == "":
        return "-", False
    return mask_url(str(value)), False


def setting_rows(settings: Settings) -> list[SettingRow]:
    """Every setting, secrets masked."""
    rows = []
    for name, field in type(settings).model_fields.items():
        declared = "SecretStr" in str(field.annotation)
        value, secret = shown(name, getattr(settings, name), declared)
        rows.append(
            SettingRow(f"MAILWARDEN_{name.upper()}", value, secret, field.description or "")
        )
    return rows


def settings_pages(console: Console) -> APIRouter:
    """GET /settings."""
    router = APIRouter(include_in_schema=False)

    @router.get("/settings", response_class=HTMLResponse)
    def settings_page(request: Request) -> HTMLResponse:
        """The settings, secrets masked."""
        services = console.services
        actions = services.actions.registry.describe() if services.actions else []
        context = {
            "providers": firstrun.provider_setup(services.settings),
            "rows": setting_rows(services.settings),
            "rules": console.board.policy.active(),
            "actions": actions,
        }
        return console.render(request, "console/settings.html", "settings", context)

    return router
