"""Every Python example in docs/audio.md runs as written (paths moved to a temp dir)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "audio.md"
BLOCKS = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)


def test_the_page_has_examples() -> None:
    assert len(BLOCKS) >= 10


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_example_runs(index: int, tmp_path: Path) -> None:
    code = BLOCKS[index].replace("/tmp/", f"{tmp_path}/")
    # Real-time examples run on virtual time here, so the suite stays fast.
    code = code.replace(
        "trio.run(main)", "trio.run(main, clock=trio.testing.MockClock(autojump_threshold=0))"
    )
    exec(compile(code, f"docs/audio.md example {index}", "exec"), {"__name__": "docs_example"})
