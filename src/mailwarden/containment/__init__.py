"""Containment and recovery glue: actions ↔ incidents, playbooks, metrics and the audit log."""
