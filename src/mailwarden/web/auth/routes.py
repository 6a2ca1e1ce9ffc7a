"""The app's routes flattened into permission-table keys ("METHOD /path/template").

FastAPI nests included routers; `iter_route_contexts` (what FastAPI's OpenAPI generator
uses) yields every effective route in dispatch order, which is what the guard matches.
A route of a kind we do not understand gets a key no table has, so it is refused.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from fastapi.routing import iter_route_contexts
from starlette.routing import BaseRoute, Mount, WebSocketRoute
from starlette.types import Scope

ANY_METHOD: frozenset[str] = frozenset()
_MATCH_ALL = re.compile(r"^.*$")


@dataclass(frozen=True, slots=True)
class RouteSpec:
    """One route: the methods it answers (empty: any), its template and its path pattern."""

    methods: frozenset[str]
    template: str
    regex: re.Pattern[str]
    websocket: bool = False

    def table_keys(self) -> list[str]:
        """The table keys of this route, one per method (HEAD is looked up as GET)."""
        if self.websocket:
            return [f"WS {self.template}"]
        methods = sorted(self.methods - {"HEAD"}) or ["GET"]
        return [f"{method} {self.template}" for method in methods]

    def accepts(self, method: str) -> bool:
        """True when this route answers method."""
        if self.websocket:
            return method == "WS"
        return not self.methods or method in self.methods or method == "HEAD"


def route_specs(routes: Sequence[BaseRoute]) -> list[RouteSpec]:
    """Flatten the app's routes, in the order the router tries them."""
    return list(_specs(routes))


def _specs(routes: Sequence[BaseRoute]) -> Iterator[RouteSpec]:
    for context in iter_route_contexts(routes):
        original = context.original_route
        regex = getattr(context, "path_regex", None)
        template = context.path_format
        if regex is None or template is None:
            yield RouteSpec(ANY_METHOD, f"<{type(original).__name__}>", _MATCH_ALL)
        elif isinstance(original, Mount):
            yield RouteSpec(ANY_METHOD, template.removesuffix("/{path}") + "/*", regex)
        elif isinstance(original, WebSocketRoute) or "WebSocket" in type(original).__name__:
            yield RouteSpec(ANY_METHOD, template, regex, websocket=True)
        else:
            methods = frozenset(m.upper() for m in (context.methods or ()))
            yield RouteSpec(methods, template, regex)


def route_key(specs: Sequence[RouteSpec], scope: Scope) -> str | None:
    """Return the table key of the route that serves scope, or None if no route does."""
    method = "WS" if scope["type"] == "websocket" else str(scope["method"]).upper()
    path = _route_path(scope)
    for spec in specs:
        if spec.accepts(method) and spec.regex.match(path):
            return f"{'GET' if method == 'HEAD' else method} {spec.template}"
    return None


def _route_path(scope: Scope) -> str:
    path = str(scope["path"])
    root = str(scope.get("root_path", ""))
    if root and path.startswith(root) and path[len(root) : len(root) + 1] in ("/", ""):
        return path[len(root) :] or "/"
    return path
