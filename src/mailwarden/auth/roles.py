"""The four roles, ordered: each can do everything the ones below it can."""

from __future__ import annotations

from enum import IntEnum


class Role(IntEnum):
    """A user's or token's role; compare with < and >=."""

    VIEWER = 1
    RESPONDER = 2
    COMMANDER = 3
    ADMIN = 4

    @property
    def label(self) -> str:
        """The lower-case name used in settings, the API and the database."""
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> Role:
        """Return the role named text (case-insensitive); ValueError names the choices."""
        try:
            return cls[text.strip().upper()]
        except KeyError:
            raise ValueError(f"unknown role {text!r}; use one of {', '.join(ROLE_NAMES)}") from None


ROLE_NAMES = tuple(role.label for role in Role)
