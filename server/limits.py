"""Two ASGI middlewares that protect the one model: a body-size limit (413) and a concurrency limit (503).

Plain ASGI rather than ``BaseHTTPMiddleware``: they must act before the body is read and
must not buffer responses (PNG bodies, streaming).
"""

from __future__ import annotations

import json
from typing import Awaitable, Callable

from fastapi import HTTPException

Scope = dict
Message = dict
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


async def send_problem(send: Send, status: int, detail: str, headers: tuple[tuple[bytes, bytes], ...] = ()) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            *headers]})
    await send({"type": "http.response.body", "body": body})


class BodySizeLimit:
    """413 for a body over ``max_bytes``: at once from Content-Length, else while it streams in (chunked)."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_bytes):
            return await send_problem(send, 413, f"request body over {self.max_bytes} bytes")
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    # Raised inside the app's body read: FastAPI passes HTTPExceptions through as they are.
                    raise HTTPException(413, f"request body over {self.max_bytes} bytes")
            return message

        await self.app(scope, counted, send)


class InFlight:
    """How many requests the concurrency limit is letting through now (reported by /healthz)."""

    def __init__(self) -> None:
        self.count = 0


class ConcurrencyLimit:
    """503 (with Retry-After) while ``limit`` requests under ``prefix`` are already being served.

    Queueing without bound would only turn overload into timeouts for everyone; a quick
    503 lets the client back off. One event loop: the counter needs no lock.
    """

    def __init__(self, app: ASGIApp, limit: int, counter: InFlight, prefix: str = "/v1/") -> None:
        self.app = app
        self.limit = limit
        self.counter = counter
        self.prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(self.prefix):
            return await self.app(scope, receive, send)
        if self.counter.count >= self.limit:
            return await send_problem(send, 503, f"server busy: {self.limit} requests in flight",
                                      headers=((b"retry-after", b"1"),))
        self.counter.count += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.counter.count -= 1
