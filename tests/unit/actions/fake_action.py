"""A fake provider of named switches and an action that turns them off; scriptable failures."""

from __future__ import annotations

from dataclasses import dataclass, field

from pydantic import BaseModel, Field

from mailwarden.actions.errors import ActionError, ConnectionLostError
from mailwarden.actions.port import BaseAction, Change, Plan, Result, Risk, Verification


@dataclass
class Switchboard:
    """Provider state: switch name → on; counts writes; can fail or lose answers on demand."""

    on: dict[str, bool] = field(default_factory=dict)
    writes: int = 0
    fail_next: list[Exception] = field(default_factory=list)
    lose_next_answer: bool = False

    def set(self, name: str, value: bool) -> None:
        if self.fail_next:
            raise self.fail_next.pop(0)
        self.on[name] = value
        self.writes += 1
        if self.lose_next_answer:
            self.lose_next_answer = False
            raise ConnectionLostError("fake: answer lost", provider="fake")


class Switches(BaseModel):
    """Which switches to turn off."""

    names: list[str] = Field(min_length=1)


class TurnOff(BaseAction[Switches]):
    """Turns switches off; undo turns on the ones it turned off."""

    provider = "fake"
    params_model = Switches

    def __init__(
        self,
        board: Switchboard,
        risk: Risk = Risk.MEDIUM,
        name: str = "fake.turn_off",
        reversible: bool = True,
    ) -> None:
        self.board = board
        self.risk = risk
        self.name = name
        self.reversible = reversible

    def plan(self, params: Switches) -> Plan:
        changes = tuple(Change(n, "on", "off") for n in params.names if self.board.on.get(n))
        return Plan(self.name, f"turn off {len(changes)}", changes, self.reversible)

    def execute(self, params: Switches, idempotency_key: str) -> Result:
        applied, unchanged = [], []
        for name in params.names:
            if not self.board.on.get(name):
                unchanged.append(name)
                continue
            self.board.set(name, False)
            applied.append(name)
        return Result(
            f"resp-{self.board.writes}",
            tuple(applied),
            tuple(unchanged),
            {"before": dict.fromkeys(applied, "on")},
        )

    def verify(self, params: Switches) -> Verification:
        off = all(not self.board.on.get(n) for n in params.names)
        return Verification(off, "all off" if off else "some on")

    def undo(self, params: Switches, result: Result) -> Result:
        if not self.reversible:
            return super().undo(params, result)
        for name in result.applied:
            self.board.set(name, True)
        return Result("undo", result.applied)


def fail(exc: ActionError) -> list[Exception]:
    """A one-shot failure list for Switchboard.fail_next."""
    return [exc]
