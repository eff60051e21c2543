"""BentoML's request timeout without its leak.

BentoML (1.4) wraps every request in ``TimeoutMiddleware``, which arms
``loop.call_later(timeout, ...)`` and never cancels it. The pending timer keeps the
request's future and its context (the OpenTelemetry span and everything it references)
alive for the whole timeout (300 s here): at 100 requests per second that is some
30,000 requests' worth of objects, and every full garbage collection walks them all,
which stalls the event loop for hundreds of milliseconds (look-up p99 far above the
median). :func:`install` replaces the middleware's ``__call__`` with the same logic
that cancels its timer when the request ends and arms it outside the request's context.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from typing import Any

log = logging.getLogger(__name__)


async def _call(self: Any, scope: Any, receive: Any, send: Any) -> None:
    if scope["type"] not in ("http", "websocket"):
        return await self.app(scope, receive, send)
    loop = asyncio.get_running_loop()
    waiter = loop.create_future()
    # an empty context: a timer waiting in the loop pins nothing of the request
    timer = loop.call_later(self.timeout, self._set_timer_out, waiter,
                            context=contextvars.Context())

    async def _send(message: Any) -> None:
        if not waiter.done():
            waiter.set_result(None)
        await send(message)

    fut = asyncio.ensure_future(self.app(scope, receive, _send), loop=loop)
    try:
        try:
            await waiter
        except TimeoutError:
            if fut.cancel():
                from starlette.responses import JSONResponse

                resp = JSONResponse(
                    {"error": f"Not able to process the request in {self.timeout} seconds"},
                    status_code=504)
                await resp(scope, receive, send)
        else:
            await fut  # the response has started: let it finish
    finally:
        timer.cancel()


def install() -> bool:
    """Patch BentoML's ``TimeoutMiddleware`` (once); False if its shape is not the expected
    one (another BentoML version), in which case it is left alone."""
    try:
        from bentoml._internal.server.http import traffic
    except ImportError:  # pragma: no cover - BentoML moved it
        return False
    cls = getattr(traffic, "TimeoutMiddleware", None)
    if cls is None or not hasattr(cls, "_set_timer_out"):
        log.warning("BentoML's TimeoutMiddleware is not the expected one; not patched")
        return False
    if getattr(cls.__call__, "_propensity", False):
        return True
    _call._propensity = True  # type: ignore[attr-defined]
    cls.__call__ = _call
    return True
