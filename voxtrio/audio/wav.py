"""Read and write PCM16 WAV files (stdlib `wave` underneath).

    rate, channels, samples = read_wav("hello.wav")        # samples: (n, channels) int16
    for frame in iter_wav_frames("hello.wav", frame_duration=0.02):
        ...                                                  # AudioFrames, pts from 0.0
    with WavWriter("out.wav", sample_rate=16_000, num_channels=1) as wav:
        wav.write(frame)

Contract: only 16-bit integer PCM is accepted, plain or wrapped in
WAVE_FORMAT_EXTENSIBLE (which Python 3.11's `wave` alone refuses). Anything else —
8/24/32-bit PCM, IEEE float, A-law/μ-law, compressed formats — raises
`WavFormatError` naming the format and how to convert it. So does a truncated file
(a header that promises more sample data than the file holds, or a cut header).
A data chunk whose size is a streaming placeholder (programs that write WAV to a pipe,
such as `espeak-ng --stdout`, cannot know the size) is read up to the end of the file.

`WavWriter` rewrites the header after every `write`, so the file on disk is a valid
WAV at all times, even if the process dies before `close()`.
"""

from __future__ import annotations

import io
import os
import struct
import wave
from collections.abc import Iterable, Iterator
from typing import IO, Any, cast

import attrs
import numpy as np
import numpy.typing as npt

from voxtrio.audio.frame import AudioFormatError, AudioFrame

__all__ = [
    "WavFormatError",
    "WavInfo",
    "WavWriter",
    "iter_wav_frames",
    "read_wav",
    "read_wav_frame",
    "wav_info",
    "write_wav",
]

WavSource = str | os.PathLike[str] | IO[bytes]

# Data sizes at least this large are placeholders written by streaming producers.
_PLACEHOLDER_DATA_SIZE = 0x7FFF0000
_EXTENSIBLE = 0xFFFE
_FORMAT_NAMES = {
    3: "32/64-bit IEEE float",
    6: "A-law",
    7: "μ-law",
    0xFFFE: "WAVE_FORMAT_EXTENSIBLE",
}
_CONVERT_HINT = "convert it first, e.g. `sox in.wav -b 16 -e signed-integer out.wav`"


class WavFormatError(AudioFormatError):
    """A WAV file that is not 16-bit PCM, or is truncated or malformed."""


@attrs.frozen(slots=True)
class WavInfo:
    """What a PCM16 WAV header says. `samples_per_channel` is None for a streaming
    placeholder size (unknown until the file is read)."""

    sample_rate: int
    num_channels: int
    samples_per_channel: int | None

    @property
    def duration(self) -> float | None:
        """Length in seconds, if the header knows it."""
        if self.samples_per_channel is None:
            return None
        return self.samples_per_channel / self.sample_rate


def wav_info(source: WavSource) -> WavInfo:
    """Check a WAV file's header (PCM16 only, `WavFormatError` otherwise) without reading
    its samples: ``info = wav_info("hello.wav"); info.sample_rate, info.duration``.

    A file object is left where it was, so it can be read afterwards.
    """
    start = source.tell() if not isinstance(source, (str, os.PathLike)) else None
    try:
        with _open_reader(source) as reader:
            return WavInfo(reader.getframerate(), reader.getnchannels(), _declared_frames(reader))
    finally:
        if start is not None and not isinstance(source, (str, os.PathLike)):
            source.seek(start)


def read_wav(source: WavSource) -> tuple[int, int, npt.NDArray[np.int16]]:
    """Read a whole PCM16 WAV: `(sample_rate, num_channels, samples)`.

    `samples` is a read-only int16 array shaped `(samples_per_channel, num_channels)`.
    """
    with _open_reader(source) as reader:
        rate, channels = reader.getframerate(), reader.getnchannels()
        declared = _declared_frames(reader)
        raw = reader.readframes(declared if declared is not None else 2**31)
    _check_complete(raw, channels, declared, source)
    samples = np.frombuffer(raw, dtype="<i2").astype(np.int16, copy=False)
    return rate, channels, samples.reshape(-1, channels)


def read_wav_frame(source: WavSource, *, pts: float = 0.0) -> AudioFrame:
    """Read a whole PCM16 WAV as one `AudioFrame`."""
    rate, _channels, samples = read_wav(source)
    return AudioFrame(samples, rate, pts)


def iter_wav_frames(
    source: WavSource,
    frame_duration: float = 0.02,
    *,
    samples_per_frame: int | None = None,
    pts: float = 0.0,
) -> Iterator[AudioFrame]:
    """Yield a PCM16 WAV as frames of `frame_duration` seconds (or `samples_per_frame`).

    Every frame but the last has the same length; the last holds the remainder. `pts`
    counts samples from `pts` (default 0.0). The file stays open while iterating;
    close the generator (or exhaust it) to release it. A truncated file raises
    `WavFormatError` after the frames that were intact.
    """
    if samples_per_frame is not None and samples_per_frame <= 0:
        raise ValueError(f"samples_per_frame must be at least 1, got {samples_per_frame}")
    if samples_per_frame is None and not frame_duration > 0:
        raise ValueError(
            f"frame_duration must be a positive number of seconds, got {frame_duration}"
        )
    with _open_reader(source) as reader:
        rate, channels = reader.getframerate(), reader.getnchannels()
        size = samples_per_frame or max(1, round(frame_duration * rate))
        declared = _declared_frames(reader)
        done = 0
        while declared is None or done < declared:
            want = size if declared is None else min(size, declared - done)
            raw = reader.readframes(want)
            if len(raw) < want * 2 * channels:
                _check_complete(raw, channels, declared, source, already=done)
            if not raw:
                return
            samples = np.frombuffer(raw, dtype="<i2").astype(np.int16, copy=False)
            frame = AudioFrame(samples.reshape(-1, channels), rate, pts + done / rate)
            done += frame.samples_per_channel
            yield frame


class WavWriter:
    """Write frames to a PCM16 WAV file as they arrive.

        with WavWriter("out.wav", 16_000, num_channels=1) as wav:
            wav.write(frame)

    Every frame must match the writer's rate and channel count (`ValueError` otherwise).
    `close()` is idempotent; writing after it raises `ValueError`.
    """

    def __init__(self, destination: WavSource, sample_rate: int, num_channels: int = 1) -> None:
        if sample_rate <= 0:
            raise AudioFormatError(
                f"sample_rate must be a positive number of Hz, got {sample_rate}"
            )
        if num_channels <= 0:
            raise AudioFormatError(f"num_channels must be at least 1, got {num_channels}")
        self.sample_rate = sample_rate
        self.num_channels = num_channels
        self.samples_written = 0
        self._own_file: IO[bytes] | None = None
        if isinstance(destination, (str, os.PathLike)):
            self._own_file = open(destination, "wb")  # closed in close()
            target: IO[bytes] = self._own_file
        else:
            target = destination
        self._target = target
        self._writer: wave.Wave_write | None = wave.open(target, "wb")
        self._writer.setnchannels(num_channels)
        self._writer.setsampwidth(2)
        self._writer.setframerate(sample_rate)

    @property
    def duration(self) -> float:
        """Seconds of audio written so far."""
        return self.samples_written / self.sample_rate

    @property
    def closed(self) -> bool:
        return self._writer is None

    def write(self, frame: AudioFrame) -> None:
        """Append `frame`'s samples to the file."""
        if self._writer is None:
            raise ValueError("this WavWriter is closed; open a new one to write more")
        if frame.sample_rate != self.sample_rate:
            raise ValueError(
                f"frame sample rate {frame.sample_rate} Hz does not match the file's "
                f"{self.sample_rate} Hz; resample first (voxtrio.audio.resample)"
            )
        if frame.num_channels != self.num_channels:
            raise ValueError(
                f"frame has {frame.num_channels} channel(s) but the file has "
                f"{self.num_channels}; remix first (voxtrio.audio.mix)"
            )
        self._writer.writeframes(frame.to_bytes())  # also patches the header sizes
        self._target.flush()  # so readers see a complete file now, not at close
        self.samples_written += frame.samples_per_channel

    def close(self) -> None:
        """Finish the header and close the file (if this writer opened it)."""
        if self._writer is None:
            return
        writer, self._writer = self._writer, None
        try:
            writer.close()
        finally:
            if self._own_file is not None:
                self._own_file.close()

    def __enter__(self) -> WavWriter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def write_wav(destination: WavSource, frames: AudioFrame | Iterable[AudioFrame]) -> None:
    """Write one frame, or frames sharing a rate and channel count, to a new WAV file."""
    items = [frames] if isinstance(frames, AudioFrame) else list(frames)
    if not items:
        raise ValueError("no frames to write: a WAV file needs a sample rate and channel count")
    with WavWriter(destination, items[0].sample_rate, items[0].num_channels) as writer:
        for frame in items:
            writer.write(frame)


class _Reader:
    """A `wave.Wave_read` plus the file it opened, closed together."""

    def __init__(self, reader: wave.Wave_read, own_file: IO[bytes] | None) -> None:
        self.reader = reader
        self.own_file = own_file

    def __enter__(self) -> wave.Wave_read:
        return self.reader

    def __exit__(self, *exc_info: object) -> None:
        try:
            self.reader.close()
        finally:
            if self.own_file is not None:
                self.own_file.close()


def _open_reader(source: WavSource) -> _Reader:
    own_file: IO[bytes] | None = None
    if isinstance(source, (str, os.PathLike)):
        own_file = open(source, "rb")  # closed by _Reader
        handle: IO[bytes] = own_file
    else:
        handle = source
    try:
        reader = _open_wave(handle, _name(source))
    except EOFError as exc:
        _close(own_file)
        raise WavFormatError(
            f"{_name(source)}: truncated WAV header (the file ends inside it)"
        ) from exc
    except wave.Error as exc:
        _close(own_file)
        raise WavFormatError(f"{_name(source)}: {_explain(str(exc))}") from exc
    except BaseException:
        _close(own_file)
        raise
    width = reader.getsampwidth()
    if width != 2:
        reader.close()
        _close(own_file)
        raise WavFormatError(
            f"{_name(source)}: {8 * width}-bit PCM is not supported, only 16-bit PCM; "
            + _CONVERT_HINT
        )
    return _Reader(reader, own_file)


def _open_wave(handle: IO[bytes], name: str) -> wave.Wave_read:
    start = handle.tell() if handle.seekable() else None
    try:
        return wave.open(handle, "rb")
    except wave.Error as exc:
        if str(exc) != f"unknown format: {_EXTENSIBLE}" or start is None:
            raise
    # Python 3.11's wave refuses WAVE_FORMAT_EXTENSIBLE even when it wraps plain PCM16
    # (ffmpeg and sox write it for more than two channels): check the sub-format, then
    # let wave read the file through a view that shows the PCM tag instead.
    handle.seek(start)
    tag_offset = _extensible_pcm16_tag(handle, name)
    handle.seek(start)
    return wave.open(cast(IO[bytes], _TagPatch(handle, tag_offset)), "rb")


def _extensible_pcm16_tag(handle: IO[bytes], name: str) -> int:
    """Offset of the format tag of a WAVE_FORMAT_EXTENSIBLE PCM16 file, else raise."""
    base = handle.tell()
    handle.read(12)  # RIFF, size, WAVE: checked by wave already
    while True:
        header = handle.read(8)
        if len(header) < 8:
            raise WavFormatError(f"{name}: truncated WAV header (the file ends inside it)")
        chunk_name, size = header[:4], struct.unpack("<I", header[4:])[0]
        if chunk_name == b"fmt ":
            break
        handle.seek(size + (size & 1), io.SEEK_CUR)
    offset = handle.tell() - base
    fmt = handle.read(min(size, 40))
    if len(fmt) < 26:
        raise WavFormatError(f"{name}: truncated WAV header (the fmt chunk is cut short)")
    bits = struct.unpack_from("<H", fmt, 14)[0]
    sub_format = struct.unpack_from("<H", fmt, 24)[0]
    if sub_format == 1 and bits == 16:
        return offset
    kind = f"{bits}-bit PCM" if sub_format == 1 else _FORMAT_NAMES.get(sub_format, "compressed")
    raise WavFormatError(
        f"{name}: WAVE_FORMAT_EXTENSIBLE with {kind} data is not supported, only 16-bit PCM; "
        + _CONVERT_HINT
    )


class _TagPatch(io.RawIOBase):
    """A read-only view of a file whose format tag at `offset` reads as PCM (1)."""

    def __init__(self, inner: IO[bytes], offset: int) -> None:
        super().__init__()
        self._inner = inner
        self._base = inner.tell()
        self._offset = offset

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._inner.tell() - self._base

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_SET:
            offset += self._base
        return self._inner.seek(offset, whence) - self._base

    def read(self, size: int = -1) -> bytes:
        position = self.tell()
        data = self._inner.read(size)
        start = self._offset - position
        if -2 < start < len(data):  # the read overlaps the two tag bytes
            patched = bytearray(data)
            for index, value in ((start, 0x01), (start + 1, 0x00)):
                if 0 <= index < len(patched):
                    patched[index] = value
            return bytes(patched)
        return data


def _declared_frames(reader: wave.Wave_read) -> int | None:
    """Frames the header promises, or None for a streaming placeholder size."""
    chunk: Any = getattr(reader, "_data_chunk", None)
    size = getattr(chunk, "chunksize", None)
    if isinstance(size, int) and size >= _PLACEHOLDER_DATA_SIZE:
        return None
    return reader.getnframes()


def _check_complete(
    raw: bytes, channels: int, declared: int | None, source: WavSource, already: int = 0
) -> None:
    frame_bytes = 2 * channels
    got = already + len(raw) // frame_bytes
    if declared is not None and got < declared:
        raise WavFormatError(
            f"{_name(source)}: truncated WAV: the header declares {declared} samples per "
            f"channel but the file holds {got}"
        )
    if len(raw) % frame_bytes:
        raise WavFormatError(
            f"{_name(source)}: truncated WAV: the data ends inside a sample "
            f"({len(raw) % frame_bytes} stray byte(s))"
        )


def _explain(message: str) -> str:
    if message.startswith("unknown format: "):
        try:
            tag = int(message.removeprefix("unknown format: "))
        except ValueError:
            tag = -1
        kind = _FORMAT_NAMES.get(tag, f"compressed format tag {tag:#06x}")
        return f"{kind} WAV is not supported, only 16-bit PCM; {_CONVERT_HINT}"
    if message == "fmt chunk and/or data chunk missing":
        return "truncated or malformed WAV: the fmt or data chunk is missing"
    if message in ("file does not start with RIFF id", "not a WAVE file"):
        return f"not a WAV file ({message})"
    return f"malformed WAV ({message})"


def _name(source: WavSource) -> str:
    if isinstance(source, (str, os.PathLike)):
        return os.fspath(source)
    name = getattr(source, "name", None)
    return name if isinstance(name, str) else type(source).__name__


def _close(handle: IO[bytes] | None) -> None:
    if handle is not None:
        handle.close()
