"""Starting the service: in the foreground (``serve``) or as a child process (``launch``).

Both run ``bentoml serve serving.service:Propensity`` with the lake passed through
``PROPENSITY_LAKE``, so the service reads the same settings as every other stage.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

TARGET = "serving.service:Propensity"


def _command(port: int, host: str) -> list[str]:
    exe = shutil.which("bentoml", path=str(Path(sys.executable).parent)) or shutil.which(
        "bentoml")
    base = [exe] if exe else [sys.executable, "-m", "bentoml"]
    return [*base, "serve", TARGET, "--host", host, "--port", str(port)]


def _env(lake: str | os.PathLike[str], extra: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env["PROPENSITY_LAKE"] = str(Path(lake).resolve())
    env.setdefault("BENTOML_DO_NOT_TRACK", "True")
    env.setdefault("BENTOML_HOME", str(Path(lake).resolve() / "serving" / "bentoml"))
    env.update(extra or {})
    return env


def serve(lake: str | os.PathLike[str], port: int = 3000, host: str = "127.0.0.1") -> int:
    """Serve in the foreground until interrupted; returns the server's exit code."""
    proc = subprocess.Popen(_command(port, host), env=_env(lake))
    try:
        return proc.wait()
    except KeyboardInterrupt:
        proc.send_signal(signal.SIGINT)
        return proc.wait(30)


def wait_ready(url: str, timeout: float = 120.0, proc: subprocess.Popen | None = None) -> None:
    """Wait until ``GET url/readyz`` answers 200 (the latest month is loaded)."""
    end = time.monotonic() + timeout
    last = ""
    while time.monotonic() < end:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"the server exited with code {proc.returncode} before it was "
                               "ready")
        try:
            with urllib.request.urlopen(f"{url}/readyz", timeout=2) as r:
                if r.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError) as exc:
            last = str(exc)
        time.sleep(0.2)
    raise TimeoutError(f"{url} not ready after {timeout:.0f}s ({last})")


@contextmanager
def launch(lake: str | os.PathLike[str], port: int, host: str = "127.0.0.1",
           timeout: float = 120.0, log_file: str | os.PathLike[str] | None = None,
           env: dict[str, str] | None = None) -> Iterator[str]:
    """Start ``bentoml serve`` as a child process, wait for readiness, yield its base URL,
    and stop it (SIGINT, then SIGKILL of its process group) on exit."""
    out = open(log_file, "ab") if log_file else subprocess.DEVNULL  # noqa: SIM115
    proc = subprocess.Popen(_command(port, host), env=_env(lake, env), stdout=out,
                            stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://{host}:{port}"
    try:
        wait_ready(url, timeout, proc)
        yield url
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGINT)
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(10)
        if log_file:
            out.close()  # type: ignore[union-attr]


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that is free on ``host`` now."""
    import socket

    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])
