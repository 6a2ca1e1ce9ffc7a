"""Mailwarden: incident response for teams that send email at volume."""

__version__ = "0.1.0"
