"""The synthetic web's HTTP server: routes by Host header and works as an HTTP proxy.

A client may ask ``GET /path`` with ``Host: example.com``, or send the absolute form
``GET http://example.com/path`` as it does through a proxy; both reach the same page. Every
page is rendered on the fly from a :class:`WebIndex` loaded once at startup.

Every 200 response carries an ``ETag`` (a hash of the bytes sent); a request whose
``If-None-Match`` names it gets ``304 Not Modified`` with no body, so an incremental crawler
can revalidate what it already has.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import threading
from pathlib import Path
from types import TracebackType

from aiohttp import web

from propensity.settings import SandboxSettings
from sandbox.web.faults import (
    CHARSET_META_ONLY,
    CHARSET_MISLABELLED,
    CHARSET_NONE,
    CHARSET_OK,
    decode_hop,
    encode_hop,
    unit,
)
from sandbox.web.index import WebIndex
from sandbox.web.render import Renderer, Resp

log = logging.getLogger(__name__)

INDEX_KEY: web.AppKey[WebIndex] = web.AppKey("web_index", WebIndex)
_SERVERS = ("Apache/2.4.57 (Ubuntu)", "nginx", "nginx/1.24.0", "cloudflare", "LiteSpeed",
            "Apache", "Microsoft-IIS/10.0")
_META_UTF8 = b'<meta charset="utf-8">'
_LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1", "[::1]", "")


class _Web:
    """Request handling bound to one index."""

    def __init__(self, idx: WebIndex) -> None:
        self.idx = idx
        self.plan = idx.plan
        self.renderer = Renderer(idx)
        self.slow_seconds = idx.settings.faults.slow_seconds
        self._pad: bytes | None = None

    async def handle(self, request: web.Request) -> web.StreamResponse:
        method = request.method
        if method not in ("GET", "HEAD"):
            return web.Response(status=405, text="method not allowed", headers={"Allow": "GET, HEAD"})
        host = _strip_port(request.host).lower()
        path = request.path
        path_qs = request.path_qs
        kind, canon = self.idx.resolve(host)
        if not kind:
            if host in _LOCAL_HOSTS:
                return self._local(path)
            return web.Response(status=502, text=f"502 Bad Gateway: cannot resolve host {host}\n")
        if kind == "alias":
            return web.Response(status=301, headers={"Location": f"http://{canon}{path_qs}"})
        url = f"http://{host}{path_qs}"
        if path != "/robots.txt" and self.plan.server_error(url):
            return web.Response(status=500, text="500 Internal Server Error\n",
                                headers={"Server": self._server_name(host)})
        if self.plan.slow(url):
            await asyncio.sleep(self.slow_seconds)
        if path.startswith("/r/"):
            return self._hop(host, path[3:])
        if len(path) > 1 and path.endswith("/"):
            path = path.rstrip("/") or "/"
        query = dict(request.query)
        if kind == "site":
            site = self.idx.site(host)
            if site is None:
                return web.Response(status=502, text=f"502 Bad Gateway: cannot resolve host {host}\n")
            resp = self.renderer.site(site, path, query)
        elif kind == "press":
            resp = self.renderer.press(path, query)
        elif kind == "forum":
            resp = self.renderer.forum(path, query)
        else:
            resp = self.renderer.social(path, query)
        return await self._finish(request, resp, url, host)

    def _hop(self, host: str, token: str) -> web.Response:
        decoded = decode_hop(token)
        if decoded is None:
            return web.Response(status=404, text="not found\n")
        hops, target = decoded
        if hops <= 1:
            location = f"http://{host}{target}"
        else:
            location = f"http://{host}/r/{encode_hop(target, hops - 1)}"
        status = (301, 302, 302, 307)[int(unit(self.idx.seed, "hop", host, token) * 4)]
        return web.Response(status=status, headers={"Location": location,
                                                    "Server": self._server_name(host)})

    def _server_name(self, host: str) -> str:
        return _SERVERS[int(unit(self.idx.seed, "server", host) * len(_SERVERS))]

    async def _finish(self, request: web.Request, resp: Resp, url: str,
                      host: str) -> web.StreamResponse:
        headers = {"Server": self._server_name(host)}
        if resp.headers:
            headers.update(resp.headers)
        body = resp.body
        if not resp.html:
            data = body.encode("utf-8") if isinstance(body, str) else body
            headers["Content-Type"] = f"{resp.ctype}; charset=utf-8"
            if resp.status == 200:
                headers["ETag"] = _etag(data)
                if _not_modified(request, headers["ETag"]):
                    return _304(headers)
            return web.Response(status=resp.status, body=data, headers=headers)
        assert isinstance(body, str)
        mode = self.plan.charset_mode(url)
        if mode == CHARSET_OK:
            data = body.encode("utf-8")
            ctype = "text/html; charset=utf-8"
        elif mode == CHARSET_MISLABELLED:
            data = body.encode("cp1252", "xmlcharrefreplace").replace(_META_UTF8, b"", 1)
            ctype = "text/html; charset=utf-8"
        elif mode == CHARSET_NONE:
            data = body.encode("utf-8").replace(_META_UTF8, b"", 1)
            ctype = "text/html"
        else:
            assert mode == CHARSET_META_ONLY
            data = body.encode("cp1252", "xmlcharrefreplace").replace(
                _META_UTF8, b'<meta charset="windows-1252">', 1)
            ctype = "text/html"
        headers["Content-Type"] = ctype
        oversized = self.plan.oversized(url)
        if resp.status == 200:
            pad = str(self.idx.settings.faults.oversized_bytes).encode() if oversized else b""
            headers["ETag"] = _etag(data, pad)
            if _not_modified(request, headers["ETag"]):
                return _304(headers)
        if oversized:
            return await self._padded(request, resp.status, data, headers)
        return web.Response(status=resp.status, body=data, headers=headers)

    async def _padded(self, request: web.Request, status: int, data: bytes,
                      headers: dict[str, str]) -> web.StreamResponse:
        """Stream ``data`` with padding comments after ``<head>`` up to ``oversized_bytes``.

        The padding is written in slices of one shared block, so a large page costs no
        large allocation.
        """
        need = max(0, self.idx.settings.faults.oversized_bytes - len(data))
        if self._pad is None:
            line = b"<!-- tracking-pixel-cache: " + b"a1b2c3d4e5f60718293a4b5c6d7e8f90" * 3 + b" -->\n"
            self._pad = line * (65536 // len(line))
        i = data.find(b"<head>")
        at = i + len(b"<head>") if i >= 0 else 0
        out = web.StreamResponse(status=status, headers=headers)
        out.content_length = len(data) + need
        await out.prepare(request)
        await out.write(data[:at])
        pad = memoryview(self._pad)
        while need > 0:
            n = min(need, len(pad))
            await out.write(pad[:n])
            need -= n
        await out.write(data[at:])
        await out.write_eof()
        return out

    def _local(self, path: str) -> web.Response:
        if path in ("/", "/healthz"):
            idx = self.idx
            return web.Response(text=f"ok: synthetic web as of {idx.month}, "
                                     f"{len(idx.by_domain)} sites\n")
        return web.Response(status=404, text="not found\n")


def _etag(data: bytes, extra: bytes = b"") -> str:
    """A strong validator of a response body: a hash of the bytes sent."""
    h = hashlib.blake2b(data, digest_size=12)
    h.update(extra)
    return f'"{h.hexdigest()}"'


def _not_modified(request: web.Request, etag: str) -> bool:
    """Whether the request's ``If-None-Match`` names ``etag`` (weak comparison, or ``*``)."""
    inm = request.headers.get("If-None-Match")
    if not inm:
        return False
    tags = [t.strip().removeprefix("W/") for t in inm.split(",")]
    return "*" in tags or etag in tags


def _304(headers: dict[str, str]) -> web.Response:
    """304 Not Modified: validators and server headers, no body and no content headers."""
    keep = {k: v for k, v in headers.items() if k.lower() not in ("content-type",
                                                                   "content-length")}
    return web.Response(status=304, headers=keep)


def _strip_port(host: str) -> str:
    if host.startswith("["):
        return host.split("]", 1)[0] + "]"
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


@web.middleware
async def _no_tunnels(request: web.Request, handler):  # noqa: ANN001, ANN202
    """CONNECT (HTTPS tunnelling) is not offered: the synthetic web is plain HTTP."""
    if request.method == "CONNECT":
        return web.Response(status=405, text="405: CONNECT not supported, use plain http://\n",
                            headers={"Allow": "GET, HEAD"})
    return await handler(request)


def app_from_index(idx: WebIndex) -> web.Application:
    """An aiohttp application serving ``idx``."""
    app = web.Application(middlewares=[_no_tunnels])
    app[INDEX_KEY] = idx
    app.router.add_route("*", "/{tail:.*}", _Web(idx).handle)
    return app


def build_app(lake_root: Path, month: str, settings: SandboxSettings) -> web.Application:
    """Load the web as of ``month`` from the lake at ``lake_root`` and return its application."""
    return app_from_index(WebIndex.load(Path(lake_root), month, settings))


def run_server(lake_root: Path, month: str, settings: SandboxSettings,
               host: str = "127.0.0.1", port: int = 8080) -> None:
    """Serve the synthetic web as of ``month`` on ``host:port`` until interrupted (blocking)."""
    app = build_app(lake_root, month, settings)
    log.info("serving the synthetic web as of %s on http://%s:%d (also an HTTP proxy)",
             month, host, port)
    web.run_app(app, host=host, port=port, access_log=None, print=None)


class BackgroundServer:
    """Run an application on a loopback port in a background thread (tests, tools).

    ``with BackgroundServer(app) as srv:`` then use ``srv.port`` / ``srv.proxy``.
    """

    def __init__(self, app: web.Application, host: str = "127.0.0.1", port: int = 0) -> None:
        self.app = app
        self.host = host
        self.port = port
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None

    @property
    def proxy(self) -> str:
        """The proxy URL to give a client, e.g. ``http://127.0.0.1:54321``."""
        return f"http://{self.host}:{self.port}"

    def start(self) -> BackgroundServer:
        self._thread = threading.Thread(target=self._run, name="sandbox-web", daemon=True)
        self._thread.start()
        self._ready.wait(30)
        if self._error is not None:
            raise RuntimeError("sandbox web server failed to start") from self._error
        return self

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        runner = web.AppRunner(self.app, access_log=None)
        try:
            loop.run_until_complete(runner.setup())
            site = web.TCPSite(runner, self.host, self.port)
            loop.run_until_complete(site.start())
            server = site._server  # noqa: SLF001
            if server is not None and server.sockets:
                self.port = server.sockets[0].getsockname()[1]
        except BaseException as exc:  # pragma: no cover - startup failure
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(runner.cleanup())
            loop.close()

    def stop(self) -> None:
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(30)

    def __enter__(self) -> BackgroundServer:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
