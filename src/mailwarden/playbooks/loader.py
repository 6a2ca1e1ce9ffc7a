"""Read playbook YAML (shipped, a team's directory, or one file) with line-numbered problems."""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Final

import yaml
from pydantic import ValidationError

from mailwarden.playbooks.ports import ActionCatalog
from mailwarden.playbooks.schema import PlaybookSpec

log = logging.getLogger(__name__)
SUFFIXES: Final = (".yaml", ".yml")
SHIPPED: Final = "shipped"


@dataclass(frozen=True, slots=True)
class Problem:
    """What is wrong with a playbook file, and where."""

    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


@dataclass(frozen=True, slots=True)
class Playbook:
    """A valid playbook and where it came from (shipped, or a team file's path)."""

    spec: PlaybookSpec
    source: str


@dataclass(slots=True)
class Loaded:
    """Playbooks by incident type, and the problems met on the way."""

    playbooks: dict[str, Playbook] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)


def load_text(
    text: str, source: str, catalog: ActionCatalog | None = None
) -> tuple[PlaybookSpec | None, list[Problem]]:
    """Parse and validate one playbook document; problems name the line."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        reason = getattr(exc, "problem", None) or str(exc)
        return None, [Problem(source, line, f"not valid YAML: {reason}")]
    if not isinstance(data, dict) or node is None:
        return None, [Problem(source, 1, "a playbook is a mapping with format, type, steps, ...")]
    try:
        spec = PlaybookSpec.model_validate(data)
    except ValidationError as exc:
        return None, [_problem(source, node, error) for error in exc.errors()]
    return spec, _action_problems(spec, node, source, catalog)


def load_file(path: Path, catalog: ActionCatalog | None = None) -> Loaded:
    """Load one playbook file."""
    loaded = Loaded()
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        loaded.problems.append(Problem(str(path), 1, f"cannot read: {exc}"))
        return loaded
    spec, problems = load_text(text, str(path), catalog)
    loaded.problems.extend(problems)
    if spec is not None and not problems:
        loaded.playbooks[spec.type] = Playbook(spec, str(path))
    return loaded


def load_path(path: Path, catalog: ActionCatalog | None = None) -> Loaded:
    """Load a playbook file or every *.yaml/*.yml in a directory; one playbook per type."""
    if not path.exists():
        return Loaded(problems=[Problem(str(path), 1, "no such file or directory")])
    files = sorted(p for p in path.iterdir() if p.suffix in SUFFIXES) if path.is_dir() else [path]
    merged = Loaded()
    for file in files:
        loaded = load_file(file, catalog)
        merged.problems.extend(loaded.problems)
        for kind, playbook in loaded.playbooks.items():
            if kind in merged.playbooks:
                first = merged.playbooks[kind].source
                merged.problems.append(Problem(str(file), 1, f"type {kind} is also in {first}"))
                continue
            merged.playbooks[kind] = playbook
    if path.is_dir() and not files:
        merged.problems.append(Problem(str(path), 1, "no *.yaml playbooks in this directory"))
    return merged


def load_shipped(catalog: ActionCatalog | None = None) -> Loaded:
    """The playbooks that come with Mailwarden (package data)."""
    loaded = Loaded()
    folder = resources.files("mailwarden.playbooks") / "data"
    for item in sorted(folder.iterdir(), key=lambda entry: entry.name):
        if not item.name.endswith(SUFFIXES):
            continue
        source = f"{SHIPPED}:{item.name}"
        spec, problems = load_text(item.read_text(encoding="utf-8"), source, catalog)
        loaded.problems.extend(problems)
        if spec is not None and not problems:
            loaded.playbooks[spec.type] = Playbook(spec, SHIPPED)
    return loaded


def _problem(source: str, node: yaml.Node, error: Any) -> Problem:
    loc = tuple(error.get("loc", ()))
    where = ".".join(str(part) for part in loc if not str(part).startswith("function-"))
    message = str(error.get("msg", "invalid")).removeprefix("Value error, ")
    return Problem(source, line_of(node, loc), f"{where}: {message}" if where else message)


def line_of(node: yaml.Node, loc: Iterable[Any]) -> int:
    """The 1-based line of the YAML node at a pydantic error location (or its nearest parent)."""
    current = node
    for part in loc:
        child = _child(current, part)
        if child is None:
            break
        current = child
    return int(current.start_mark.line) + 1


def _child(node: yaml.Node, part: Any) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode) and key.value == str(part):
                return value  # type: ignore[no-any-return]
    if isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
        return node.value[part]  # type: ignore[no-any-return]
    return None


def _action_problems(
    spec: PlaybookSpec, node: yaml.Node, source: str, catalog: ActionCatalog | None
) -> list[Problem]:
    if catalog is None:
        return []
    known: Collection[str] = catalog.names()
    problems = []
    for index, step in enumerate(spec.steps):
        if step.action is not None and step.action.name not in known:
            line = line_of(node, ("steps", index, "action", "name"))
            listed = ", ".join(sorted(known)) or "none"
            problems.append(
                Problem(
                    source,
                    line,
                    f"steps.{index}.action.name: no action {step.action.name!r} here "
                    f"(available: {listed})",
                )
            )
    return problems
