"""The event bus port and its adapters (in-process default; Redis Streams at scale)."""
