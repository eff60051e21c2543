"""What keeps look-ups fast: BentoML's request timer cancelled when the request ends."""

from __future__ import annotations

import asyncio

from serving import timeouts


# ------------------------------------------------------------------ request timer
def _run_through_timeout(timeout: float, app_delay: float) -> tuple[list[dict], int]:
    """One request through BentoML's TimeoutMiddleware (patched); returns the messages
    sent and the number of timers still armed in the loop once the request is over."""
    from bentoml._internal.server.http.traffic import TimeoutMiddleware

    assert timeouts.install()
    sent: list[dict] = []

    async def app(scope: dict, receive: object, send: object) -> None:
        await asyncio.sleep(app_delay)
        await send({"type": "http.response.start", "status": 200, "headers": []})  # type: ignore[operator]
        await send({"type": "http.response.body", "body": b"ok"})  # type: ignore[operator]

    async def send(msg: dict) -> None:
        sent.append(msg)

    async def receive() -> dict:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def main() -> int:
        mw = TimeoutMiddleware(app, timeout=timeout)
        await mw({"type": "http", "path": "/x", "method": "POST", "headers": []}, receive, send)
        await asyncio.sleep(0.01)
        loop = asyncio.get_running_loop()
        return sum(1 for h in loop._scheduled if not h.cancelled())  # type: ignore[attr-defined]

    armed = asyncio.run(main())
    return sent, armed


def test_request_timer_is_cancelled_when_the_request_ends() -> None:
    sent, armed = _run_through_timeout(timeout=300, app_delay=0)
    assert [m["type"] for m in sent] == ["http.response.start", "http.response.body"]
    assert sent[0]["status"] == 200
    assert armed == 0  # BentoML's own middleware leaves a 300 s timer (and the request) here


def test_request_timeout_still_answers_504() -> None:
    sent, _ = _run_through_timeout(timeout=0.05, app_delay=1.0)
    assert sent and sent[0]["status"] == 504
