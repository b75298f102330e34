"""Speech engines behind small interfaces: STT, VAD, TTS (and their errors and metrics).

    from voxtrio.engines import STT, RecognizeStream, SpeechEventType, VAD, TTS
    from voxtrio.engines.fake import FakeSTT, FakeVAD, FakeTTS

See docs/engines.md. Concrete engines live in their own modules (imported on demand,
so their heavy dependencies load only when used).
"""

from voxtrio.engines.chat import ChatContext as ChatContext
from voxtrio.engines.chat import ChatItem as ChatItem
from voxtrio.engines.chat import ChatMessage as ChatMessage
from voxtrio.engines.chat import ChatRole as ChatRole
from voxtrio.engines.chat import FunctionCall as FunctionCall
from voxtrio.engines.chat import FunctionCallOutput as FunctionCallOutput
from voxtrio.engines.errors import DEFAULT_API_CONNECT_OPTIONS as DEFAULT_API_CONNECT_OPTIONS
from voxtrio.engines.errors import APIConnectionError as APIConnectionError
from voxtrio.engines.errors import APIConnectOptions as APIConnectOptions
from voxtrio.engines.errors import APIError as APIError
from voxtrio.engines.errors import APIStatusError as APIStatusError
from voxtrio.engines.errors import APITimeoutError as APITimeoutError
from voxtrio.engines.errors import unwrap_error as unwrap_error
from voxtrio.engines.function_llm import FunctionLLM as FunctionLLM
from voxtrio.engines.llm import LLM as LLM
from voxtrio.engines.llm import ChatChunk as ChatChunk
from voxtrio.engines.llm import ChoiceDelta as ChoiceDelta
from voxtrio.engines.llm import CompletionUsage as CompletionUsage
from voxtrio.engines.llm import FunctionToolCall as FunctionToolCall
from voxtrio.engines.llm import LLMStream as LLMStream
from voxtrio.engines.llm import ToolChoice as ToolChoice
from voxtrio.engines.metrics import AgentMetrics as AgentMetrics
from voxtrio.engines.metrics import EOUMetrics as EOUMetrics
from voxtrio.engines.metrics import InputTokenDetails as InputTokenDetails
from voxtrio.engines.metrics import LLMMetrics as LLMMetrics
from voxtrio.engines.metrics import MetricsMetadata as MetricsMetadata
from voxtrio.engines.metrics import OutputTokenDetails as OutputTokenDetails
from voxtrio.engines.metrics import RealtimeModelMetrics as RealtimeModelMetrics
from voxtrio.engines.metrics import STTMetrics as STTMetrics
from voxtrio.engines.metrics import TTSMetrics as TTSMetrics
from voxtrio.engines.metrics import VADMetrics as VADMetrics
from voxtrio.engines.metrics import with_ids as with_ids
from voxtrio.engines.stream_adapter import StreamAdapter as StreamAdapter
from voxtrio.engines.stt import STT as STT
from voxtrio.engines.stt import RecognitionUsage as RecognitionUsage
from voxtrio.engines.stt import RecognizeStream as RecognizeStream
from voxtrio.engines.stt import SpeechData as SpeechData
from voxtrio.engines.stt import SpeechEvent as SpeechEvent
from voxtrio.engines.stt import SpeechEventType as SpeechEventType
from voxtrio.engines.stt import STTCapabilities as STTCapabilities
from voxtrio.engines.tokenize import SentenceTokenizer as SentenceTokenizer
from voxtrio.engines.tools import FunctionTool as FunctionTool
from voxtrio.engines.tools import ToolError as ToolError
from voxtrio.engines.tools import ToolResult as ToolResult
from voxtrio.engines.tools import find_function_tools as find_function_tools
from voxtrio.engines.tools import function_tool as function_tool
from voxtrio.engines.tts import TTS as TTS
from voxtrio.engines.tts import ChunkedStream as ChunkedStream
from voxtrio.engines.tts import SynthesizedAudio as SynthesizedAudio
from voxtrio.engines.tts import SynthesizeStream as SynthesizeStream
from voxtrio.engines.tts import TTSCapabilities as TTSCapabilities
from voxtrio.engines.vad import VAD as VAD
from voxtrio.engines.vad import VADEvent as VADEvent
from voxtrio.engines.vad import VADEventType as VADEventType
from voxtrio.engines.vad import VADOptions as VADOptions
from voxtrio.engines.vad import VADStream as VADStream

__all__ = [
    "DEFAULT_API_CONNECT_OPTIONS",
    "APIConnectOptions",
    "APIConnectionError",
    "APIError",
    "APIStatusError",
    "APITimeoutError",
    "AgentMetrics",
    "ChunkedStream",
    "EOUMetrics",
    "LLMMetrics",
    "RealtimeModelMetrics",
    "RecognitionUsage",
    "RecognizeStream",
    "STT",
    "STTCapabilities",
    "STTMetrics",
    "SentenceTokenizer",
    "SpeechData",
    "SpeechEvent",
    "SpeechEventType",
    "StreamAdapter",
    "SynthesizeStream",
    "SynthesizedAudio",
    "TTS",
    "TTSCapabilities",
    "TTSMetrics",
    "VAD",
    "VADEvent",
    "VADEventType",
    "VADMetrics",
    "VADOptions",
    "VADStream",
    "ChatContext",
    "ChatItem",
    "ChatMessage",
    "ChatRole",
    "FunctionCall",
    "FunctionCallOutput",
    "FunctionLLM",
    "LLM",
    "ChatChunk",
    "ChoiceDelta",
    "CompletionUsage",
    "FunctionToolCall",
    "LLMStream",
    "ToolChoice",
    "FunctionTool",
    "ToolError",
    "ToolResult",
    "find_function_tools",
    "function_tool",
    "unwrap_error",
    "InputTokenDetails",
    "MetricsMetadata",
    "OutputTokenDetails",
    "with_ids",
]
