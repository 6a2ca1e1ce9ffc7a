"""Containment and recovery actions: a port, a registry, a recording runner and ESP adapters."""
