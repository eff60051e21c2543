"""Schemathesis against the served OpenAPI document: no request makes a 5xx."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.serving.conftest import Served

MAX_SECONDS = int(os.environ.get("SERVING_FUZZ_SECONDS", "45"))


def _st() -> list[str]:
    exe = shutil.which("st", path=str(Path(sys.executable).parent)) or shutil.which("st")
    if exe is None:
        pytest.fail("schemathesis is not installed (pip install -e '.[dev]')")
    return [exe]


@pytest.mark.parametrize("who", ["partner", "admin"])
def test_no_server_error_for_any_generated_request(served: Served, who: str,
                                                   tmp_path: Path) -> None:
    key = served.key_a if who == "partner" else served.key_admin
    cmd = [*_st(), "run", f"{served.url}/docs.json", "--checks", "not_a_server_error",
           "--phases", "examples,coverage,fuzzing", "--max-time", str(MAX_SECONDS // 2),
           "--workers", "1", "--request-timeout", "30", "--seed", "7",
           "-H", f"Authorization: Bearer {key}", "--report", "junit",
           "--report-dir", str(tmp_path)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=MAX_SECONDS * 4,
                          env={**os.environ, "SCHEMATHESIS_TELEMETRY": "false", "NO_COLOR": "1"})
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-4000:]
    assert "passed" in out and "generated" in out, out[-2000:]
    log = served.log.read_text(errors="replace")
    assert "status=500" not in log and "Exception in ASGI application" not in log
