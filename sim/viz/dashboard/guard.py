"""Answer only requests addressed to this server: Host and Origin checks (plain ASGI).

The dashboard listens on 127.0.0.1, but a web page anywhere can still reach it from the
user's own browser: by DNS rebinding (a name the attacker controls first resolves to
their server, then to 127.0.0.1, and the page's requests carry ``Host: evil.example``)
or by opening a WebSocket to ``ws://127.0.0.1:8765`` from its own origin (browsers do
not apply the same-origin policy to WebSockets; they only send the ``Origin`` header).
Through the page's WebSocket such a page could start large ensembles and open folders.

:class:`HostOriginGuard` wraps the ASGI application: every HTTP request and WebSocket
handshake must name one of the server's own addresses in ``Host``; a WebSocket must come
from a page of this server (``Origin: http://<one of them>``), and so must any HTTP
request that carries an ``Origin``. Anything else gets ``403`` before the application
sees it. No Solara here (tested on its own).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

#: Names of this machine's loopback interface.
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")


def _bracket(host: str) -> str:
    """An IPv6 address as it appears in a Host header (``[::1]``)."""
    try:
        if ipaddress.ip_address(host).version == 6:
            return f"[{host}]"
    except ValueError:
        pass
    return host


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _machine_names() -> set[str]:
    """This machine's names and addresses (for a server bound to every interface)."""
    names = {socket.gethostname(), socket.getfqdn()}
    for name in list(names):
        try:
            for info in socket.getaddrinfo(name, None):
                names.add(str(info[4][0]))
        except OSError:
            pass
    return {n for n in names if n}


def allowed_hosts(host: str, port: int, extra: Iterable[str] = ()) -> frozenset[str]:
    """The ``Host`` header values (``name:port``) a server bound to ``host:port`` accepts.

    Args:
        host: The address the server listens on (``127.0.0.1``, ``::1``, ``0.0.0.0``,
            a name or an address of one interface).
        port: The port it listens on.
        extra: More names the server is reached by (``--allow-host``), e.g. a name in
            DNS for a server bound to every interface.

    Loopback addresses accept the loopback names; ``0.0.0.0`` and ``::`` accept the
    machine's host names and addresses as well. Without a port in the header (port 80)
    the bare name is accepted when ``port`` is 80.
    """
    names: set[str] = set(extra)
    if host in ("0.0.0.0", "::", ""):
        names |= _machine_names() | set(LOOPBACK_NAMES)
    else:
        names.add(host)
    if any(_is_loopback(n) for n in names):
        names |= set(LOOPBACK_NAMES)
    out = set()
    for n in names:
        b = _bracket(n.strip("[]")) if ":" in n.strip("[]") else n
        out.add(f"{b.lower()}:{port}")
        if port == 80:
            out.add(b.lower())
    return frozenset(out)


def _header(scope: Scope, name: bytes) -> str | None:
    for k, v in scope.get("headers") or ():
        if k.lower() == name:
            return bytes(v).decode("latin-1")
    return None


class HostOriginGuard:
    """ASGI middleware: refuse requests not addressed to, or not from, this server.

    Args:
        app: The application to protect.
        hosts: The accepted ``Host`` values (:func:`allowed_hosts`).
    """

    def __init__(self, app: ASGIApp, hosts: Iterable[str]):
        self.app = app
        self.hosts = frozenset(h.lower() for h in hosts)
        self.origins = frozenset(f"{s}://{h}" for h in self.hosts for s in ("http", "https"))

    def refusal(self, scope: Scope) -> str | None:
        """Why a request is refused (one line), or None to let it through."""
        host = (_header(scope, b"host") or "").strip().lower()
        if host not in self.hosts:
            return (f"Host {host[:80]!r} is not this server's address; open it as "
                    + " or ".join(sorted(f"http://{h}/" for h in self.hosts)[:2]))
        origin = _header(scope, b"origin")
        if scope["type"] == "websocket" and origin is None:
            return "a WebSocket without an Origin is refused"
        if origin is not None and origin.strip().lower().rstrip("/") not in self.origins:
            return f"Origin {origin[:80]!r} is not a page of this server"
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on, or answer 403 (HTTP) / refuse the handshake (WebSocket)."""
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        why = self.refusal(scope)
        if why is None:
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008, "reason": why[:120]})
            return
        body = f"sim-dashboard: {why}\n".encode()
        await send({"type": "http.response.start", "status": 403,
                    "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                                (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})
