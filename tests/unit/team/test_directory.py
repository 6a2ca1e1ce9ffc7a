"""The team directory checks what it is told and says what was wrong."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from tests.unit.team.fakes import MemoryTeamRepository, add_team

from mailwarden.incidents.model import INCIDENT_TYPES, ROLES, SEVERITY_LEVELS
from mailwarden.team.escalation import select_policy
from mailwarden.team.model import TeamInputError, UnknownTeamItemError
from mailwarden.team.roles import STANDARD_ROLES
from mailwarden.team.service import TeamService


@pytest.fixture
def team() -> TeamService:
    service = TeamService(
        MemoryTeamRepository(), incident_types=INCIDENT_TYPES, severities=SEVERITY_LEVELS
    )
    add_team(service)
    return service


def test_the_role_catalogue_starts_with_the_incident_roles(team: TeamService) -> None:
    assert tuple(role.name for role in STANDARD_ROLES) == ROLES
    team.add_role("legal_counsel", "Advises on notification duties")
    assert [r.name for r in team.roles()][-1] == "legal_counsel"
    with pytest.raises(TeamInputError, match="new snake_case name"):
        team.add_role("scribe", "again")


@pytest.mark.parametrize(
    ("contact", "complaint"),
    [
        (("email", "alex"), "not an email address"),
        (("phone", "0301234"), "E.164"),
        (("slack", "has space"), "Slack handle"),
        (("webhook", "ftp://x"), "http"),
        (("pager", "123"), "channel 'pager'"),
    ],
)
def test_a_contact_that_cannot_reach_anyone_is_refused(
    team: TeamService, contact: tuple[str, str], complaint: str
) -> None:
    with pytest.raises(TeamInputError, match=complaint):
        team.add_person("kim", "Kim", [contact])


def test_adding_a_person_again_updates_them(team: TeamService) -> None:
    team.add_person("sam", "Sam Q", [("webhook", "https://hooks.example.org/sam")])
    assert team.person("sam").name == "Sam Q"
    assert team.person("sam").contacts[0].channel == "webhook"


@pytest.mark.parametrize(
    ("fields", "complaint"),
    [
        ({"rotation": "hourly"}, "rotation 'hourly'"),
        ({"handoff": "25:00"}, "not a time of day"),
        ({"timezone": "Mars/Base"}, "unknown time zone"),
        ({"members": ["alex", "zed"]}, "not on the team .*zed"),
        ({"members": []}, "at least one member"),
    ],
)
def test_a_rota_that_makes_no_sense_is_refused(
    team: TeamService, fields: dict[str, object], complaint: str
) -> None:
    good: dict[str, object] = {
        "rotation": "weekly",
        "handoff": "09:00",
        "timezone": "UTC",
        "starts_on": date(2026, 11, 2),
        "members": ["alex"],
    }
    with pytest.raises(TeamInputError, match=complaint):
        team.add_rota("backup", **{**good, **fields})  # type: ignore[arg-type]


def test_overrides_need_a_known_rota_and_a_real_range(team: TeamService) -> None:
    start = datetime(2026, 12, 24, 18, 0, tzinfo=UTC)
    with pytest.raises(UnknownTeamItemError):
        team.add_override("nope", "dana", start, start)
    with pytest.raises(TeamInputError, match="end after it starts"):
        team.add_override("primary", "dana", start, start)
    team.add_override("primary", "dana", start, start.replace(hour=23), reason="holiday")
    (shift,) = team.on_call(start.replace(hour=20))
    assert (shift.person, shift.override) == ("dana", True)


def test_escalation_levels_name_rotas_and_people_that_exist(team: TeamService) -> None:
    with pytest.raises(TeamInputError, match="level 2: no person 'zed'"):
        team.set_policy("default", [(["rota:primary"], 15), (["person:zed"], 30)])
    with pytest.raises(TeamInputError, match="level 1: 'primary' is not rota:NAME"):
        team.set_policy("default", [(["primary"], 15)])
    with pytest.raises(TeamInputError, match="severity 'SEV9'"):
        team.set_policy("x", [(["rota:primary"], 5)], severities=["SEV9"])
    with pytest.raises(TeamInputError, match="repeating policy needs levels that wait"):
        team.set_policy("x", [(["rota:primary"], 0)], repeat=2)


def test_the_most_specific_policy_covers_an_incident(team: TeamService) -> None:
    general = team.set_policy("default", [(["rota:primary"], 15)])
    breach = team.set_policy(
        "security", [(["person:dana"], 10)], incident_types=["data_breach", "phishing"]
    )
    sev1 = team.set_policy("sev1", [(["person:dana"], 5)], severities=["SEV1"])
    policies = team.policies()
    assert select_policy(policies, "data_breach", "SEV2") == breach
    assert select_policy(policies, "spam_complaints", "SEV1") == sev1
    assert select_policy(policies, "spam_complaints", "SEV3") == general
    assert team.policy_for("blocklisting", "SEV4") == general
