"""voxtrio.audio: frames, byte streams, resampling, G.711, WAV, levels, devices.

    from voxtrio.audio import AudioFrame, AudioResampler, iter_wav_frames

See docs/audio.md. Everything here is plain synchronous code except the sources and
sinks, whose `async` methods pace audio on trio's clock.
"""

from voxtrio.audio.byte_stream import AudioByteStream as AudioByteStream
from voxtrio.audio.combine import combine_audio_frames as combine_audio_frames
from voxtrio.audio.combine import merge_frames as merge_frames
from voxtrio.audio.devices import AudioBackendUnavailable as AudioBackendUnavailable
from voxtrio.audio.devices import AudioDeviceError as AudioDeviceError
from voxtrio.audio.devices import DeviceInfo as DeviceInfo
from voxtrio.audio.devices import NoAudioDevice as NoAudioDevice
from voxtrio.audio.devices import PortAudioMissing as PortAudioMissing
from voxtrio.audio.devices import SoundDeviceMissing as SoundDeviceMissing
from voxtrio.audio.devices import list_devices as list_devices
from voxtrio.audio.devices import load_sounddevice as load_sounddevice
from voxtrio.audio.devices import resolve_device as resolve_device
from voxtrio.audio.frame import AudioFormatError as AudioFormatError
from voxtrio.audio.frame import AudioFrame as AudioFrame
from voxtrio.audio.frame import Int16Array as Int16Array
from voxtrio.audio.g711 import alaw_decode as alaw_decode
from voxtrio.audio.g711 import alaw_encode as alaw_encode
from voxtrio.audio.g711 import ulaw_decode as ulaw_decode
from voxtrio.audio.g711 import ulaw_encode as ulaw_encode
from voxtrio.audio.generate import silence as silence
from voxtrio.audio.generate import tone as tone
from voxtrio.audio.levels import DBFS_FLOOR as DBFS_FLOOR
from voxtrio.audio.levels import LevelMeter as LevelMeter
from voxtrio.audio.levels import Levels as Levels
from voxtrio.audio.levels import measure as measure
from voxtrio.audio.levels import peak as peak
from voxtrio.audio.levels import rms as rms
from voxtrio.audio.levels import to_dbfs as to_dbfs
from voxtrio.audio.mix import remix_channels as remix_channels
from voxtrio.audio.mix import to_mono as to_mono
from voxtrio.audio.resample import AudioResampler as AudioResampler
from voxtrio.audio.resample import ResampleQuality as ResampleQuality
from voxtrio.audio.sinks import AudioSink as AudioSink
from voxtrio.audio.sinks import DeviceSink as DeviceSink
from voxtrio.audio.sinks import MemorySink as MemorySink
from voxtrio.audio.sinks import SinkFormatError as SinkFormatError
from voxtrio.audio.sinks import SinkNotOpen as SinkNotOpen
from voxtrio.audio.sinks import SinkStatistics as SinkStatistics
from voxtrio.audio.sinks import WavFileSink as WavFileSink
from voxtrio.audio.sources import AudioSource as AudioSource
from voxtrio.audio.sources import DeviceSource as DeviceSource
from voxtrio.audio.sources import MemorySource as MemorySource
from voxtrio.audio.sources import SourceNotOpen as SourceNotOpen
from voxtrio.audio.sources import SourceStatistics as SourceStatistics
from voxtrio.audio.sources import WavFileSource as WavFileSource
from voxtrio.audio.wav import WavFormatError as WavFormatError
from voxtrio.audio.wav import WavInfo as WavInfo
from voxtrio.audio.wav import WavWriter as WavWriter
from voxtrio.audio.wav import iter_wav_frames as iter_wav_frames
from voxtrio.audio.wav import read_wav as read_wav
from voxtrio.audio.wav import read_wav_frame as read_wav_frame
from voxtrio.audio.wav import wav_info as wav_info
from voxtrio.audio.wav import write_wav as write_wav

__all__ = [
    # frames and buffers
    "AudioFormatError",
    "AudioFrame",
    "Int16Array",
    "AudioByteStream",
    "combine_audio_frames",
    "merge_frames",
    # conversion
    "AudioResampler",
    "ResampleQuality",
    "alaw_decode",
    "alaw_encode",
    "ulaw_decode",
    "ulaw_encode",
    "remix_channels",
    "to_mono",
    # levels and generators
    "DBFS_FLOOR",
    "LevelMeter",
    "Levels",
    "measure",
    "peak",
    "rms",
    "to_dbfs",
    "silence",
    "tone",
    # WAV files
    "WavFormatError",
    "WavInfo",
    "WavWriter",
    "iter_wav_frames",
    "read_wav",
    "read_wav_frame",
    "wav_info",
    "write_wav",
    # devices, sources, sinks
    "AudioBackendUnavailable",
    "AudioDeviceError",
    "DeviceInfo",
    "NoAudioDevice",
    "PortAudioMissing",
    "SoundDeviceMissing",
    "list_devices",
    "load_sounddevice",
    "resolve_device",
    "AudioSink",
    "DeviceSink",
    "MemorySink",
    "SinkFormatError",
    "SinkNotOpen",
    "SinkStatistics",
    "WavFileSink",
    "AudioSource",
    "DeviceSource",
    "MemorySource",
    "SourceNotOpen",
    "SourceStatistics",
    "WavFileSource",
]
