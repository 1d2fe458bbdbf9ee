"""Exceptions -> HTTP answers, in one place: every error is JSON with a ``detail`` that says why.

| exception                         | status | when                                              |
|-----------------------------------|--------|---------------------------------------------------|
| RequestValidationError (pydantic) | 422    | a field out of bounds, a misspelt field           |
| PositionError                     | 422    | the given history/SGF describes no valid position |
| CoordError                        | 422    | a malformed vertex or colour                      |
| GameNotFound                      | 404    | unknown game id                                   |
| IllegalMove                       | 409    | a move the rules forbid on a stored game (+reason)|
| GameConflict                      | 409    | a move asked of a finished game, nothing to undo  |
| BatcherClosed                     | 503    | the server is shutting down                       |
| RequestTimeout                    | 504    | the model did not answer in time                  |
| HTTPException 405 (routing)       | 405    | a method the path has no route for; Allow lists   |
|                                   |        | the methods of every route on that path           |
| anything else                     | 500    | a bug: logged with its traceback, none sent       |

Body size (413) and concurrency (503) are refused earlier, in server/limits.py; the last
row is the ``CatchAll`` middleware.
"""

from __future__ import annotations

import logging
import re
import uuid

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from engine.batcher import BatcherClosed
from engine.board import IllegalMove
from engine.coords import CoordError
from server.positions import PositionError
from server.schemas import Problem
from server.state import GameNotFound, GameConflict, RequestTimeout

log = logging.getLogger(__name__)


def documented() -> dict:
    """The answers any route may give besides its own (the OpenAPI ``responses`` of every router):
    a client generated from /openapi.json then knows every status the server can send."""
    def problem(description: str) -> dict:
        return {"model": Problem, "description": description}

    return {400: problem("a body that is not JSON (or not UTF-8)"),
            413: problem("a body over the server's --max-body-bytes"),
            500: problem("a bug: the body names an id to find in the server's log"),
            503: problem("too many requests in flight (--max-concurrency), or the server is shutting down")}

_SIMPLE = {PositionError: 422, CoordError: 422, GameNotFound: 404, GameConflict: 409, BatcherClosed: 503,
           RequestTimeout: 504}


def _problem(status: int, detail: str, **extra) -> JSONResponse:
    return JSONResponse({"detail": detail, **extra}, status_code=status)


def install(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        # One readable line ("body.board_size: ...") plus pydantic's list for programs.
        errors = [{"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
                  for e in exc.errors()]
        detail = "; ".join(f"{'.'.join(str(x) for x in e['loc'])}: {e['msg']}" for e in errors) or "invalid request"
        return _problem(422, detail, errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        allowed = allowed_methods(request.app, request.scope) if exc.status_code == 405 else []
        if allowed:  # Starlette's Allow names the first route on the path only; /v1/games/{id} has two
            exc.headers = {**(exc.headers or {}), "Allow": ", ".join(allowed)}
        return await http_exception_handler(request, exc)  # FastAPI's own answer otherwise

    @app.exception_handler(IllegalMove)
    async def illegal(request: Request, exc: IllegalMove) -> JSONResponse:
        return _problem(409, f"illegal move: {exc.reason}", reason=exc.reason)

    for cls, status in _SIMPLE.items():
        app.add_exception_handler(cls, _simple_handler(status))



class CatchAll:
    """ASGI middleware: an exception no handler took becomes a JSON 500, and goes no further.

    Not ``exception_handler(Exception)``: Starlette re-raises after such a handler, and
    uvicorn then closes the connection, which a client can see as a reset instead of the
    answer. No traceback or message is sent (they may hold internals); an id finds it in the log.
    """

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = finished = False

        async def tracking_send(message) -> None:
            nonlocal started, finished
            started = started or message["type"] == "http.response.start"
            finished = finished or (message["type"] == "http.response.body" and not message.get("more_body"))
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            error_id = uuid.uuid4().hex[:12]
            log.error("internal error %s on %s %s", error_id, scope.get("method"), scope.get("path"),
                      exc_info=(type(exc), exc, exc.__traceback__))
            if not started:
                await _problem(500, f"internal error (id {error_id})")(scope, receive, send)
            elif not finished:  # too late for a status: end the body we were sending
                await send({"type": "http.response.body", "body": b"", "more_body": False})


def allowed_methods(app: FastAPI, scope: dict) -> list[str]:
    """The methods of every documented route whose path matches the request's (what a 405's Allow must list).
    From the OpenAPI paths: FastAPI's included routers hide their routes from ``app.routes``."""
    path = scope.get("path", "")
    methods = set()
    for template, operations in app.openapi().get("paths", {}).items():
        if re.fullmatch(re.sub(r"\\{[^/]+?\\}", "[^/]+", re.escape(template)), path):
            methods |= {m.upper() for m in operations}
    return sorted(methods)


def _simple_handler(status: int):
    async def handler(request: Request, exc: Exception) -> JSONResponse:
        return _problem(status, str(exc))

    return handler
