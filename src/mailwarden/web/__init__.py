"""The web door: webhooks, REST API and HTML console over the same services."""
