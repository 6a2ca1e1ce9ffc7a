"""The console: server-rendered pages over the services, one module per page group.

Pages hold no logic of their own: they read through the services (and the read models in
mailwarden.reports) and change things only by calling the services.
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.staticfiles import StaticFiles

from mailwarden.app import Services
from mailwarden.detect.policy import Policy, load_policy
from mailwarden.reports.health import HealthBoard
from mailwarden.reports.hourly import HourlyRollups
from mailwarden.store.health_repo import RollupReader
from mailwarden.web.pages.explorer import explorer_pages
from mailwarden.web.pages.findings import findings_pages
from mailwarden.web.pages.firstrun import firstrun_router, new_demo_job
from mailwarden.web.pages.incidents import incidents_pages
from mailwarden.web.pages.overview import overview_router
from mailwarden.web.pages.render import STATIC_DIR, Assets, Console, build_templates
from mailwarden.web.pages.settings import settings_pages
from mailwarden.web.pages.team import team_pages


def install_pages(app: FastAPI, services: Services) -> None:
    """Serve /static and add every console page to the app."""
    board = HealthBoard(HourlyRollups(RollupReader(services.engine)), detection_policy(services))
    console = Console(services, build_templates(), Assets.found(), board, new_demo_job())
    app.state.console = console  # tests reach the demo job through it
    app.mount("/static", StaticFiles(directory=STATIC_DIR, check_dir=False), name="static")
    app.include_router(overview_router(console))
    app.include_router(firstrun_router(console))
    app.include_router(incidents_pages(console))
    app.include_router(findings_pages(console))
    app.include_router(team_pages(console))
    app.include_router(explorer_pages(console))
    app.include_router(settings_pages(console))


def detection_policy(services: Services) -> Policy:
    """The policy detection runs with (its lines are drawn on the overview)."""
    if services.detection is not None:
        return services.detection.settings.policy
    return load_policy(services.settings.detection_policy_file)
