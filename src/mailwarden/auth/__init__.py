"""Who may use Mailwarden: users, roles, passwords, sessions, API tokens, throttling, audit."""
