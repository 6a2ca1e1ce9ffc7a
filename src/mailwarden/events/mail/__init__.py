"""Raw mail analysis: DSN bounces (RFC 3464), MTA text bounces, ARF complaints (RFC 5965)."""
