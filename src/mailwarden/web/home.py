"""The health check. (The console's pages, the landing page included, are in web/pages.)"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from mailwarden.app import Services


def home_router(services: Services) -> APIRouter:
    """/healthz says we are up."""
    router = APIRouter()

    @router.get("/healthz", tags=["health"], summary="Liveness: the database answers")
    def health() -> JSONResponse:
        # Cheap on purpose: load balancers call it often, and counting events is not.
        if not services.store.ping():
            return JSONResponse({"status": "unavailable"}, status_code=503)
        return JSONResponse({"status": "ok"})

    return router
