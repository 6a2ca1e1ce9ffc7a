"""The ASGI application factory."""

from __future__ import annotations

from fastapi import FastAPI

from mailwarden import __version__
from mailwarden.app import Services
from mailwarden.web.api_actions import actions_router
from mailwarden.web.api_gate import gate_router
from mailwarden.web.api_incidents import incidents_router
from mailwarden.web.api_team import team_router
from mailwarden.web.auth import install_auth
from mailwarden.web.errors import install_error_handlers
from mailwarden.web.home import home_router
from mailwarden.web.pages import install_pages
from mailwarden.web.webhooks import webhooks_router


def create_app(services: Services) -> FastAPI:
    """Build the web app over already-built services."""
    app = FastAPI(title="Mailwarden", version=__version__)
    install_error_handlers(app)
    install_auth(app, services)  # the route guard: every route must be in its permission table
    app.include_router(webhooks_router(services))
    app.include_router(home_router(services))
    app.include_router(incidents_router(services))
    app.include_router(team_router(services))
    app.include_router(actions_router(services))
    app.include_router(gate_router(services))
    install_pages(app, services)  # the console: HTML pages and /static
    return app
