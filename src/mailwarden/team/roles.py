"""The catalogue of response roles: the standard five and a team's own."""

from __future__ import annotations

import re
from typing import Final

from mailwarden.team.model import RoleDef

STANDARD_ROLES: Final = (
    RoleDef("incident_commander", "Leads the response, decides, and may override closing"),
    RoleDef("communications_lead", "Keeps stakeholders and customers informed on cadence"),
    RoleDef("deliverability_lead", "Owns sending: pools, campaigns, providers, reputation"),
    RoleDef("security_lead", "Owns access, credentials, forensics and breach duties"),
    RoleDef("scribe", "Keeps the timeline complete and writes the postmortem draft"),
)
STANDARD_NAMES: Final = frozenset(role.name for role in STANDARD_ROLES)
_CUSTOM: Final = re.compile(r"^[a-z][a-z0-9_]{1,39}$")


def is_role_name(name: str) -> bool:
    """True for a standard role or a snake_case custom role name."""
    return name in STANDARD_NAMES or bool(_CUSTOM.match(name))
