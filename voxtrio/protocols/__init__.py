"""Sans-I/O wire codecs: bytes/JSON in, typed attrs messages out. No trio, no sockets.

    from voxtrio.protocols.openai_realtime import decode, encode

Subpackages: `openai_realtime` (OpenAI Realtime API, GA). Transports and actors own the
sockets and call these codecs; each codec is fuzzed on its own.
"""
