"""The playbooks in force: the shipped ones, each replaced by a valid team file of its type."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from mailwarden.playbooks.loader import Loaded, Playbook, Problem, load_path, load_shipped
from mailwarden.playbooks.ports import ActionCatalog

log = logging.getLogger(__name__)
FALLBACK = "other"


class PlaybookLibrary:
    """Shipped playbooks overlaid with a team directory (MAILWARDEN_PLAYBOOKS_DIR); read once."""

    def __init__(self, team_dir: Path | None = None, catalog: ActionCatalog | None = None) -> None:
        self._team_dir = team_dir
        self._catalog = catalog
        self._loaded: Loaded | None = None
        self._lock = threading.Lock()

    def get(self, incident_type: str) -> Playbook:
        """The playbook for an incident type (the general one when none is written for it)."""
        playbooks = self._load().playbooks
        return playbooks.get(incident_type) or playbooks[FALLBACK]

    def all(self) -> list[Playbook]:
        """Every playbook in force, by type."""
        loaded = self._load()
        return [loaded.playbooks[kind] for kind in sorted(loaded.playbooks)]

    @property
    def problems(self) -> list[Problem]:
        """What was wrong with the team's files (their types use the shipped playbook)."""
        return list(self._load().problems)

    def reload(self) -> None:
        """Forget what was read; the next use reads the files again."""
        with self._lock:
            self._loaded = None

    def _load(self) -> Loaded:
        with self._lock:
            if self._loaded is None:
                self._loaded = self._read()
            return self._loaded

    def _read(self) -> Loaded:
        shipped = load_shipped()  # shipped actions are checked by the test suite, not here
        if shipped.problems:
            raise RuntimeError(
                "shipped playbooks are invalid: " + "; ".join(map(str, shipped.problems))
            )
        merged = Loaded(playbooks=dict(shipped.playbooks))
        if self._team_dir is not None:
            team = load_path(self._team_dir, self._catalog)
            for problem in team.problems:
                log.error("team playbook problem (the shipped playbook is used): %s", problem)
            merged.problems.extend(team.problems)
            merged.playbooks.update(team.playbooks)
        return merged
