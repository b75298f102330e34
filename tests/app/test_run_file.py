"""`voxtrio run` on real audio with the embedded engines (real time, bounded waits).

A two-utterance WAV is built from the committed speech fixtures; the conversation runs
through silero, pocketsphinx (worker process) and espeak-ng (worker process).
"""

import io
import json
import time
import wave
from pathlib import Path

import numpy as np
import pytest
import trio

from voxtrio.app.run_file import RunOptions, run_file
from voxtrio.cli import fast_clock_if, main
from voxtrio.testing.chat_server import ScriptedReply, serve_chat_completions, text_chunks

FIXTURES = Path(__file__).parent.parent / "fixtures" / "speech"
RATE = 16_000


def read(name: str) -> np.ndarray:
    with wave.open(str(FIXTURES / name), "rb") as w:
        assert w.getframerate() == RATE
        return np.frombuffer(w.readframes(w.getnframes()), np.int16)


def silence(seconds: float) -> np.ndarray:
    return np.zeros(round(seconds * RATE), np.int16)


def write_two_utterances(tmp_path: Path) -> tuple[Path, np.ndarray, np.ndarray, float]:
    """A WAV with two of the fixtures' utterances; returns it, both, and the gap."""
    first, second = read("s03.wav"), read("s05.wav")  # timer, music
    gap = 7.0  # room for the first reply to play out before the user speaks again
    audio = np.concatenate([silence(0.5), first, silence(gap), second, silence(1.5)])
    path = tmp_path / "two.wav"
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(RATE)
        w.writeframes(audio.tobytes())
    return path, first, second, gap


def check_two_replies(tmp_path: Path, first: np.ndarray, second: np.ndarray, gap: float) -> None:
    """The transcript, the aligned reply audio and the metrics of a two-turn run."""
    items = [json.loads(line) for line in (tmp_path / "t.jsonl").read_text().splitlines()]
    users = [i for i in items if i["role"] == "user"]
    agents = [i for i in items if i["role"] == "assistant"]
    assert len(users) == 2 and len(agents) == 2
    # Within the engine's accuracy: the key words come through.
    assert "timer" in users[0]["text"] and "minutes" in users[0]["text"]
    assert "music" in users[1]["text"]
    assert all(not a["interrupted"] for a in agents)
    assert {a["turn_id"] for a in agents} == {u["turn_id"] for u in users}

    # The reply audio lines up with the input: each reply starts within ~1 s after
    # the utterance it answers, and nothing plays while the user speaks.
    second_starts = 0.5 + len(first) / RATE + gap
    with wave.open(str(tmp_path / "reply.wav"), "rb") as w:
        rate = w.getframerate()
        reply = np.frombuffer(w.readframes(w.getnframes()), np.int16)
    loud = np.flatnonzero(np.abs(reply) > 500) / rate
    assert loud.size
    first_end = 0.5 + len(first) / RATE
    starts = [loud[0], loud[loud > second_starts][0]]
    # (generous bounds: CI machines are slow and shared; bench/session.py measures)
    assert first_end < starts[0] < first_end + 3.0
    second_end = second_starts + len(second) / RATE
    assert second_end < starts[1] < second_end + 3.0
    assert not np.any((loud > second_starts + 0.05) & (loud < second_end))

    metrics = json.loads((tmp_path / "m.json").read_text())
    assert len(metrics["turns"]) == 2
    for turn in metrics["turns"]:
        assert 0 < turn["e2e_latency"] < 3.0
        assert turn["stt_final"] is not None and turn["tts_first_audio"] is not None
    kinds = {m["type"] for m in metrics["metrics"]}
    assert {"stt_metrics", "tts_metrics", "llm_metrics", "eou_metrics"} <= kinds


@pytest.mark.realtime
async def test_two_utterances_two_replies(tmp_path):
    path, first, second, gap = write_two_utterances(tmp_path)
    options = RunOptions(
        input=path, out=tmp_path / "reply.wav", transcript=tmp_path / "t.jsonl", metrics=tmp_path / "m.json"
    )
    out = (tmp_path / "console.txt").open("w")
    with trio.fail_after(60):
        report = await run_file(options, out=out)
    out.close()
    check_two_replies(tmp_path, first, second, gap)
    assert report.usage["stt_audio_duration"] > 0
    console = (tmp_path / "console.txt").read_text()
    assert "latency per turn" in console and "e2e latency: median" in console


@pytest.mark.realtime
def test_fast_run_holds_the_same_conversation_in_less_than_real_time(tmp_path):
    # `voxtrio run --fast`: idle time is skipped, the engines' work is not, so the
    # conversation, its timeline and the latency table match a real-time run.
    path, first, second, gap = write_two_utterances(tmp_path)
    duration = (len(first) + len(second)) / RATE + 0.5 + gap + 1.5
    options = RunOptions(
        input=path, out=tmp_path / "reply.wav", transcript=tmp_path / "t.jsonl",
        metrics=tmp_path / "m.json", fast=True,
    )

    async def bounded_run() -> None:
        # Virtual on this clock, but it cannot jump while an engine holds it: a stuck
        # worker fails after 60 real seconds, a stuck session at once.
        with trio.fail_after(60):
            await run_file(options, out=console)

    console = io.StringIO()
    started = time.perf_counter()
    trio.run(bounded_run, clock=fast_clock_if(True))  # the clock `voxtrio run --fast` uses
    took = time.perf_counter() - started
    check_two_replies(tmp_path, first, second, gap)
    printed = console.getvalue()
    assert "e2e latency: median" in printed and "x real time" in printed
    # Engine start-up (~1.5 s) plus the engines' compute (~1/3 of the audio here).
    print(f"fast run: {duration:.1f} s of audio in {took:.1f} s")
    assert took < duration, (took, duration)


def test_fast_needs_the_fast_forward_clock(tmp_path):
    path, *_ = write_two_utterances(tmp_path)
    with pytest.raises(ValueError, match="FastForwardClock"):
        trio.run(run_file, RunOptions(input=path, fast=True))


def test_fast_and_realtime_do_not_mix(tmp_path, monkeypatch, capsys):
    path, *_ = write_two_utterances(tmp_path)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    assert main(["run", str(path), "--fast", "--realtime"]) == 2
    assert "--fast cannot be combined with --realtime" in capsys.readouterr().err


@pytest.mark.realtime
def test_fast_run_with_an_llm_over_http(tmp_path):
    # The HTTP wait holds the clock too: the scripted server's chunks arrive in order
    # and the reply is spoken, on the fast clock.
    audio = np.concatenate([silence(0.5), read("s05.wav"), silence(4.0)])
    path = tmp_path / "one.wav"
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(RATE)
        w.writeframes(audio.tobytes())
    reply = "Music is playing in the living room now."

    async def main():
        script = [ScriptedReply(chunks=text_chunks(reply), usage=(30, 9), delay=0.05)]
        async with serve_chat_completions(script) as server:
            options = RunOptions(
                input=path, transcript=tmp_path / "t.jsonl", metrics=tmp_path / "m.json",
                llm_url=server.base_url, model="scripted", fast=True,
            )
            with trio.fail_after(60):
                await run_file(options, out=io.StringIO())
            return server.requests

    requests = trio.run(main, clock=fast_clock_if(True))
    assert len(requests) == 1 and requests[0]["model"] == "scripted"
    assert "music" in requests[0]["messages"][-1]["content"]
    items = [json.loads(line) for line in (tmp_path / "t.jsonl").read_text().splitlines()]
    assert [i["role"] for i in items] == ["user", "assistant"]
    assert items[1]["text"] == reply and not items[1]["interrupted"]
    metrics = json.loads((tmp_path / "m.json").read_text())
    llm = [m for m in metrics["metrics"] if m["type"] == "llm_metrics"]
    assert llm and llm[0]["completion_tokens"] == 9 and llm[0]["ttft"] >= 0.05
