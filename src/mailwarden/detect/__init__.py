"""Detectors: pure functions over rollups and events that turn anomalies into Findings."""
