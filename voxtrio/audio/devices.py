"""Sound cards through sounddevice (optional extra ``voxtrio[audio]``), with clear errors.

    from voxtrio.audio.devices import list_devices
    for dev in list_devices():
        print(dev.index, dev.name, dev.max_input_channels, dev.max_output_channels)

Contract: `load_sounddevice()` imports the `sounddevice` module or raises an
`AudioBackendUnavailable` saying exactly what to install: the Python package comes with
``pip install 'voxtrio[audio]'``, and the PortAudio library it loads with the Debian /
Ubuntu package ``libportaudio2`` (``apt-get install libportaudio2``). `list_devices()`
returns every device PortAudio reports (possibly none: a container without a sound card
has none). `resolve_device()` turns a user's device choice into something PortAudio
accepts, or raises `NoAudioDevice` listing what exists.

Edge cases: sounddevice's own import raises OSError("PortAudio library not found") when
the library is missing; that becomes `PortAudioMissing`. A machine with PortAudio and no
card has an empty device list and a default device of -1; asking for the default device
there raises `NoAudioDevice`, not PortAudio's "Error querying device -1".
"""

from __future__ import annotations

import importlib
import logging
from types import ModuleType
from typing import Any, Literal

import attrs

__all__ = [
    "AudioBackendUnavailable",
    "AudioDeviceError",
    "DeviceInfo",
    "NoAudioDevice",
    "PortAudioMissing",
    "SoundDeviceMissing",
    "list_devices",
    "load_sounddevice",
    "resolve_device",
]

logger = logging.getLogger("voxtrio.audio")

#: What to tell users; one place so the CLI, sources and sinks say the same thing.
INSTALL_EXTRA_HINT = "install the optional extra with pip install 'voxtrio[audio]'"
INSTALL_PORTAUDIO_HINT = (
    "install it with `apt-get install libportaudio2` (Debian/Ubuntu) or "
    "`brew install portaudio` (macOS)"
)
NO_CARD_HINT = (
    "run `python -m voxtrio devices` to see what PortAudio finds; on a machine without a "
    "sound card use WavFileSource/WavFileSink or MemorySource/MemorySink instead"
)

DeviceKind = Literal["input", "output"]


class AudioDeviceError(RuntimeError):
    """Base class for every audio device problem (backend missing, no device, failed stream)."""


class AudioBackendUnavailable(AudioDeviceError):
    """sounddevice or the PortAudio library it needs cannot be loaded."""


class SoundDeviceMissing(AudioBackendUnavailable):
    """The Python package `sounddevice` is not installed."""


class PortAudioMissing(AudioBackendUnavailable):
    """`sounddevice` is installed but the PortAudio shared library is not."""


class NoAudioDevice(AudioDeviceError):
    """The requested input or output device does not exist (or there is none at all)."""


@attrs.frozen(slots=True)
class DeviceInfo:
    """One device as PortAudio reports it.

    `is_default_input` / `is_default_output` say whether PortAudio picks this device when
    no device is named.
    """

    index: int
    name: str
    hostapi: str
    max_input_channels: int
    max_output_channels: int
    default_samplerate: float
    is_default_input: bool = False
    is_default_output: bool = False


def load_sounddevice() -> ModuleType:
    """Import and return the `sounddevice` module, or raise an `AudioBackendUnavailable`.

        sd = load_sounddevice()

    Raises `SoundDeviceMissing` (the extra is not installed) or `PortAudioMissing` (the
    shared library is not installed); both messages say what to install.
    """
    try:
        return _import_module("sounddevice")
    except ImportError as exc:
        raise SoundDeviceMissing(
            f"audio devices need the 'sounddevice' package, which is not installed: "
            f"{INSTALL_EXTRA_HINT}; it also needs the PortAudio library "
            f"(apt-get install libportaudio2)"
        ) from exc
    except OSError as exc:
        # sounddevice raises OSError('PortAudio library not found') at import time.
        raise PortAudioMissing(
            f"audio devices need the PortAudio library, which was not found ({exc}): "
            f"{INSTALL_PORTAUDIO_HINT}; the Python side comes with "
            "pip install 'voxtrio[audio]'"
        ) from exc


def list_devices() -> list[DeviceInfo]:
    """Every device PortAudio reports, in PortAudio's order (empty without a sound card).

    Raises `AudioBackendUnavailable` when sounddevice or PortAudio is missing.
    """
    sd = load_sounddevice()
    raw: Any = sd.query_devices()
    default_in, default_out = _default_indices(sd)
    devices = []
    for position, entry in enumerate(raw):
        index = int(entry.get("index", position))
        devices.append(
            DeviceInfo(
                index=index,
                name=str(entry.get("name", "")),
                hostapi=_hostapi_name(sd, entry.get("hostapi")),
                max_input_channels=int(entry.get("max_input_channels", 0)),
                max_output_channels=int(entry.get("max_output_channels", 0)),
                default_samplerate=float(entry.get("default_samplerate", 0.0)),
                is_default_input=index == default_in,
                is_default_output=index == default_out,
            )
        )
    return devices


def resolve_device(device: int | str | None, kind: DeviceKind) -> int | str | None:
    """Check that `device` can serve as an `kind` device; return what to hand PortAudio.

        resolve_device(None, "input")     # the default input, if there is one

    `device` is None (the default device), an index, or a substring of a device name (as
    sounddevice accepts). Raises `NoAudioDevice` with the list of candidates when nothing
    matches, and `AudioBackendUnavailable` when the backend is missing.
    """
    devices = list_devices()
    usable = [
        d
        for d in devices
        if (d.max_input_channels if kind == "input" else d.max_output_channels) > 0
    ]
    if not usable:
        raise NoAudioDevice(
            f"no audio {kind} device found (PortAudio reports {len(devices)} device(s), "
            f"none with {kind} channels): {NO_CARD_HINT}"
        )
    if device is None:
        defaults = [
            d for d in usable if (d.is_default_input if kind == "input" else d.is_default_output)
        ]
        if not defaults:
            raise NoAudioDevice(
                f"there is no default audio {kind} device; name one of: {_describe(usable)}"
            )
        return None
    if isinstance(device, int):
        if any(d.index == device for d in usable):
            return device
        raise NoAudioDevice(
            f"audio device {device} is not an {kind} device; choose one of: {_describe(usable)}"
        )
    matches = [d for d in usable if device.lower() in d.name.lower()]
    if not matches:
        raise NoAudioDevice(
            f"no audio {kind} device matches {device!r}; choose one of: {_describe(usable)}"
        )
    return matches[0].index


def describe_device_error(exc: BaseException, kind: DeviceKind, device: object) -> str:
    """A user-facing sentence for an error PortAudio raised while opening a stream."""
    return f"could not open audio {kind} device {device!r}: {exc}; {NO_CARD_HINT}"


# -- helpers -------------------------------------------------------------------------


def _import_module(name: str) -> ModuleType:
    # Indirection so tests can simulate a missing package or library.
    return importlib.import_module(name)


def _default_indices(sd: Any) -> tuple[int, int]:
    try:
        pair = list(sd.default.device)
        return int(pair[0]), int(pair[1])
    except Exception:  # an odd backend: no defaults rather than a crash
        return -1, -1


def _hostapi_name(sd: Any, index: Any) -> str:
    if index is None:
        return ""
    try:
        return str(sd.query_hostapis(int(index))["name"])
    except Exception:
        return str(index)


def _describe(devices: list[DeviceInfo]) -> str:
    return ", ".join(f"{d.index}: {d.name!r}" for d in devices)
