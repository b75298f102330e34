"""`voxtrio console` without a sound card: the test kit's fakes on virtual time.

The scripted user speaks "book a table" at 0.5-2.5 s; the fake LLM answers, the fake TTS
speaks 2 s of audio. The live view writes to a StringIO (plain lines, or the TTY form).
"""

import io
import signal

import numpy as np
import pytest
import trio

from voxtrio import cli
from voxtrio.app.console import Console, MeteredSource, format_usage, frame_dbfs
from voxtrio.app.live_view import LiveView, level_bar
from voxtrio.audio.frame import AudioFrame
from voxtrio.audio.levels import DBFS_FLOOR, measure
from voxtrio.audio.sinks import MemorySink
from voxtrio.audio.sources import MemorySource
from voxtrio.engines.fake import FakeTTS
from voxtrio.engines.fake_llm import FakeLLM, FakeLLMResponse
from voxtrio.metrics.usage import UsageSummary
from voxtrio.testing.user import ScriptedUser

REPLY = "For how many people?"


def make_console(out: io.StringIO, *, tty: bool = False, handle_sigint: bool = False) -> Console:
    user = ScriptedUser().says("book a table", at=0.5, duration=2.0, stt_delay=0.2)
    return Console(
        audio_in=user.source(length=10.0),
        audio_out=MemorySink(24_000),
        vad=user.vad(),
        stt=user.stt(),
        llm=FakeLLM([FakeLLMResponse(input="book a table", content=REPLY, ttft=0.1, duration=0.3)]),
        tts=FakeTTS(ttfb=0.2, audio_duration=2.0),
        out=out,
        tty=tty,
        refresh_every=0.1,
        handle_sigint=handle_sigint,
    )


def meter_levels(text: str) -> list[tuple[float, str]]:
    """(t, bar) of every `mic [...]` line of the plain view."""
    rows = []
    for line in text.splitlines():
        if "] mic [" in line:
            stamp, rest = line.split("] mic ", 1)
            rows.append((float(stamp.strip("[ s")), rest.split("]")[0] + "]"))
    return rows


async def test_plain_view_shows_the_conversation_and_stop_closes_cleanly(autojump_clock):
    out = io.StringIO()
    console = make_console(out)
    closes = []
    console.session.on("close", closes.append)
    async with trio.open_nursery() as nursery:
        reports = []

        async def run() -> None:
            reports.append(await console.run())

        nursery.start_soon(run)
        await console.listening.wait()
        await trio.sleep(8.0)  # the turn is over by 5.5 s
        console.stop()
    text = out.getvalue()
    assert "\x1b" not in text and "\r" not in text  # not a TTY: no control codes
    assert "you (forming): book" in text  # the interim transcript
    assert "you said: book a table" in text
    assert f"agent: {REPLY}" in text
    assert "agent: listening -> thinking" in text
    assert "agent: thinking -> speaking" in text
    assert "user: listening -> speaking" in text
    assert "latency: 1000 ms from the end of speech to the first agent audio" in text
    assert "(VAD end 500, STT final 200, end of turn 500, LLM 1st token 600, TTS 1st audio 1000 ms)" in text
    # The meter: empty bar in silence, risen while the user spoke (a 0.3 tone: -13.5 dBFS),
    # empty again after.
    levels = meter_levels(text)
    assert levels[0][1] == level_bar(DBFS_FLOOR)
    speaking = [bar for t, bar in levels if 0.6 <= t <= 2.5]
    assert speaking and speaking[0].count("#") == round((60 - 13.5) / 60 * 20)
    assert any(t >= 2.5 and bar == level_bar(DBFS_FLOOR) for t, bar in levels)
    # Stopped: the session closed, then the summary.
    assert [str(ev.reason) for ev in closes] == ["user_initiated"]
    assert "closing the session" in text
    summary = text[text.index("session closed (user_initiated)") :]
    assert "latency per turn" in summary and "book a table" in summary
    assert summary.rstrip().splitlines()[-1].startswith("usage: LLM ")
    assert "TTS 20 characters" in summary
    report = reports[0]
    assert report.close_reason == "user_initiated"
    assert len(report.turns) == 1 and report.turns[0].e2e_latency == pytest.approx(1.0, abs=0.03)
    assert report.usage.tts_characters_count == len(REPLY)


async def test_sigint_closes_the_session_and_prints_the_usage(autojump_clock):
    out = io.StringIO()
    console = make_console(out, handle_sigint=True)
    closes = []
    console.session.on("close", closes.append)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(console.run)
        await console.listening.wait()
        await trio.sleep(6.0)
        signal.raise_signal(signal.SIGINT)  # Ctrl-C: trio's receiver takes it, no KeyboardInterrupt
    text = out.getvalue()
    assert "Ctrl-C: closing the session" in text
    assert len(closes) == 1 and str(closes[0].reason) == "user_initiated"
    assert "session closed (user_initiated)" in text
    assert "usage: LLM " in text
    assert "e2e latency: median 1000 ms" in text


async def test_tty_view_redraws_a_status_line_in_place(autojump_clock):
    out = io.StringIO()
    console = make_console(out, tty=True)
    console.view.width = 200
    async with trio.open_nursery() as nursery:
        nursery.start_soon(console.run)
        await console.listening.wait()
        await trio.sleep(1.5)
        during = out.getvalue()
        await trio.sleep(6.0)
        console.stop()
    text = out.getvalue()
    redraws = during.split("\r\x1b[K")
    assert len(redraws) >= 4  # redrawn in place at each change: states, meter, transcript
    status = redraws[-1]
    assert "agent: listening" in status and "user: speaking" in status
    assert "mic [" in status and "-13 dBFS" in status
    assert "\n" not in status  # the status line is never a new line
    # Permanent lines are written over the status line, then it is redrawn.
    assert f"\r\x1b[K[  5.480 s] agent: {REPLY}\n\r\x1b[Kagent: speaking" in text
    assert "last turn 1000 ms" in text
    assert "you: book" in text  # the forming transcript shows in the status line
    assert "| agent: " + REPLY.split()[0] in text  # the agent's words as they are heard
    # The summary starts on a cleared line, with no status line after it.
    assert "\r\x1b[Ksession closed (user_initiated)\n" in text
    assert text.rstrip().splitlines()[-1].startswith("usage: LLM ")


async def test_metered_source_passes_frames_through_and_measures_them():
    loud = np.full(320, 16384, np.int16)  # half scale: -6.02 dBFS
    quiet = np.zeros(320, np.int16)
    source = MemorySource(np.concatenate([quiet, loud, quiet]), sample_rate=16_000, realtime=False)
    mic = MeteredSource(source)
    assert (mic.sample_rate, mic.num_channels) == (16_000, 1)
    seen = []
    async with mic:
        async for frame in mic:
            seen.append((frame, mic.level_dbfs))
    assert [round(db, 2) for _, db in seen] == [DBFS_FLOOR, -6.02, DBFS_FLOOR]
    assert mic.take_level() == pytest.approx(-6.02, abs=0.01)  # the loudest since the last take
    assert mic.take_level() == DBFS_FLOOR
    assert mic.statistics().frames == 3


def test_frame_dbfs_matches_measure_without_overflow():
    rng = np.random.default_rng(1)
    samples = rng.integers(-32768, 32767, size=(480, 2), dtype=np.int16)
    frame = AudioFrame(samples, 48_000, 0.0)
    assert frame_dbfs(frame) == pytest.approx(measure(frame).rms_dbfs, abs=1e-9)


def test_level_bar_scale():
    assert level_bar(0.0) == "[" + "#" * 20 + "]"
    assert level_bar(-30.0) == "[" + "#" * 10 + "." * 10 + "]"
    assert level_bar(-90.0) == "[" + "." * 20 + "]"


def test_format_usage():
    usage = UsageSummary(llm_prompt_tokens=12, llm_completion_tokens=5, tts_characters_count=20,
                         tts_audio_duration=2.0, stt_audio_duration=9.5)
    assert format_usage(usage) == (
        "usage: LLM 12 prompt (0 cached) + 5 completion tokens; TTS 20 characters, 2.0 s of "
        "audio; STT 9.5 s of audio"
    )


def test_live_view_asks_the_stream_whether_it_is_a_tty():
    assert LiveView(io.StringIO()).tty is False


def test_cli_console_without_portaudio_exits_1_with_the_install_hint(capsys):
    status = cli.main(["console"])
    err = capsys.readouterr().err
    assert status == 1
    assert err.startswith("voxtrio: ")
    assert "libportaudio2" in err and "voxtrio[audio]" in err


def missing(error):
    def import_module(name):
        raise error

    return import_module


@pytest.mark.parametrize(
    ("error", "says"),
    [
        (ImportError("No module named 'sounddevice'"), "pip install 'voxtrio[audio]'"),
        (OSError("PortAudio library not found"), "apt-get install libportaudio2"),
    ],
)
def test_cli_console_says_what_to_install(monkeypatch, capsys, error, says):
    from voxtrio.audio import devices

    monkeypatch.setattr(devices, "_import_module", missing(error))
    assert cli.main(["console"]) == 1
    err = capsys.readouterr().err
    assert says in err and "libportaudio2" in err and "voxtrio[audio]" in err


def test_cli_console_without_a_sound_card_says_so(monkeypatch, capsys):
    import types

    from voxtrio.audio import devices

    no_card = types.SimpleNamespace(
        query_devices=lambda *a: [], default=types.SimpleNamespace(device=[-1, -1])
    )
    monkeypatch.setattr(devices, "_import_module", lambda name: no_card)
    assert cli.main(["console", "--input-device", "1"]) == 1
    err = capsys.readouterr().err
    assert "no audio input device found" in err and "voxtrio devices" in err


def test_cli_console_llm_needs_model(capsys):
    assert cli.main(["console", "--llm", "http://127.0.0.1:1/v1"]) == 2
    assert "--model" in capsys.readouterr().err


@pytest.mark.realtime
def test_cli_console_on_the_embedded_engines_until_ctrl_c(monkeypatch):
    """`voxtrio console` end to end (real engines, real time) with a WAV as the microphone.

    The sound card is swapped for a WAV source and a memory sink; Ctrl-C is a real SIGINT,
    sent once the first turn's latency line is on screen.
    """
    import os
    import threading
    from pathlib import Path

    import voxtrio.app.console as console_module
    from voxtrio.audio import sinks, sources

    fixture = Path(__file__).parent.parent / "fixtures" / "speech" / "s03.wav"  # "... timer ..."
    speaker = MemorySink()
    monkeypatch.setattr(console_module, "check_audio_devices", lambda *_: None)
    monkeypatch.setattr(
        sources, "DeviceSource", lambda device, sample_rate: sources.WavFileSource(fixture)
    )
    monkeypatch.setattr(sinks, "DeviceSink", lambda device: speaker)
    out, err = io.StringIO(), io.StringIO()
    done = threading.Event()

    def press_ctrl_c() -> None:
        for _ in range(1200):  # at most 60 s: then Ctrl-C anyway, the asserts will say why
            if "latency:" in out.getvalue() or done.wait(0.05):
                break
        if not done.is_set():
            os.kill(os.getpid(), signal.SIGINT)

    presser = threading.Thread(target=press_ctrl_c)
    presser.start()
    try:
        status = cli.cmd_console(cli.build_parser().parse_args(["console"]), out=out, err=err)
    finally:
        done.set()
        presser.join()
    text = out.getvalue()
    assert status == 0, err.getvalue()
    assert "timer" in text.split("you said:", 1)[1].splitlines()[0]
    replies = [line for line in text.splitlines() if "] agent: " in line and "->" not in line]
    assert len(replies) == 1 and "I would set that timer" in replies[0]
    assert "latency:" in text and "Ctrl-C: closing the session" in text
    assert "session closed (user_initiated)" in text and "usage: LLM " in text
    assert speaker.duration > 0.5


class BrokenMic(MemorySource):
    """A microphone whose every read fails (an unplugged card)."""

    async def read(self):
        raise OSError("the microphone was unplugged")


async def test_a_session_that_fails_for_good_ends_the_console_with_reason_error(autojump_clock):
    out = io.StringIO()
    user = ScriptedUser()
    console = Console(
        audio_in=BrokenMic(np.zeros(16_000, np.int16), sample_rate=16_000),
        audio_out=MemorySink(24_000),
        vad=user.vad(),
        stt=user.stt(),
        llm=FakeLLM(),
        tts=FakeTTS(),
        out=out,
        tty=False,
        handle_sigint=False,
    )
    with trio.fail_after(60):
        report = await console.run()  # nobody calls stop(): the session closes by itself
    text = out.getvalue()
    assert report.close_reason == "error"
    assert "recoverable error in mic: OSError: the microphone was unplugged" in text
    assert "session closed (error: " in text and "usage: LLM " in text


async def test_a_second_ctrl_c_stops_waiting_for_the_close(autojump_clock):
    out = io.StringIO()
    console = make_console(out, handle_sigint=True)
    closes = []
    console.session.on("close", closes.append)

    async def slow_goodbye() -> None:
        await trio.sleep(4.0)  # a shutdown callback that takes its time (close_timeout 5 s)

    console.session.add_shutdown_callback(slow_goodbye)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(console.run)
        await console.listening.wait()
        await trio.sleep(1.0)
        signal.raise_signal(signal.SIGINT)
        await trio.sleep(1.0)
        t = trio.current_time()
        signal.raise_signal(signal.SIGINT)
    assert trio.current_time() - t < 0.1  # did not wait out the shutdown callback
    text = out.getvalue()
    assert "session closed (user_initiated) after a second Ctrl-C" in text
    assert len(closes) == 1  # `close` is emitted even when cut short
    assert "usage: LLM " in text
