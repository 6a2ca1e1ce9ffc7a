"""The response team: people and their contacts, roles, on-call rotas, escalation policies."""
