"""examples/supervision.py (the README's demo) keeps working and keeps telling its story.

Runs the example's `main()` on `autojump_clock`, so it takes milliseconds.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest
import trio

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "supervision.py"


def load_example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("voxtrio_example_supervision", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


async def test_supervision_example_shows_crash_restart_and_shutdown(
    autojump_clock: trio.abc.Clock, capsys: pytest.CaptureFixture[str]
) -> None:
    example = load_example()
    with trio.fail_after(30):
        await example.main()
    out = capsys.readouterr().out
    expected_in_order = [
        "started source (incarnation 1)",
        "started parser (incarnation 1)",
        "started printer (incarnation 1)",
        "parser exited, reason=exception: ValueError",
        "printer exited, reason=stopped",
        "started parser (incarnation 2)",
        "restarted parser because it failed",
        "started printer (incarnation 2)",
        "restarted printer because parser failed",
        "source exited, reason=normal",
        "the restarted printer saw 3 of them",
        "printer exited, reason=stopped",
        "parser exited, reason=stopped",
    ]
    position = 0
    for text in expected_in_order:
        found = out.find(text, position)
        assert found >= 0, f"missing (or out of order): {text!r}\n---\n{out}"
        position = found + len(text)
    assert "source exited, reason=stopped" not in out  # the source was never restarted
    assert out.count("°C") == 6  # every good reading printed once
