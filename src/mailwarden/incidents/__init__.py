"""Incidents: from findings to well-run incidents (lifecycle, noise control, timeline)."""
