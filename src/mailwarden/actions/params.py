"""Parameter types shared by action schemas: email addresses, IP networks."""

from __future__ import annotations

import ipaddress
from typing import Annotated

from pydantic import AfterValidator, Field


def normalise_address(value: str) -> str:
    """Lower-case and trim an email address; refuse what is plainly not one."""
    address = value.strip().lower()
    local, _, domain = address.partition("@")
    if not local or "." not in domain or any(ch.isspace() or ch == "/" for ch in address):
        raise ValueError(f"not an email address: {value!r}")
    return address


def normalise_network(value: str) -> str:
    """An IP address or CIDR range as `address/prefix` (a single address gets /32 or /128)."""
    try:
        return str(ipaddress.ip_network(value.strip(), strict=False))
    except ValueError:
        raise ValueError(f"not an IP address or CIDR range: {value!r}") from None


def unique(values: list[str]) -> list[str]:
    """The values without repeats, in first-seen order."""
    return list(dict.fromkeys(values))


Address = Annotated[str, AfterValidator(normalise_address)]
Addresses = Annotated[list[Address], Field(min_length=1, max_length=1000), AfterValidator(unique)]
Network = Annotated[str, AfterValidator(normalise_network)]
Networks = Annotated[list[Network], Field(min_length=1, max_length=100), AfterValidator(unique)]
