"""Scripted browser-protocol clients for `bench/serve.py` (one process, N clients on trio).

    python bench/_serve_client.py --port 8080 --clients 50 --duration 15 > result.json

Each client connects to ws://127.0.0.1:PORT/ws/browser, says `hello` (16 kHz PCM16),
waits for `ready`, then streams 20 ms PCM16 frames paced on its own clock (frame k is
due at t0 + k * 20 ms; a late frame is sent at once and its lateness recorded, never
skipped) for `duration` seconds: silence with a 1 s 440 Hz tone burst ("speech") every
`period` seconds, at a per-client random phase so bursts do not line up. It answers
`speech_done` and `clear` with `played`, counts replies, and measures on arrival:

* reply latency: from the end of a burst to the first audio frame of the next speech;
* playout lateness: for each reply audio frame, how much later it arrived than a
  player that started at the speech's first frame would need it (0 when on time): the
  underrun a page with no jitter buffer would hear.

Then it sends `bye`. Loopback only; every loop is bounded by the frame count or by
`trio.fail_after`. Prints one JSON object with the totals and percentiles on stdout.
"""

from __future__ import annotations

import argparse
import json
import random
import sys

import numpy as np
import trio
from trio_websocket import ConnectionClosed, open_websocket_url

RATE = 16_000
FRAME = 0.02
SAMPLES = int(RATE * FRAME)
BURST = 1.0  # seconds of tone per "utterance"


def _frames() -> tuple[bytes, bytes]:
    t = np.arange(SAMPLES) / RATE
    # 50 Hz per 20 ms: 440 Hz does not fit a whole number of cycles, the small phase step
    # between frames is inaudible to an energy VAD
    tone = (0.3 * 32767 * np.sin(2 * np.pi * 440.0 * t)).astype("<i2").tobytes()
    return tone, bytes(2 * SAMPLES)


TONE, SILENCE = _frames()


class ClientStats:
    """What one client saw."""

    def __init__(self) -> None:
        self.connected = False
        self.error = ""
        self.frames_sent = 0
        self.send_lateness: list[float] = []  # seconds, per frame
        self.bursts = 0
        self.replies = 0  # speech_done received
        self.speeches = 0
        self.clears = 0
        self.audio_frames = 0
        self.audio_seconds = 0.0
        self.reply_latency: list[float] = []
        self.playout_lateness: list[float] = []
        self.transcripts = 0


async def run_client(
    url: str, duration: float, period: float, rng: random.Random, stats: ClientStats
) -> None:
    burst_frames = round(BURST / FRAME)
    period_frames = round(period / FRAME)
    phase = rng.randrange(period_frames)
    total = round(duration / FRAME)
    last_burst_end: list[float] = [0.0]
    out_rate = [RATE]
    speech: dict[str, float] = {}  # start time and audio seconds of the current speech

    async with open_websocket_url(url, message_queue_size=256) as ws:
        await ws.send_message(json.dumps({"type": "hello", "sample_rate": RATE, "format": "pcm16"}))
        with trio.fail_after(10):
            ready = json.loads(await ws.get_message())
        if ready.get("type") != "ready":
            raise RuntimeError(f"expected ready, got {ready}")
        out_rate[0] = int(ready.get("sample_rate", RATE))
        stats.connected = True

        reader_done = trio.Event()

        async def reader() -> None:
            try:
                await read_events()
            finally:
                reader_done.set()

        async def read_events() -> None:
            current = ""
            while True:
                try:
                    message = await ws.get_message()
                except ConnectionClosed:
                    return
                now = trio.current_time()
                if isinstance(message, bytes):
                    stats.audio_frames += 1
                    seconds = len(message) / 2 / out_rate[0]
                    if "start" not in speech:
                        speech["start"] = now
                        speech["audio"] = 0.0
                        if last_burst_end[0]:
                            stats.reply_latency.append(now - last_burst_end[0])
                    else:
                        due = speech["start"] + speech["audio"]
                        stats.playout_lateness.append(max(0.0, now - due))
                    speech["audio"] += seconds
                    stats.audio_seconds += seconds
                    continue
                event = json.loads(message)
                kind = event.get("type")
                if kind == "speech":
                    current = str(event.get("speech_id", ""))
                    speech.clear()
                    stats.speeches += 1
                elif kind in ("speech_done", "clear"):
                    position = int(1000 * speech.get("audio", 0.0))
                    if kind == "speech_done":
                        stats.replies += 1
                    else:
                        stats.clears += 1
                    speech.clear()
                    sid = str(event.get("speech_id") or current)
                    played = {"type": "played", "speech_id": sid, "position_ms": position}
                    try:
                        await ws.send_message(json.dumps(played))
                    except ConnectionClosed:  # the server closed after our bye
                        return
                elif kind == "transcript" and event.get("role") == "user" and event.get("final"):
                    stats.transcripts += 1

        async with trio.open_nursery() as nursery:
            nursery.start_soon(reader)
            t0 = trio.current_time()
            for k in range(total):
                due = t0 + k * FRAME
                await trio.sleep_until(due)
                stats.send_lateness.append(trio.current_time() - due)
                in_burst = (k + phase) % period_frames < burst_frames
                try:
                    await ws.send_message(TONE if in_burst else SILENCE)
                except ConnectionClosed as exc:
                    stats.error = f"closed by the server: {exc.reason}"
                    break
                stats.frames_sent += 1
                if in_burst and (k + phase + 1) % period_frames == burst_frames:
                    stats.bursts += 1
                    last_burst_end[0] = due + FRAME
            if not stats.error:
                try:
                    await ws.send_message(json.dumps({"type": "bye"}))
                except ConnectionClosed:
                    pass
            with trio.move_on_after(2.0):  # let the server close after bye
                await reader_done.wait()
            nursery.cancel_scope.cancel()


async def guarded(url: str, duration: float, period: float, seed: int, stats: ClientStats) -> None:
    try:
        with trio.fail_after(duration + 30):
            await run_client(url, duration, period, random.Random(seed), stats)
    except* (ConnectionClosed, OSError, RuntimeError, trio.TooSlowError) as group:
        if not stats.error:
            first = group.exceptions[0]
            stats.error = f"{type(first).__name__}: {first}"


def _p(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else 0.0


async def run_clients(
    port: int, clients: int, duration: float, period: float = 5.0, ramp: float = 2.0, seed: int = 1
) -> dict[str, object]:
    """Run `clients` clients (connects spread over `ramp` s); return the summary."""
    url = f"ws://127.0.0.1:{port}/ws/browser"
    all_stats = [ClientStats() for _ in range(clients)]
    async with trio.open_nursery() as nursery:
        for i, stats in enumerate(all_stats):
            nursery.start_soon(guarded, url, duration, period, seed * 100_003 + i, stats)
            await trio.sleep(ramp / max(1, clients))
    send_late = [x for s in all_stats for x in s.send_lateness]
    playout = [x for s in all_stats for x in s.playout_lateness]
    reply = [x for s in all_stats for x in s.reply_latency]
    replies = [s.replies for s in all_stats]
    return {
        "clients": clients,
        "connected": sum(s.connected for s in all_stats),
        "errors": [s.error for s in all_stats if s.error][:5],
        "error_count": sum(1 for s in all_stats if s.error),
        "frames_sent": sum(s.frames_sent for s in all_stats),
        "send_lateness_p99_ms": 1000 * _p(send_late, 99),
        "bursts": sum(s.bursts for s in all_stats),
        "replies": sum(replies),
        "replies_per_client_min": min(replies) if replies else 0,
        "replies_per_client_mean": sum(replies) / max(1, clients),
        "clears": sum(s.clears for s in all_stats),
        "transcripts": sum(s.transcripts for s in all_stats),
        "reply_audio_s": sum(s.audio_seconds for s in all_stats),
        "reply_latency_p50_ms": 1000 * _p(reply, 50),
        "reply_latency_p99_ms": 1000 * _p(reply, 99),
        "playout_lateness_p99_ms": 1000 * _p(playout, 99),
        "playout_lateness_max_ms": 1000 * max(playout, default=0.0),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--clients", type=int, default=10)
    parser.add_argument("--duration", type=float, default=15.0)
    parser.add_argument("--period", type=float, default=5.0)
    parser.add_argument("--ramp", type=float, default=2.0)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    result = trio.run(
        run_clients, args.port, args.clients, args.duration, args.period, args.ramp, args.seed
    )
    sys.stdout.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
