"""The ASGI layer in front of the BentoML routes: the hub page, body limits, content types.

- ``GET /`` answers the download-hub page, ``GET /docs`` the Swagger UI (BentoML's own page
  sits at ``/`` otherwise), ``/docs.json`` stays BentoML's OpenAPI document.
- A POST body larger than the endpoint's limit gets 413 before it is read: by its
  Content-Length, or, for a chunked body, as soon as the running count passes the limit.
- The API endpoints read every body as JSON; multipart bodies get 415, which keeps
  BentoML's multipart parser (and its fetch-a-URL file inputs) out of reach.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from importlib import resources
from pathlib import Path
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
]


def _static(name: str) -> bytes:
    return resources.files("serving").joinpath("static", name).read_bytes()


def _swagger_page() -> bytes:
    import _bentoml_impl.server as srv

    return (Path(srv.__file__).parent / "main-openapi.html").read_bytes()


class Gate:
    """ASGI middleware: see the module docstring. ``upload_paths`` get ``max_upload``."""

    def __init__(self, app: ASGIApp, api_paths: tuple[str, ...], max_body: int,
                 max_upload: int, upload_paths: tuple[str, ...] = ()) -> None:
        self.app = app
        self.api_paths = set(api_paths)
        self.max_body = max_body
        self.max_upload = max_upload
        self.upload_paths = set(upload_paths)
        self._hub: bytes | None = None
        self._docs: bytes | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path, method = scope["path"], scope["method"]
        if path in ("/", "/index.html") and method in ("GET", "HEAD"):
            if self._hub is None:
                self._hub = _static("hub.html")
            await _respond(send, 200, self._hub, b"text/html; charset=utf-8",
                           head=method == "HEAD", extra=[
                               (b"content-security-policy",
                                b"default-src 'self'; script-src 'self' 'unsafe-inline'; "
                                b"style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:"),
                               (b"cache-control", b"no-cache")])
            return
        if path == "/docs" and method in ("GET", "HEAD"):
            if self._docs is None:
                self._docs = _swagger_page()
            await _respond(send, 200, self._docs, b"text/html; charset=utf-8",
                           head=method == "HEAD")
            return
        if path in self.api_paths and method == "POST":
            headers = dict(scope.get("headers") or [])
            ctype = headers.get(b"content-type", b"application/json").split(b";")[0].strip()
            if ctype.lower().startswith((b"multipart/", b"application/vnd.bentoml")):
                await _json(send, 415, {"error": f"send a JSON body (Content-Type: "
                                        f"application/json), not {ctype.decode('latin-1')!r}"})
                return
            # every body is read as JSON (curl -d sends form-urlencoded by default)
            scope = dict(scope)
            scope["headers"] = [(k, v) for k, v in scope.get("headers") or []
                                if k.lower() != b"content-type"]
            scope["headers"].append((b"content-type", b"application/json"))
            limit = self.max_upload if path in self.upload_paths else self.max_body
            length = headers.get(b"content-length")
            if length is not None:
                try:
                    n = int(length)
                except ValueError:
                    await _json(send, 400, {"error": "malformed Content-Length header"})
                    return
                if n > limit:
                    await _json(send, 413, {"error": f"request body of {n} bytes is over the "
                                            f"limit of {limit} bytes for {path}"})
                    return
            else:  # chunked: read it here, up to the limit, then hand it on whole
                body = await _read_limited(receive, limit)
                if body is None:
                    await _json(send, 413, {"error": f"request body is over the limit of "
                                            f"{limit} bytes for {path}"})
                    return
                receive = _replay(body, receive)
        await self.app(scope, receive, _with_headers(send))


async def _read_limited(receive: Receive, limit: int) -> bytes | None:
    parts: list[bytes] = []
    seen = 0
    while True:
        msg = await receive()
        if msg["type"] != "http.request":
            return b"".join(parts)
        chunk = msg.get("body", b"")
        seen += len(chunk)
        if seen > limit:
            return None
        parts.append(chunk)
        if not msg.get("more_body", False):
            return b"".join(parts)


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def inner() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return inner


def _with_headers(send: Send) -> Send:
    async def inner(msg: Message) -> None:
        if msg["type"] == "http.response.start":
            headers = list(msg.get("headers") or [])
            names = {k.lower() for k, _ in headers}
            headers += [h for h in SECURITY_HEADERS if h[0] not in names]
            if b"cache-control" not in names:
                headers.append((b"cache-control", b"no-store"))
            msg["headers"] = headers
        await send(msg)

    return inner


async def _respond(send: Send, status: int, body: bytes, ctype: bytes, head: bool = False,
                   extra: list[tuple[bytes, bytes]] | None = None) -> None:
    headers = [(b"content-type", ctype), (b"content-length", str(len(body)).encode()),
               *SECURITY_HEADERS, *(extra or [])]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": b"" if head else body})


async def _json(send: Send, status: int, payload: dict[str, Any]) -> None:
    await _respond(send, status, json.dumps(payload).encode(), b"application/json",
                   extra=[(b"connection", b"close")] if status == 413 else None)
