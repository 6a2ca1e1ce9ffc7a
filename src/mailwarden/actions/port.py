"""The Action port: a typed parameter schema, a risk level, and plan / execute / verify / undo.

Contract every adapter keeps:

- `plan(params)` reads only; it says what would change (and what cannot be undone).
- `execute(params, idempotency_key)` applies the change and is safe to call again after a
  half-success: it uses the provider's idempotency where the API has it and checks before it
  writes where it does not, so a retry never applies the change twice. `Result.applied` names
  the targets this call changed; `Result.unchanged` those already in the wanted state.
- `verify(params)` reads the provider's state back: did it take?
- `undo(params, result)` reverts only what `result.applied` names, and is itself retry-safe.
- Parameters never carry secrets: credentials come from settings (the registry enforces it).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Generic, Protocol, TypeVar

from pydantic import BaseModel, SecretStr, ValidationError

from mailwarden.actions.errors import InvalidParamsError, NotReversibleError

P = TypeVar("P", bound=BaseModel)


class Risk(StrEnum):
    """How much harm a wrong run can do; low-risk steps may run without a person approving."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


@dataclass(frozen=True, slots=True)
class Change:
    """One thing that would change: a target and its state before and after."""

    target: str
    before: str
    after: str

    def to_dict(self) -> dict[str, str]:
        """Return the JSON object."""
        return {"target": self.target, "before": self.before, "after": self.after}


@dataclass(frozen=True, slots=True)
class Plan:
    """The dry run shown before approval: what would change, and whether undo can restore it."""

    action: str
    summary: str
    changes: tuple[Change, ...] = ()
    reversible: bool = True
    notes: tuple[str, ...] = ()

    @property
    def noop(self) -> bool:
        """True when nothing would change."""
        return not self.changes

    def targets(self) -> tuple[str, ...]:
        """The targets that would change."""
        return tuple(change.target for change in self.changes)

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON object."""
        return {
            "action": self.action,
            "summary": self.summary,
            "changes": [change.to_dict() for change in self.changes],
            "reversible": self.reversible,
            "notes": list(self.notes),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Plan:
        """Rebuild a plan from its JSON object."""
        return cls(
            action=str(data["action"]),
            summary=str(data["summary"]),
            changes=tuple(Change(**change) for change in data.get("changes", [])),
            reversible=bool(data.get("reversible", True)),
            notes=tuple(str(note) for note in data.get("notes", [])),
        )


@dataclass(frozen=True, slots=True)
class Result:
    """What one execute or undo did at the provider."""

    provider_response_id: str | None = None
    applied: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()
    details: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON object."""
        return {
            "provider_response_id": self.provider_response_id,
            "applied": list(self.applied),
            "unchanged": list(self.unchanged),
            "details": dict(self.details),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Result:
        """Rebuild a result from its JSON object."""
        return cls(
            provider_response_id=data.get("provider_response_id"),
            applied=tuple(data.get("applied", [])),
            unchanged=tuple(data.get("unchanged", [])),
            details=dict(data.get("details", {})),
        )


@dataclass(frozen=True, slots=True)
class Verification:
    """Whether the provider's state now matches what the action set, and what was seen."""

    ok: bool
    detail: str
    observed: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON object."""
        return {"ok": self.ok, "detail": self.detail, "observed": dict(self.observed)}


class Action(Protocol[P]):
    """One containment or recovery step at one provider."""

    name: str
    provider: str
    risk: Risk
    reversible: bool
    description: str
    params_model: type[P]

    def plan(self, params: P) -> Plan:
        """Dry run: read the provider's state and say what would change."""
        ...

    def execute(self, params: P, idempotency_key: str) -> Result:
        """Apply the change; safe to retry with the same key."""
        ...

    def verify(self, params: P) -> Verification:
        """Read the state back and say whether the change took."""
        ...

    def undo(self, params: P, result: Result) -> Result:
        """Revert what result.applied names; raise NotReversibleError if impossible."""
        ...


class BaseAction(Generic[P]):
    """Shared defaults for adapters: irreversible unless undo is overridden."""

    name: str = ""
    provider: str = ""
    risk: Risk = Risk.MEDIUM
    reversible: bool = True
    description: str = ""
    params_model: type[P]

    def undo(self, params: P, result: Result) -> Result:
        """Refuse: this action cannot be undone."""
        raise NotReversibleError(f"{self.name} cannot be undone", provider=self.provider)


@dataclass(frozen=True, slots=True)
class ActionInfo:
    """What the approval UI and the API show about an action before anyone runs it."""

    name: str
    provider: str
    risk: Risk
    reversible: bool
    description: str
    params_schema: dict[str, Any]


class ActionRegistry:
    """Actions by name; new ones are added with register()."""

    def __init__(self, actions: Iterable[Action[Any]] = ()) -> None:
        self._actions: dict[str, Action[Any]] = {}
        for action in actions:
            self.register(action)

    def register(self, action: Action[Any]) -> None:
        """Add an action; names are unique and parameter models may not hold secrets."""
        if action.name in self._actions:
            raise ValueError(f"action {action.name!r} is already registered")
        _refuse_secret_fields(action.name, action.params_model)
        self._actions[action.name] = action

    def get(self, name: str) -> Action[Any]:
        """Return the action called name; KeyError names the ones that exist."""
        try:
            return self._actions[name]
        except KeyError:
            raise KeyError(f"unknown action {name!r}; known: {sorted(self._actions)}") from None

    def __contains__(self, name: object) -> bool:
        return name in self._actions

    def __iter__(self) -> Iterator[Action[Any]]:
        return iter(self._actions.values())

    def __len__(self) -> int:
        return len(self._actions)

    def names(self) -> list[str]:
        """Every registered name, sorted."""
        return sorted(self._actions)

    def describe(self) -> list[ActionInfo]:
        """What each action is, for listing and approval screens."""
        return [
            ActionInfo(
                name=action.name,
                provider=action.provider,
                risk=action.risk,
                reversible=action.reversible,
                description=action.description,
                params_schema=action.params_model.model_json_schema(),
            )
            for action in sorted(self._actions.values(), key=lambda a: a.name)
        ]


def parse_params(action: Action[P], raw: Mapping[str, Any] | BaseModel) -> P:
    """Validate raw parameters against the schema; InvalidParamsError says what is wrong."""
    data = raw.model_dump() if isinstance(raw, BaseModel) else dict(raw)
    try:
        return action.params_model.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '(root)'}: {err['msg']}"
            for err in exc.errors()
        )
        raise InvalidParamsError(f"{action.name}: {problems}", provider=action.provider) from None


def _refuse_secret_fields(name: str, model: type[BaseModel]) -> None:
    for field_name, info in model.model_fields.items():
        if info.annotation is SecretStr or "SecretStr" in str(info.annotation):
            raise ValueError(f"{name}: parameter {field_name!r} is a secret; use settings")
