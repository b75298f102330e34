"""The browser page end to end: headless Chromium, a WAV file as its microphone, the page
served by `voxtrio serve` in-process, an agent on the embedded engines behind /ws/browser.

Real time throughout (the engines run in worker processes): every wait is bounded, by
trio.fail_after on the trio side and Playwright timeouts on the browser side. Playwright's
sync API runs in a worker thread (it cannot run inside trio's thread).
"""

from __future__ import annotations

import json
import wave
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import trio

from voxtrio.app.brain import demo_brain
from voxtrio.app.run_file import EMBEDDED_VAD_OPTIONS
from voxtrio.engines.espeak import EspeakTTS
from voxtrio.engines.function_llm import FunctionLLM
from voxtrio.engines.pocketsphinx import PocketSphinxSTT
from voxtrio.engines.silero import SileroVAD
from voxtrio.serve.limits import ServerLimits
from voxtrio.serve.server import RunningServer, ServeOptions, serve
from voxtrio.session.agent import Agent
from voxtrio.session.session import AgentSession

REPO = Path(__file__).resolve().parents[2]
SPEECH = REPO / "tests" / "fixtures" / "speech" / "s02.wav"  # "what is the weather like today"
ARTIFACT = REPO / "artifacts" / "serve-page.png"

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
    "--autoplay-policy=no-user-gesture-required",
]


def fake_mic_wav(path: Path, *, lead: float = 1.0, tail: float = 9.0) -> Path:
    """The fixture question between silences; Chromium loops the file, so the tail gives
    the agent time to answer before the question comes again."""
    with wave.open(str(SPEECH)) as w:
        rate = w.getframerate()
        speech = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    pcm = np.concatenate(
        [np.zeros(int(lead * rate), "<i2"), speech, np.zeros(int(tail * rate), "<i2")]
    )
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.tobytes())
    return path


class EmbeddedFactory:
    """A session per connection on the embedded engines (as `voxtrio run` builds them)."""

    def __init__(self) -> None:
        self.engines: list[Any] = []

    async def __call__(self, info: Any) -> tuple[AgentSession, Agent]:
        stt = PocketSphinxSTT()
        tts = EspeakTTS()
        llm = FunctionLLM(demo_brain)
        self.engines += [stt, tts, llm]
        await stt.prewarm()
        await tts.prewarm()
        vad = SileroVAD(options=EMBEDDED_VAD_OPTIONS)
        return AgentSession(vad=vad, stt=stt, llm=llm, tts=tts), Agent("Answer briefly.")

    async def aclose(self) -> None:
        for engine in self.engines:
            with trio.move_on_after(5):
                await engine.aclose()


# The user's question is on the page, the agent's answer got as far as repeating "weather"
# (the assistant text follows playout), and at least 1.5 s of agent audio was played.
DONE = """() => {
  const v = window.voxtrio;
  const text = (role) => v.transcript.filter(t => t.role === role).map(t => t.text).join(" ");
  return /weather/i.test(text("user")) && /weather/i.test(text("assistant"))
    && v.readyRate && v.samplesPlayed >= 1.5 * v.readyRate;
}"""


def drive_browser(
    chromium: Path, url: str, mic: Path, shots: list[Path], done: str
) -> dict[str, Any]:
    """Open the page, press Start, wait until `done` holds; returns the page's counters."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright

    # Playwright starts Chromium on a fresh temporary profile of its own (no --user-data-dir)
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(chromium),
            args=[
                *CHROMIUM_FLAGS,
                f"--use-file-for-fake-audio-capture={mic}",
            ],
            timeout=30_000,
        )
        try:
            page = browser.new_page()
            console: list[str] = []
            page.on("console", lambda m: console.append(f"{m.type}: {m.text}"))
            page.goto(url, timeout=15_000)
            page.click("#start", timeout=5_000)
            # connected, or refused (closed / error): the test shows which
            page.wait_for_function(
                "() => !['idle', 'connecting'].includes(window.voxtrio.status)", timeout=20_000
            )
            timed_out = True  # the test fails below, with what the page did show
            if page.evaluate("() => window.voxtrio.status") == "connected":
                try:
                    page.wait_for_function(done, timeout=60_000, polling=200)
                    timed_out = False
                except PlaywrightTimeout:
                    pass
            for shot in shots:
                page.screenshot(path=str(shot), full_page=True)
            state: dict[str, Any] = page.evaluate("() => window.voxtrio")
            state["timed_out"] = timed_out
            state["shown"] = page.inner_text("#transcript")
            state["console"] = console
            if page.is_enabled("#stop"):
                page.click("#stop", timeout=5_000)
                state["status_after_stop"] = page.evaluate("() => window.voxtrio.status")
            return state
        finally:
            browser.close()


async def run_page(
    chromium: Path, mic: Path, shots: list[Path], done: str, *, token: str | None = None
) -> dict[str, Any]:
    """Serve on a free port, drive the page in a thread until `done`; the page's state.

    With `token`, the server requires it and the page is opened with `?token=`, which the
    page passes on to its socket."""
    factory = EmbeddedFactory()
    options = ServeOptions(port=0, limits=ServerLimits(shutdown_grace=2.0, token=token))
    query = "?processing=off" + (f"&token={token}" if token else "")
    try:
        with trio.fail_after(120):
            async with trio.open_nursery() as nursery:
                server: RunningServer = await nursery.start(
                    partial(serve, factory, options, handle_signals=False)
                )
                try:
                    state = await trio.to_thread.run_sync(
                        drive_browser,
                        chromium,
                        server.url + "/" + query,
                        mic,
                        shots,
                        done,
                        abandon_on_cancel=True,
                    )
                finally:
                    server.request_shutdown(immediately=True)
    finally:
        await factory.aclose()
    return state


async def test_page_talks_to_an_embedded_agent(chromium_path: Path, tmp_path: Path) -> None:
    mic = fake_mic_wav(tmp_path / "mic.wav")
    ARTIFACT.parent.mkdir(exist_ok=True)
    shots = [tmp_path / "serve-page.png", ARTIFACT]
    state = await run_page(chromium_path, mic, shots, DONE, token="page-secret")

    (tmp_path / "page-state.json").write_text(json.dumps(state, indent=2))
    # the page connected (its ?token= reached the socket) and stayed connected
    assert state["status"] == "connected", state
    assert not state["timed_out"], f"no full exchange within 60 s: {state}"
    # it streamed 20 ms frames and showed what pocketsphinx heard
    assert state["readyRate"] == 16_000
    assert state["framesSent"] >= 100  # at least 2 s of microphone
    assert state["levelPeak"] > 0.02  # the meter saw the speech
    assert "weather" in state["shown"].lower(), state["shown"]
    # the agent answered: text on the page, audio received and played by the worklet
    assert any(t["role"] == "assistant" for t in state["transcript"])
    assert "weather" in " ".join(t["text"] for t in state["transcript"] if t["role"] == "assistant")
    assert state["speeches"] >= 1
    assert state["bytesReceived"] >= 3 * state["readyRate"]  # >= 1.5 s of PCM16
    assert state["samplesPlayed"] >= 1.5 * state["readyRate"]  # >= 1.5 s played out
    assert state["status_after_stop"] == "closed"
    assert all(shot.stat().st_size > 0 for shot in shots)


# The agent was interrupted: the page got `clear`, acknowledged the position it had played,
# and the agent answered the repeated question with a new speech.
INTERRUPTED = """() => {
  const v = window.voxtrio;
  return v.clears >= 1 && v.clearAcks.length >= 1 && v.speeches >= 2;
}"""


async def test_page_clears_playback_on_barge_in(chromium_path: Path, tmp_path: Path) -> None:
    # the question comes back every 6.1 s, while the agent is still answering the last one
    mic = fake_mic_wav(tmp_path / "mic.wav", tail=3.0)
    state = await run_page(chromium_path, mic, [tmp_path / "barge-in.png"], INTERRUPTED)
    (tmp_path / "page-state.json").write_text(json.dumps(state, indent=2))
    assert not state["timed_out"], f"no interruption within 60 s: {state}"
    ack = state["clearAcks"][0]
    first = next(t for t in state["transcript"] if t["role"] == "assistant")
    assert ack["speech_id"] == "sp_1", ack
    # the acknowledged position is what was heard: some of the answer, not more than arrived
    assert 500 < ack["position_ms"] <= 1000 * state["bytesReceived"] / 2 / state["readyRate"]
    # and the page shows the answer cut where it was interrupted, not the whole reply
    assert first["text"].startswith("You said:"), first
    assert "kind to you today" not in first["text"], first
