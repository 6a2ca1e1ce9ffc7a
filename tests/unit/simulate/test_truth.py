"""Truth files follow the benchmark's format and name the scopes an incident shows in."""

from __future__ import annotations

import orjson
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from tests.unit.simulate.stats import T0, Run, check_truth, simulate

from mailwarden.events.providers.ndjson import event_from_json
from mailwarden.simulate.model import HOUR, MARKETING_IPS
from mailwarden.simulate.scenarios import NAMES


def scopes(incident: dict[str, object]) -> set[tuple[str, str]]:
    found = incident["scopes"]
    assert isinstance(found, list)
    return {(scope["dimension"], scope["key"]) for scope in found}


@pytest.fixture(scope="module")
def runs() -> dict[str, Run]:
    return {name: simulate(name, seed=9, days=7, scale=0.005) for name in NAMES}


@pytest.mark.parametrize("scenario", NAMES)
def test_every_scenario_writes_a_truth_in_the_format(runs: dict[str, Run], scenario: str) -> None:
    run = runs[scenario]
    check_truth(run.truth, len(run.data.splitlines()))
    assert run.truth["scenario"] == scenario
    assert run.truth["seed"] == 9
    assert (scenario == "quiet_week") == (run.truth["incidents"] == [])
    if scenario not in ("quiet_week", "mixed"):
        assert [incident["name"] for incident in run.truth["incidents"]] == [scenario]


def test_truth_files_name_the_cause_and_leave_out_unaffected_scopes(runs: dict[str, Run]) -> None:
    gmail = scopes(runs["gmail_auth_block"].incident())
    assert {
        ("mailbox_provider", "gmail"),
        ("sending_domain:mailbox_provider", "news.example.org:gmail"),
        ("sending_domain", "news.example.org"),
    } <= gmail
    assert not {("mailbox_provider", "microsoft"), ("sending_domain", "mail.example.org")} & gmail

    listed = scopes(runs["ip_blocklisted"].incident())
    ips = {key for dimension, key in listed if dimension == "sending_ip"}
    assert len(ips) == 1 and ips <= set(MARKETING_IPS)
    assert ("mailbox_provider", "gmail") not in listed

    engagement = scopes(runs["engagement_collapse"].incident())
    assert engagement == {
        ("mailbox_provider", "yahoo"),
        ("sending_domain:mailbox_provider", "news.example.org:yahoo"),
    }
    assert ("mailbox_provider", "microsoft") in scopes(runs["microsoft_throttling"].incident())
    assert ("overall", "*") in scopes(runs["webhook_silence"].incident())
    for name in ("bad_list_import", "complaint_spike", "night_volume_surge"):
        assert any(dimension == "campaign" for dimension, _ in scopes(runs[name].incident()))


def test_only_the_complaint_creep_is_not_a_step(runs: dict[str, Run]) -> None:
    for name, run in runs.items():
        for incident in run.truth["incidents"]:
            assert incident["step"] is (name != "complaint_creep")


def test_mixed_spreads_several_incidents_over_the_week(runs: dict[str, Run]) -> None:
    incidents = runs["mixed"].truth["incidents"]
    assert len(incidents) >= 6
    assert len({incident["start"][:10] for incident in incidents}) >= 5
    assert len({incident["name"] for incident in incidents}) >= 6


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    scenario=st.sampled_from(NAMES),
    seed=st.integers(0, 2**32 - 1),
    scale=st.floats(0.0005, 0.004),
    days=st.integers(1, 3),
    shift=st.integers(0, 10 * 24),
)
# a silence anchored on a campaign late on the window's last day once began after the window
@example(scenario="webhook_silence", seed=414265136, scale=0.00390625, days=2, shift=16)
def test_any_seed_scale_window_and_start_give_a_valid_file(
    scenario: str, seed: int, scale: float, days: int, shift: int
) -> None:
    start = T0 + shift * HOUR
    run = simulate(scenario, seed=seed, days=days, scale=scale, start=start)
    lines = run.data.splitlines()
    check_truth(run.truth, len(lines))
    arrivals = []
    for line in lines:
        event = event_from_json(line)
        assert event.to_dict() == orjson.loads(line)
        arrivals.append(event.extra["received_at"])
    assert arrivals == sorted(arrivals)
    assert all(run.truth["start"] <= at < run.truth["end"] for at in arrivals)
