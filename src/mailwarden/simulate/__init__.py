"""Simulated email traffic with injected incidents, and the truth about them."""
