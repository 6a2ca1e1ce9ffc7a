"""Provider adapters: each verifies authenticity and parses its payloads into canonical events."""
