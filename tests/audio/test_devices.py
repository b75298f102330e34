"""Sound-card support: clear errors without PortAudio or a card, and the device source
and sink driven by a fake `sounddevice` module whose callbacks run on real threads.

Rules: no real audio hardware is needed (CI has none). Tests that involve threads run on
trio's real clock, every wait bounded by `trio.fail_after`.
"""

from __future__ import annotations

import io
import subprocess
import sys
import threading
import types
from typing import Any

import numpy as np
import pytest
import trio

from voxtrio import cli
from voxtrio.audio import devices
from voxtrio.audio.devices import (
    AudioDeviceError,
    NoAudioDevice,
    PortAudioMissing,
    SoundDeviceMissing,
    list_devices,
    resolve_device,
)
from voxtrio.audio.frame import AudioFrame
from voxtrio.audio.sinks import DeviceSink
from voxtrio.audio.sources import DeviceSource

# -- a fake sounddevice ---------------------------------------------------------------------


class FakeFlags:
    def __init__(self, input_overflow: bool = False) -> None:
        self.input_overflow = input_overflow

    def __bool__(self) -> bool:
        return self.input_overflow


class FakeStream:
    def __init__(self, sd: FakeSoundDevice, kind: str, **kwargs: Any) -> None:
        self.sd = sd
        self.kind = kind
        self.kwargs = kwargs
        self.callback = kwargs["callback"]
        self.finished_callback = kwargs.get("finished_callback")
        self.started = self.closed = False
        sd.streams.append(self)
        if sd.refuse:
            raise sd.PortAudioError("Invalid sample rate [PaErrorCode -9997]")

    def start(self) -> None:
        self.started = True

    def stop(self) -> None:
        self.started = False
        if self.finished_callback is not None:
            self.finished_callback()

    def close(self) -> None:
        self.closed = True

    # Test drivers, called like PortAudio would: from another thread.
    def capture(self, blocks: list[np.ndarray], overflow_at: int = -1) -> None:
        def run() -> None:
            for k, block in enumerate(blocks):
                self.callback(block, block.shape[0], None, FakeFlags(k == overflow_at))

        thread = threading.Thread(target=run)
        thread.start()
        thread.join()

    def pull(self, frames: int) -> np.ndarray:
        out = np.full((frames, self.kwargs["channels"]), 12345, dtype=np.int16)
        thread = threading.Thread(target=self.callback, args=(out, frames, None, FakeFlags()))
        thread.start()
        thread.join()
        return out


class FakeSoundDevice(types.ModuleType):
    class PortAudioError(Exception):
        pass

    def __init__(self, device_list: list[dict[str, Any]], default: tuple[int, int]) -> None:
        super().__init__("sounddevice")
        self.device_list = device_list
        self.default = types.SimpleNamespace(device=list(default))
        self.streams: list[FakeStream] = []
        self.refuse = False

    def query_devices(self, device: Any = None, kind: str | None = None) -> Any:
        if device is None and kind is None:
            return list(self.device_list)
        if device is None:
            device = self.default.device[0 if kind == "input" else 1]
        return self.device_list[device]

    def query_hostapis(self, index: int) -> dict[str, Any]:
        return {"name": "FakeALSA"}

    def InputStream(self, **kwargs: Any) -> FakeStream:  # noqa: N802 - sounddevice's name
        return FakeStream(self, "input", **kwargs)

    def OutputStream(self, **kwargs: Any) -> FakeStream:  # noqa: N802
        return FakeStream(self, "output", **kwargs)


def dev(index: int, name: str, ins: int, outs: int, rate: float = 48_000.0) -> dict[str, Any]:
    return {
        "index": index,
        "name": name,
        "hostapi": 0,
        "max_input_channels": ins,
        "max_output_channels": outs,
        "default_samplerate": rate,
    }


@pytest.fixture
def fake_sd(monkeypatch: pytest.MonkeyPatch) -> FakeSoundDevice:
    sd = FakeSoundDevice(
        [dev(0, "USB Mic", 1, 0, 16_000.0), dev(1, "HDMI Speakers", 0, 2, 44_100.0)], (0, 1)
    )
    monkeypatch.setattr(devices, "_import_module", lambda name: sd)
    return sd


def missing(exc: BaseException) -> Any:
    def load(name: str) -> types.ModuleType:
        raise exc

    return load


# -- errors and listing -------------------------------------------------------------------------


def test_missing_portaudio_names_the_debian_package_and_the_extra(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(devices, "_import_module", missing(OSError("PortAudio library not found")))
    with pytest.raises(PortAudioMissing) as info:
        list_devices()
    assert "libportaudio2" in str(info.value)
    assert "voxtrio[audio]" in str(info.value)


def test_missing_sounddevice_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(devices, "_import_module", missing(ImportError("No module named x")))
    with pytest.raises(SoundDeviceMissing, match=r"pip install 'voxtrio\[audio\]'"):
        list_devices()


def test_list_devices_reports_channels_and_defaults(fake_sd: FakeSoundDevice) -> None:
    mic, speakers = list_devices()
    assert (mic.name, mic.max_input_channels, mic.is_default_input) == ("USB Mic", 1, True)
    assert (speakers.hostapi, speakers.is_default_output) == ("FakeALSA", True)
    assert not mic.is_default_output


def test_resolve_device_explains_what_exists(fake_sd: FakeSoundDevice) -> None:
    assert resolve_device("usb", "input") == 0
    assert resolve_device(None, "output") is None
    with pytest.raises(NoAudioDevice, match="'USB Mic'"):
        resolve_device("webcam", "input")
    with pytest.raises(NoAudioDevice, match="not an input device"):
        resolve_device(1, "input")
    fake_sd.device_list = []
    fake_sd.default.device = [-1, -1]
    with pytest.raises(NoAudioDevice, match="no audio input device found"):
        resolve_device(None, "input")


def test_cli_devices_without_portaudio_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(devices, "_import_module", missing(OSError("PortAudio library not found")))
    assert cli.main(["devices"]) == 1
    err = capsys.readouterr().err
    assert "apt-get install libportaudio2" in err and "voxtrio[audio]" in err


def test_cli_devices_lists_devices_or_says_there_are_none(fake_sd: FakeSoundDevice) -> None:
    out = io.StringIO()
    assert cli.cmd_devices(cli.build_parser().parse_args(["devices"]), out=out) == 0
    assert "USB Mic" in out.getvalue() and "HDMI Speakers" in out.getvalue()
    fake_sd.device_list = []
    out = io.StringIO()
    assert cli.cmd_devices(cli.build_parser().parse_args(["devices"]), out=out) == 0
    assert "No audio devices found" in out.getvalue()


def test_python_m_voxtrio_devices_on_this_machine() -> None:
    # Whatever this machine has, the command must either list devices or explain.
    result = subprocess.run(
        [sys.executable, "-m", "voxtrio", "devices"], capture_output=True, text=True, timeout=60
    )
    if result.returncode == 0:
        assert "No audio devices found" in result.stdout or "index" in result.stdout
    else:
        assert result.returncode == 1
        assert "libportaudio2" in result.stderr and "voxtrio[audio]" in result.stderr
        assert "Traceback" not in result.stderr


# -- DeviceSource ------------------------------------------------------------------------------


async def test_device_source_hands_frames_from_the_audio_thread(fake_sd: FakeSoundDevice) -> None:
    with trio.fail_after(10):
        async with DeviceSource(sample_rate=16_000, block=0.02) as source:
            (stream,) = fake_sd.streams
            assert stream.started and stream.kwargs["blocksize"] == 320
            assert stream.kwargs["dtype"] == "int16" and stream.kwargs["device"] is None
            blocks = [np.full((320, 1), k, np.int16) for k in range(3)]
            await trio.to_thread.run_sync(stream.capture, blocks)
            frames = [await source.read() for _ in range(3)]
        assert stream.closed
    assert [f.pts for f in frames if f] == [0.0, 0.02, 0.04]
    assert [int(f.data[0, 0]) for f in frames if f] == [0, 1, 2]
    assert await source.read() is None  # closed: end of stream


async def test_device_source_drops_oldest_when_consumer_is_behind(
    fake_sd: FakeSoundDevice,
) -> None:
    with trio.fail_after(10):
        async with DeviceSource(block=0.01, buffer_frames=5) as source:
            (stream,) = fake_sd.streams
            blocks = [np.full((160, 1), k, np.int16) for k in range(20)]
            await trio.to_thread.run_sync(stream.capture, blocks, 3)
            got = [await source.read() for _ in range(5)]
            stats = source.statistics()
    assert [int(f.data[0, 0]) for f in got if f] == [15, 16, 17, 18, 19]  # the newest
    assert got[0] is not None and got[0].pts == pytest.approx(0.15)  # capture clock kept
    assert (stats.dropped, stats.frames, stats.overflows) == (15, 5, 1)


async def test_device_source_reports_a_stream_that_dies_and_can_reopen(
    fake_sd: FakeSoundDevice,
) -> None:
    source = DeviceSource(block=0.01)
    with trio.fail_after(10):
        async with source:
            (stream,) = fake_sd.streams
            await trio.to_thread.run_sync(stream.capture, [np.zeros((160, 1), np.int16)])
            await trio.to_thread.run_sync(stream.finished_callback)
            assert await source.read() is not None  # audio captured before the failure
            with pytest.raises(AudioDeviceError, match="stopped"):
                await source.read()
        # A supervisor restarting the mic reopens the same source: a new stream, pts on.
        async with source:
            old, new = fake_sd.streams
            await trio.to_thread.run_sync(old.capture, [np.ones((160, 1), np.int16)])
            await trio.to_thread.run_sync(new.capture, [np.full((160, 1), 2, np.int16)])
            frame = await source.read()
    assert frame is not None and int(frame.data[0, 0]) == 2  # the dead stream is ignored
    assert frame.pts == pytest.approx(0.01)


async def test_device_source_open_errors_are_clear(
    fake_sd: FakeSoundDevice, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_sd.refuse = True
    with pytest.raises(AudioDeviceError, match="could not open audio input device.*Invalid"):
        await DeviceSource().aopen()
    fake_sd.device_list = []
    with pytest.raises(NoAudioDevice, match="voxtrio devices"):
        await DeviceSource().aopen()
    monkeypatch.setattr(devices, "_import_module", missing(OSError("PortAudio library not found")))
    with pytest.raises(PortAudioMissing, match="libportaudio2"):
        await DeviceSource().aopen()


# -- DeviceSink ------------------------------------------------------------------------------------


def tone_frame(value: int, n: int, rate: int = 44_100) -> AudioFrame:
    return AudioFrame.from_array(np.full(n, value, np.int16), rate)


async def test_device_sink_feeds_the_callback_and_clears_on_demand(
    fake_sd: FakeSoundDevice,
) -> None:
    with trio.fail_after(10):
        async with DeviceSink() as sink:
            assert sink.paced and sink.sample_rate == 44_100  # the device's default rate
            (stream,) = fake_sd.streams
            for k in (1, 2, 3):
                await sink.write(tone_frame(k, 160))
            out = await trio.to_thread.run_sync(stream.pull, 200)
            assert out[:160, 0].tolist() == [1] * 160 and out[160:, 0].tolist() == [2] * 40
            assert sink.buffered == 280
            assert sink.clear() == 280  # what an interrupted Playout subtracts
            out = await trio.to_thread.run_sync(stream.pull, 100)
            assert not out.any()  # silence, not stale audio
            await sink.write(tone_frame(4, 50))
            out = await trio.to_thread.run_sync(stream.pull, 100)
            assert out[:50, 0].tolist() == [4] * 50 and not out[50:].any()
            stats = sink.statistics()
    assert (stats.cleared_samples, stats.underruns, stats.samples) == (280, 1, 530)


async def test_device_sink_bounds_its_buffer(fake_sd: FakeSoundDevice) -> None:
    with trio.fail_after(10):
        async with DeviceSink(sample_rate=8_000, max_buffer=0.05) as sink:
            for k in range(5):
                await sink.write(tone_frame(k, 160, rate=8_000))
            assert sink.buffered <= 400
            assert sink.statistics().dropped_samples == 480
            (stream,) = fake_sd.streams
            out = await trio.to_thread.run_sync(stream.pull, 160)
    assert out[0, 0] == 3  # the oldest audio went first
