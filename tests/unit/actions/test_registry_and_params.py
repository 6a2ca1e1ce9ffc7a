"""The registry and parameter schemas: unique names, no secrets, readable validation errors."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, SecretStr
from tests.unit.actions.fake_action import Switchboard, TurnOff

from mailwarden.actions.errors import InvalidParamsError, scrub
from mailwarden.actions.params import normalise_address, normalise_network
from mailwarden.actions.port import ActionRegistry, Plan, parse_params
from mailwarden.actions.records import REDACTED, redact_params


def test_names_are_unique() -> None:
    registry = ActionRegistry([TurnOff(Switchboard())])
    with pytest.raises(ValueError, match="already registered"):
        registry.register(TurnOff(Switchboard()))


def test_an_action_whose_parameters_hold_a_secret_is_refused() -> None:
    class WithSecret(BaseModel):
        api_key: SecretStr

    action = TurnOff(Switchboard(), name="fake.secretive")
    action.params_model = WithSecret  # type: ignore[assignment]
    with pytest.raises(ValueError, match="is a secret; use settings"):
        ActionRegistry([action])


def test_describe_lists_risk_reversibility_and_a_json_schema() -> None:
    info = ActionRegistry([TurnOff(Switchboard(), reversible=False)]).describe()[0]
    assert (info.name, info.risk, info.reversible) == ("fake.turn_off", "medium", False)
    assert info.params_schema["required"] == ["names"]


def test_bad_parameters_say_which_field_and_why() -> None:
    with pytest.raises(
        InvalidParamsError, match=r"fake\.turn_off: names: List should have at least 1"
    ):
        parse_params(TurnOff(Switchboard()), {"names": []})


def test_addresses_and_networks_are_normalised() -> None:
    assert normalise_address("  Alex@Example.COM ") == "alex@example.com"
    assert normalise_network("203.0.113.5") == "203.0.113.5/32"
    assert normalise_network("2001:db8::1") == "2001:db8::1/128"
    for bad in ("alex", "alex@localhost", "a b@example.com"):
        with pytest.raises(ValueError, match="not an email address"):
            normalise_address(bad)
    with pytest.raises(ValueError, match="not an IP"):
        normalise_network("203.0.113")


def test_secret_looking_fields_are_redacted_in_records() -> None:
    class Params(BaseModel):
        api_key_id: str
        password: str
        nested: dict[str, str]

    params = Params(api_key_id="k-1", password="p", nested={"token": "t", "name": "n"})
    assert redact_params(params) == {
        "api_key_id": "k-1",
        "password": REDACTED,
        "nested": {"token": REDACTED, "name": "n"},
    }


def test_scrub_masks_long_secrets_only() -> None:
    assert scrub("key abcd and abc", ["abcd", "abc", ""]) == "key *** and abc"


def test_a_plan_round_trips_through_json() -> None:
    plan = TurnOff(Switchboard(on={"a": True})).plan(TurnOff.params_model(names=["a"]))
    assert Plan.from_dict(plan.to_dict()) == plan and plan.targets() == ("a",) and not plan.noop
