"""The viewer's guard, applied to every request before any page is built.

- Read-only: only GET and HEAD are answered; any other method is refused (405) and no route writes.
- Headers on every answer: a strict Content-Security-Policy (scripts and styles only from the viewer
  itself, no inline script, no plugins, no framing, no <base>), nosniff, no referrer, no caching of pages.
- Hosts: on a loopback address only loopback Host names are answered (a DNS-rebinding page cannot read
  runs through the user's browser).
- A token: when the viewer is reachable from other machines, every request must carry the token it
  printed, once as `?token=` (then kept in a same-site, HTTP-only cookie) or as `Authorization: Bearer`.
"""

from __future__ import annotations

import hmac
from urllib.parse import urlencode

from starlette.datastructures import URL, QueryParams
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    "object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
HEADERS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "cross-origin-opener-policy": "same-origin",
    "cache-control": "no-store",
}
READ_METHODS = frozenset({"GET", "HEAD"})
TOKEN_COOKIE = "glia_view_token"
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]", "::1")


class Guard:
    """ASGI middleware: methods, hosts, the token, and the security headers."""

    def __init__(self, app: ASGIApp, token: str | None, allowed_hosts: tuple[str, ...] | None) -> None:
        self.app = app
        self.token = token
        self.allowed_hosts = allowed_hosts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.decode().lower() not in HEADERS]
                headers += [(k.encode(), v.encode()) for k, v in HEADERS.items()]
                message = {**message, "headers": headers}
            await send(message)

        refusal = self._refusal(scope)
        if refusal is not None:
            await refusal(scope, receive, send_with_headers)
            return
        await self.app(scope, receive, send_with_headers)

    def _refusal(self, scope: Scope) -> Response | None:
        if scope["method"] not in READ_METHODS:
            return PlainTextResponse(
                "read-only viewer: only GET", status_code=405, headers={"allow": "GET, HEAD"}
            )
        headers = {k.decode().lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        if self.allowed_hosts is not None:
            host = headers.get("host", "")
            name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
            if name not in self.allowed_hosts:
                return PlainTextResponse("unknown host", status_code=400)
        if self.token is None:
            return None
        url = URL(scope=scope)
        query = QueryParams(scope.get("query_string", b""))
        offered = query.get("token")
        if offered is not None and hmac.compare_digest(offered.encode(), self.token.encode()):
            rest = [(k, v) for k, v in query.multi_items() if k != "token"]
            target = url.path + (f"?{urlencode(rest)}" if rest else "")
            response = RedirectResponse(target, status_code=303)
            response.set_cookie(TOKEN_COOKIE, self.token, httponly=True, samesite="strict", path="/")
            return response
        cookie = _cookie(headers.get("cookie", ""), TOKEN_COOKIE)
        bearer = headers.get("authorization", "").removeprefix("Bearer ").strip()
        for candidate in (cookie, bearer):
            if candidate and hmac.compare_digest(candidate.encode(), self.token.encode()):
                return None
        return PlainTextResponse(
            "this viewer needs its token: open the address `glia view` printed (it ends in ?token=...)",
            status_code=401,
        )


def _cookie(header: str, name: str) -> str | None:
    for part in header.split(";"):
        key, _, value = part.strip().partition("=")
        if key == name:
            return value
    return None
