"""Fixtures for incident unit tests: a fake clock at T0 and a service over memory."""

from __future__ import annotations

import pytest
from tests.unit.incidents.builders import T0, make_service
from tests.unit.incidents.fakes import MemoryIncidentRepository

from mailwarden.clock import FakeClock
from mailwarden.incidents.service import IncidentService


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)


@pytest.fixture
def repo() -> MemoryIncidentRepository:
    return MemoryIncidentRepository()


@pytest.fixture
def service(clock: FakeClock, repo: MemoryIncidentRepository) -> IncidentService:
    return make_service(clock, repo)[0]
