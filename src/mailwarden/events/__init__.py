"""Email events: the canonical model, provider adapters, bounce classification and ingest."""
