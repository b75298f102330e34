"""Sans-I/O wire codecs: bytes/JSON in, typed attrs messages out. No trio, no sockets.

    from voxtrio.protocols.openai_realtime import decode, encode
    from voxtrio.protocols import twilio_media, browser_audio

Codecs: `openai_realtime` (OpenAI Realtime API, GA), `twilio_media` (Twilio Media
Streams), `browser_audio` (voxtrio's browser audio socket; see docs/protocols.md). The
two small codecs share message names (`Clear`, `encode`, `ProtocolError`), so they are
re-exported as modules. Transports and actors own the sockets and call these codecs;
each codec is fuzzed on its own.
"""

from voxtrio.protocols import browser_audio as browser_audio
from voxtrio.protocols import openai_realtime as openai_realtime
from voxtrio.protocols import twilio_media as twilio_media
