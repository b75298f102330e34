"""Test kit: scripted users, fake servers, event recording, fault injection, conformance.

    from voxtrio.testing import ScriptedUser, EventRecorder, open_realtime_server

The pytest plugin (`voxtrio.testing.plugin`, registered by entry point) adds the
fixtures `voice_session`, `scripted_user` and `wall_origin`; see docs/testing.md.
"""

from voxtrio.testing.chat_server import ChatServer as ChatServer
from voxtrio.testing.chat_server import ScriptedReply as ScriptedReply
from voxtrio.testing.chat_server import serve_chat_completions as serve_chat_completions
from voxtrio.testing.chat_server import text_chunks as text_chunks
from voxtrio.testing.chat_server import tool_call_chunks as tool_call_chunks
from voxtrio.testing.conformance import ConformanceError as ConformanceError
from voxtrio.testing.conformance import ConformanceUnavailable as ConformanceUnavailable
from voxtrio.testing.conformance import check_client_event as check_client_event
from voxtrio.testing.conformance import check_server_event as check_server_event
from voxtrio.testing.conformance import client_event_problems as client_event_problems
from voxtrio.testing.conformance import openai_version as openai_version
from voxtrio.testing.conformance import server_event_problems as server_event_problems
from voxtrio.testing.faults import crash_actor as crash_actor
from voxtrio.testing.realtime_server import Close as Close
from voxtrio.testing.realtime_server import Delay as Delay
from voxtrio.testing.realtime_server import Drop as Drop
from voxtrio.testing.realtime_server import ExpectClient as ExpectClient
from voxtrio.testing.realtime_server import RealtimeConnection as RealtimeConnection
from voxtrio.testing.realtime_server import ScriptedRealtimeServer as ScriptedRealtimeServer
from voxtrio.testing.realtime_server import ScriptStep as ScriptStep
from voxtrio.testing.realtime_server import Send as Send
from voxtrio.testing.realtime_server import SendError as SendError
from voxtrio.testing.realtime_server import open_realtime_server as open_realtime_server
from voxtrio.testing.realtime_server import response_created as response_created
from voxtrio.testing.realtime_server import script_from_jsonl as script_from_jsonl
from voxtrio.testing.realtime_server import session_handshake as session_handshake
from voxtrio.testing.recorder import EventRecorder as EventRecorder
from voxtrio.testing.recorder import RecordedEvent as RecordedEvent
from voxtrio.testing.speech import FIXTURES_DIR as FIXTURES_DIR
from voxtrio.testing.speech import SpeechFixture as SpeechFixture
from voxtrio.testing.speech import add_white_noise as add_white_noise
from voxtrio.testing.speech import compose_speech as compose_speech
from voxtrio.testing.speech import load_speech_fixtures as load_speech_fixtures
from voxtrio.testing.speech import normalize_words as normalize_words
from voxtrio.testing.speech import phrase_grammar as phrase_grammar
from voxtrio.testing.speech import resample_frame as resample_frame
from voxtrio.testing.speech import speech_span as speech_span
from voxtrio.testing.speech import split_frames as split_frames
from voxtrio.testing.speech import synthesize_speech as synthesize_speech
from voxtrio.testing.speech import word_error_rate as word_error_rate
from voxtrio.testing.user import ScriptedUser as ScriptedUser
from voxtrio.testing.user import Utterance as Utterance
from voxtrio.testing.virtual_time import deterministic_scheduling as deterministic_scheduling
