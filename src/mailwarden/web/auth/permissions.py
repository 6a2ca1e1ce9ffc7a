"""THE permission table: every route the app serves and who may call it. Deny by default.

To add a route, add ONE line to PERMISSIONS below; nothing else is needed:

    "GET /api/incidents/{incident_id}": VIEWER,
    "POST /api/incidents/{incident_id}/actions": at_least(Role.RESPONDER),

- The key is the HTTP method and the path template exactly as the route declares it
  (`router.get("/api/incidents/{incident_id}")` -> "GET /api/incidents/{incident_id}").
  HEAD is looked up as GET. A mounted app (e.g. static files at /static) is "GET /static/*".
- The value says who may call it: `PUBLIC` (no sign-in; only for sign-in, health, static
  assets and provider webhooks that check their own signatures), or a minimum role
  (VIEWER < RESPONDER < COMMANDER < ADMIN) for a signed-in user or an API token.
  `session_only=True` refuses API tokens (token and password management).
- A route missing from the table is refused (403) for everyone, and
  tests/integration/auth/test_role_matrix.py fails, naming the key to add.

Browser forms under a session must carry the session's CSRF token: a hidden field
`csrf_token` (use `csrf_token(request)` from mailwarden.web.auth.templating) or an
`X-CSRF-Token` header. Bearer-token calls need none.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from mailwarden.auth.roles import Role


@dataclass(frozen=True, slots=True)
class Access:
    """Who may call a route: nobody needs to sign in (role None), or role and above."""

    role: Role | None
    session_only: bool = False
    during_password_change: bool = False  # reachable before a forced password change

    @property
    def public(self) -> bool:
        """True when no sign-in is needed."""
        return self.role is None


def at_least(role: Role, *, session_only: bool = False) -> Access:
    """Signed-in users and API tokens with role or above (tokens refused if session_only)."""
    return Access(role, session_only=session_only)


PUBLIC: Final = Access(None)
VIEWER: Final = at_least(Role.VIEWER)
RESPONDER: Final = at_least(Role.RESPONDER)
COMMANDER: Final = at_least(Role.COMMANDER)
ADMIN: Final = at_least(Role.ADMIN)
OWN_ACCOUNT: Final = Access(Role.VIEWER, session_only=True, during_password_change=True)

PERMISSIONS: Final[Mapping[str, Access]] = {
    # public: health, sign-in, static assets, provider webhooks (signature-authenticated)
    "GET /healthz": PUBLIC,
    "GET /login": PUBLIC,
    "POST /login": PUBLIC,
    "GET /static/*": PUBLIC,
    "POST /webhooks/{provider}": PUBLIC,
    # console entry and API documentation
    "GET /": VIEWER,
    "GET /docs": VIEWER,
    "GET /docs/oauth2-redirect": VIEWER,
    "GET /redoc": VIEWER,
    "GET /openapi.json": VIEWER,
    # one's own account
    "POST /logout": OWN_ACCOUNT,
    "GET /account/password": OWN_ACCOUNT,
    "POST /account/password": OWN_ACCOUNT,
    "GET /api/me": VIEWER,
    "GET /api/tokens": VIEWER,
    "POST /api/tokens": at_least(Role.VIEWER, session_only=True),
    "DELETE /api/tokens/{token_id}": VIEWER,
    # administration
    "GET /api/users": ADMIN,
    "POST /api/users": ADMIN,
    "PATCH /api/users/{username}": ADMIN,
    "POST /api/users/{username}/reset-password": ADMIN,
    "GET /api/audit": ADMIN,
    # incidents and silences (web/api_incidents.py)
    "GET /api/incidents": VIEWER,
    "GET /api/incidents/{incident_id}": VIEWER,
    "GET /api/incidents/{incident_id}/timeline": VIEWER,
    "GET /api/incidents/{incident_id}/attachments/{attachment_id}": VIEWER,
    "POST /api/incidents": RESPONDER,
    "POST /api/incidents/{incident_id}/transitions": RESPONDER,
    "POST /api/incidents/{incident_id}/acknowledge": RESPONDER,
    "POST /api/incidents/{incident_id}/notes": RESPONDER,
    "POST /api/incidents/{incident_id}/attachments": RESPONDER,
    "POST /api/incidents/{incident_id}/merge": RESPONDER,
    "POST /api/incidents/{incident_id}/roles": COMMANDER,
    "DELETE /api/incidents/{incident_id}/roles/{role}": COMMANDER,
    "POST /api/incidents/{incident_id}/severity": COMMANDER,
    "GET /api/silences": VIEWER,
    "POST /api/silences": RESPONDER,
    "POST /api/silences/{silence_id}/expire": RESPONDER,
    # team, on-call, playbooks, tasks and SLA clocks (web/api_team.py)
    "GET /api/team/people": VIEWER,
    "POST /api/team/people": ADMIN,
    "GET /api/team/roles": VIEWER,
    "POST /api/team/roles": ADMIN,
    "GET /api/team/rotas": VIEWER,
    "POST /api/team/rotas": ADMIN,
    "GET /api/team/rotas/{name}": VIEWER,
    "POST /api/team/rotas/{name}/overrides": ADMIN,
    "GET /api/oncall": VIEWER,
    "GET /api/team/escalation-policies": VIEWER,
    "PUT /api/team/escalation-policies/{name}": ADMIN,
    "GET /api/playbooks": VIEWER,
    "GET /api/playbooks/{incident_type}": VIEWER,
    "GET /api/incidents/{incident_id}/tasks": VIEWER,
    "POST /api/incidents/{incident_id}/tasks/{step}/done": RESPONDER,
    "POST /api/incidents/{incident_id}/tasks/{step}/skip": RESPONDER,
    "POST /api/incidents/{incident_id}/close": RESPONDER,
    "POST /api/incidents/{incident_id}/close-override": COMMANDER,
    "GET /api/incidents/{incident_id}/sla": VIEWER,
    "POST /api/incidents/{incident_id}/stakeholder-updates": RESPONDER,
    "POST /api/incidents/{incident_id}/personal-data": RESPONDER,
    "POST /api/incidents/{incident_id}/authority-notified": RESPONDER,
    # containment actions (web/api_actions.py); the approval desk further limits approve,
    # reject, medium/high runs and undo to the incident's commander or the commander role
    "GET /api/actions": VIEWER,
    "GET /api/actions/approvals": VIEWER,
    "GET /api/actions/approvals/{approval_id}": VIEWER,
    "GET /api/actions/runs/{key}": VIEWER,
    "POST /api/actions/plan": RESPONDER,
    "POST /api/actions/run": RESPONDER,
    "POST /api/actions/approvals/{approval_id}/approve": RESPONDER,
    "POST /api/actions/approvals/{approval_id}/reject": RESPONDER,
    "POST /api/actions/approvals/{approval_id}/run": RESPONDER,
    "POST /api/actions/runs/{key}/undo": COMMANDER,
    # the sending gate and recovery (web/api_gate.py); senders call /api/gate with a token
    "GET /api/gate": VIEWER,
    "GET /api/gate/rules": VIEWER,
    "GET /api/suppressions.csv": RESPONDER,
    "GET /api/reminders": VIEWER,
    "GET /api/warmups": VIEWER,
    "POST /api/warmups/{plan_id}/cancel": COMMANDER,
    "GET /api/delistings": VIEWER,
    "POST /api/delistings": RESPONDER,
    "POST /api/delistings/{request_id}/status": RESPONDER,
    # the console's pages (web/pages/); "GET /" above is its overview
    "POST /demo": ADMIN,
    "GET /demo/status": VIEWER,
    "GET /incidents": VIEWER,
    "GET /incidents/{incident_id}": VIEWER,
    "GET /incidents/{incident_id}/timeline": VIEWER,
    "POST /incidents/{incident_id}/transition": RESPONDER,
    "POST /incidents/{incident_id}/notes": RESPONDER,
    "POST /incidents/{incident_id}/severity": COMMANDER,
    "POST /incidents/{incident_id}/roles": COMMANDER,
    "POST /incidents/{incident_id}/roles/{role}/unassign": COMMANDER,
    "POST /incidents/{incident_id}/evidence": RESPONDER,
    "POST /incidents/{incident_id}/tasks/{step}": RESPONDER,
    "POST /incidents/{incident_id}/actions": RESPONDER,
    "POST /incidents/{incident_id}/approvals/{approval_id}/approve": RESPONDER,
    "POST /incidents/{incident_id}/approvals/{approval_id}/reject": RESPONDER,
    "POST /incidents/{incident_id}/approvals/{approval_id}/run": RESPONDER,
    "POST /incidents/{incident_id}/actions/{key}/undo": COMMANDER,
    "GET /findings": VIEWER,
    "GET /silences": VIEWER,
    "POST /silences": RESPONDER,
    "POST /silences/{silence_id}/expire": RESPONDER,
    "GET /team": VIEWER,
    "GET /playbooks": VIEWER,
    "POST /playbooks/validate": VIEWER,
    "GET /events": VIEWER,
    "GET /deadletters": VIEWER,
    "POST /deadletters/{raw_id}/replay": RESPONDER,
    "POST /deadletters/replay": RESPONDER,
    "GET /settings": ADMIN,
}


def lookup(key: str, table: Mapping[str, Access] = PERMISSIONS) -> Access | None:
    """Return the access rule for "METHOD /path/template", or None when it is missing."""
    return table.get(key)
