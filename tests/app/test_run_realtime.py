"""`voxtrio run --realtime` against the scripted realtime server (localhost, bounded waits)."""

import io
import json
import wave
from pathlib import Path

import numpy as np
import trio

from voxtrio.app.run_file import RunOptions, run_file
from voxtrio.cli import main
from voxtrio.testing.realtime_server import ExpectClient, Send, open_realtime_server

FIXTURES = Path(__file__).parents[1] / "protocols" / "fixtures"


def voice_turn_script() -> list:
    events = [json.loads(line) for line in (FIXTURES / "realtime_full_voice_turn.jsonl").read_text().splitlines()]
    updated = next(e for e in events if e["type"] == "session.updated")
    return [Send(events[0]), ExpectClient("session.update"), Send(updated),
            ExpectClient("input_audio_buffer.append"), *map(Send, events[2:])]


def write_tone(path: Path, seconds: float = 1.0) -> None:
    t = np.arange(int(16_000 * seconds)) / 16_000
    samples = (6000 * np.sin(2 * np.pi * 200 * t)).astype(np.int16)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(16_000)
        w.writeframes(samples.tobytes())


async def test_run_realtime_holds_the_turn_and_writes_the_transcript(tmp_path, monkeypatch):
    write_tone(tmp_path / "in.wav")
    out = io.StringIO()
    with trio.fail_after(20):
        async with open_realtime_server(voice_turn_script()) as server:
            monkeypatch.setenv("OPENAI_API_KEY", "test-key")
            monkeypatch.setenv("OPENAI_REALTIME_URL", f"ws://127.0.0.1:{server.port}/v1")
            options = RunOptions(input=tmp_path / "in.wav", realtime_model=True, transcript=tmp_path / "t.jsonl")
            report = await run_file(options, out=out)
    server.assert_no_problems()
    items = [json.loads(line) for line in (tmp_path / "t.jsonl").read_text().splitlines()]
    assert [(i["role"], i["text"]) for i in items] == [
        ("user", "What's the weather in Paris?"),
        ("assistant", "Sure! It's sunny in Paris today."),
    ]
    assert report.usage["llm_output_audio_tokens"] == 75
    assert "OpenAI Realtime" in out.getvalue()


def test_run_realtime_without_a_key_says_so(tmp_path, monkeypatch, capsys):
    write_tone(tmp_path / "in.wav", 0.1)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    assert main(["run", str(tmp_path / "in.wav"), "--realtime"]) == 2
    assert "needs a key: set OPENAI_API_KEY" in capsys.readouterr().err
