"""Playbook files: the shipped ones are valid; a team's mistakes are named by file and line."""

from __future__ import annotations

from pathlib import Path
from textwrap import dedent

import pytest

from mailwarden.app import action_catalog
from mailwarden.config import Settings
from mailwarden.incidents.model import INCIDENT_TYPES
from mailwarden.playbooks.library import PlaybookLibrary
from mailwarden.playbooks.loader import load_path, load_shipped

GOOD = """\
format: 1
type: spam_complaints
version: 7
title: Our complaint playbook
steps:
  - id: pause
    title: Pause the campaign
    phase: containment
    role: deliverability_lead
    due: 10m after detected
    mandatory: true
"""


class Catalog:
    def names(self) -> list[str]:
        return ["mailwarden.suppress"]


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(dedent(text))
    return path


def test_every_incident_type_has_a_shipped_playbook_that_validates() -> None:
    loaded = load_shipped(action_catalog(Settings(_env_file=None)))  # type: ignore[call-arg]
    assert loaded.problems == []
    assert sorted(loaded.playbooks) == sorted(INCIDENT_TYPES)
    for playbook in loaded.playbooks.values():
        phases = {step.phase for step in playbook.spec.steps}
        assert {"identification", "containment", "lessons_learned"} <= phases
        assert any(step.mandatory for step in playbook.spec.steps)


def test_the_breach_playbook_carries_the_legal_steps() -> None:
    steps = {s.id for s in load_shipped().playbooks["data_breach"].spec.steps}
    assert {"revoke_access", "scope_affected_contacts", "start_legal_clock"} <= steps
    assert {"draft_authority_notice", "notify_authority", "notify_affected_people"} <= steps


@pytest.mark.parametrize(
    ("old", "new", "line", "complaint"),
    [
        ("due: 10m after detected", "due: 10 after detected", 10, "steps.0.due: '10 after"),
        ("due: 10m after detected", "due: 10m after lunch", 10, "<when> one of detected"),
        ("phase: containment", "phase: cleanup", 8, "steps.0.phase: Input should be"),
        ("role: deliverability_lead", "role: Head Of Mail", 9, "steps.0.role: role 'Head Of"),
        ("type: spam_complaints", "type: spam", 2, "type: type 'spam' is not one of"),
        ("    mandatory: true", "    mandatory: true\n    owner: bob", 12, "steps.0.owner: Extra"),
        ("version: 7", "version: 0", 3, "version: Input should be greater"),
        ("    title: Pause the campaign\n", "", 6, "steps.0.title: Field required"),
    ],
)
def test_a_mistake_is_reported_with_file_line_and_what_is_wrong(
    tmp_path: Path, old: str, new: str, line: int, complaint: str
) -> None:
    path = write(tmp_path, "complaints.yaml", GOOD.replace(old, new))
    loaded = load_path(path, Catalog())
    assert loaded.playbooks == {}
    (problem,) = loaded.problems
    assert (problem.file, problem.line) == (str(path), line)
    assert complaint in problem.message, problem.message
    assert str(problem).startswith(f"{path}:{line}: ")


def test_an_action_this_installation_lacks_is_reported_not_crashed_on(tmp_path: Path) -> None:
    text = GOOD + "    action:\n      name: sendgrid.pause_campaign\n      params: {}\n"
    (problem,) = load_path(write(tmp_path, "c.yaml", text), Catalog()).problems
    assert problem.line == 13
    assert "no action 'sendgrid.pause_campaign' here (available: mailwarden.suppress)" in str(
        problem
    )


def test_action_parameters_may_only_use_known_placeholders(tmp_path: Path) -> None:
    text = GOOD + "    action:\n      name: mailwarden.suppress\n      params:\n"
    text += "        reason: 'complaints in {campaign}'\n"
    (problem,) = load_path(write(tmp_path, "c.yaml", text), Catalog()).problems
    assert problem.line == 15
    assert "unknown template field {campaign}" in problem.message


def test_broken_yaml_and_duplicate_steps_are_named(tmp_path: Path) -> None:
    broken = write(tmp_path, "a.yaml", GOOD.replace("steps:", "steps: [unclosed"))
    (problem,) = load_path(broken).problems
    assert "not valid YAML" in problem.message
    twice = GOOD + GOOD.split("steps:\n", 1)[1]
    (problem,) = load_path(write(tmp_path, "b.yaml", twice)).problems
    assert "step id 'pause' is used twice" in problem.message


def test_two_files_for_one_type_in_a_directory_is_a_problem(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", GOOD)
    write(tmp_path, "b.yml", GOOD)
    loaded = load_path(tmp_path)
    assert list(loaded.playbooks) == ["spam_complaints"]
    assert "also in" in loaded.problems[0].message


def test_a_team_directory_replaces_the_shipped_playbook_of_its_type_only(tmp_path: Path) -> None:
    write(tmp_path, "complaints.yaml", GOOD)
    library = PlaybookLibrary(tmp_path, Catalog())
    mine = library.get("spam_complaints")
    assert (mine.spec.version, mine.source) == (7, str(tmp_path / "complaints.yaml"))
    assert library.get("blocklisting").source == "shipped"
    assert len(library.all()) == len(INCIDENT_TYPES)


def test_a_broken_team_file_leaves_the_shipped_playbook_in_force(tmp_path: Path) -> None:
    write(tmp_path, "complaints.yaml", GOOD.replace("phase: containment", "phase: soon"))
    library = PlaybookLibrary(tmp_path, Catalog())
    assert library.get("spam_complaints").source == "shipped"
    assert "steps.0.phase" in str(library.problems[0])
