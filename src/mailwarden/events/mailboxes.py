"""Which mailbox provider hosts a recipient: gmail, microsoft, yahoo, apple or other."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

_DOMAINS: Final[Mapping[str, str]] = {
    "gmail.com": "gmail",
    "googlemail.com": "gmail",
    "outlook.com": "microsoft",
    "hotmail.com": "microsoft",
    "live.com": "microsoft",
    "msn.com": "microsoft",
    "passport.com": "microsoft",
    "windowslive.com": "microsoft",
    "yahoo.com": "yahoo",
    "ymail.com": "yahoo",
    "rocketmail.com": "yahoo",
    "aol.com": "yahoo",
    "aim.com": "yahoo",
    "verizon.net": "yahoo",
    "att.net": "yahoo",
    "sbcglobal.net": "yahoo",
    "icloud.com": "apple",
    "me.com": "apple",
    "mac.com": "apple",
}
# Country and brand variants: hotmail.co.uk, yahoo.co.jp, outlook.de, live.fr, aol.de ...
_PREFIXES: Final[Mapping[str, str]] = {
    "hotmail.": "microsoft",
    "outlook.": "microsoft",
    "live.": "microsoft",
    "yahoo.": "yahoo",
    "aol.": "yahoo",
    "googlemail.": "gmail",
}
# MX hosts tell us the provider behind a custom domain (Google Workspace, Microsoft 365 ...).
_MX_SUFFIXES: Final[Mapping[str, str]] = {
    "google.com": "gmail",
    "googlemail.com": "gmail",
    "outlook.com": "microsoft",
    "protection.outlook.com": "microsoft",
    "yahoodns.net": "yahoo",
    "icloud.com": "apple",
}


def recipient_domain(address: str | None) -> str | None:
    """Return the lower-cased domain of an address, or None when there is none."""
    if not address:
        return None
    _, at, domain = address.rpartition("@")
    if not at or not domain:
        return None
    return domain.strip().strip(">").rstrip(".").lower() or None


def mailbox_provider(address: str | None, mx_host: str | None = None) -> str:
    """Classify the recipient's mailbox provider from its domain, or its MX host when known."""
    domain = recipient_domain(address)
    if domain is not None:
        known = _DOMAINS.get(domain)
        if known is not None:
            return known
        for prefix, provider in _PREFIXES.items():
            if domain.startswith(prefix):
                return provider
    if mx_host:
        host = mx_host.rstrip(".").lower()
        for suffix, provider in _MX_SUFFIXES.items():
            if host == suffix or host.endswith("." + suffix):
                return provider
    return "other"
