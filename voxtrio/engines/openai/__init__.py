"""OpenAI engines: the Realtime speech-to-speech session.

    from voxtrio.engines.openai import RealtimeModel
"""

from voxtrio.engines.openai.realtime import EVENT_NAMES as EVENT_NAMES
from voxtrio.engines.openai.realtime import FunctionCallReceived as FunctionCallReceived
from voxtrio.engines.openai.realtime import InputSpeechStarted as InputSpeechStarted
from voxtrio.engines.openai.realtime import InputSpeechStopped as InputSpeechStopped
from voxtrio.engines.openai.realtime import InputTranscription as InputTranscription
from voxtrio.engines.openai.realtime import (
    InputTranscriptionCompleted as InputTranscriptionCompleted,
)
from voxtrio.engines.openai.realtime import InputTranscriptionDelta as InputTranscriptionDelta
from voxtrio.engines.openai.realtime import InputTranscriptionFailed as InputTranscriptionFailed
from voxtrio.engines.openai.realtime import OutputAudio as OutputAudio
from voxtrio.engines.openai.realtime import OutputTranscriptDelta as OutputTranscriptDelta
from voxtrio.engines.openai.realtime import RealtimeErrorEvent as RealtimeErrorEvent
from voxtrio.engines.openai.realtime import RealtimeModel as RealtimeModel
from voxtrio.engines.openai.realtime import RealtimeSession as RealtimeSession
from voxtrio.engines.openai.realtime import ResponseFinished as ResponseFinished
from voxtrio.engines.openai.realtime import ResponseStarted as ResponseStarted
from voxtrio.engines.openai.realtime import replay_items as replay_items
from voxtrio.engines.openai.realtime_history import item_id_of as item_id_of
from voxtrio.engines.openai.realtime_history import keep_transcripts as keep_transcripts
from voxtrio.engines.openai.realtime_history import with_item_id as with_item_id
