"""Chromium for the browser-page test: the system browser, installed with apt when absent."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")


def _apt_install_chromium() -> str | None:
    """Try `apt-get install chromium`; None on success, else why it failed."""
    if shutil.which("apt-get") is None:
        return "apt-get is not available"
    if os.geteuid() != 0:
        return "not root, so apt-get cannot install it"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for cmd in (["apt-get", "update"], ["apt-get", "install", "-y", "chromium"]):
        try:
            done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=240)
        except subprocess.TimeoutExpired:
            return f"`{' '.join(cmd)}` took longer than 240 s"
        if done.returncode != 0:
            return f"`{' '.join(cmd)}` failed: {done.stderr.strip()[-300:]}"
    return None


@pytest.fixture(scope="session")
def chromium_path() -> Path:
    """The Debian Chromium binary; skips (with the reason) only where it cannot be installed."""
    pytest.importorskip("playwright", reason="the `playwright` package drives Chromium")
    if not CHROMIUM.exists():
        problem = _apt_install_chromium()
        if problem is not None or not CHROMIUM.exists():
            pytest.skip(f"Chromium is missing at {CHROMIUM} and could not be installed: {problem}")
    return CHROMIUM


@pytest.fixture(autouse=True)
def _no_twilio_token_from_the_shell(monkeypatch: pytest.MonkeyPatch) -> None:
    # A developer's TWILIO_AUTH_TOKEN would turn signature checks on in every server
    # these tests start (and in worker processes, which inherit the environment); the
    # tests that want the check set it themselves.
    monkeypatch.delenv("TWILIO_AUTH_TOKEN", raising=False)
