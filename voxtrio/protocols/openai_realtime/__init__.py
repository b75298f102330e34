"""OpenAI Realtime API (GA) as a sans-I/O codec: JSON text in, typed attrs events out.

    from voxtrio.protocols.openai_realtime import ResponseCreate, decode, encode
    await ws.send_message(encode(ResponseCreate()))
    event = decode(await ws.get_message())

No sockets and no trio here: a transport owns the connection and calls `encode` /
`decode`. Modules: `client_events` (11 GA client events), `server_events` (46 GA server
events + UnknownServerEvent), `items`, `session_config`, `responses`, `codec`, `audio`,
`errors`. See docs/realtime.md.
"""

from .audio import (
    G711_SAMPLE_RATE as G711_SAMPLE_RATE,
)
from .audio import (
    PCM_SAMPLE_RATE as PCM_SAMPLE_RATE,
)
from .audio import (
    audio_append_event as audio_append_event,
)
from .audio import (
    audio_duration_ms as audio_duration_ms,
)
from .audio import (
    bytes_per_second as bytes_per_second,
)
from .audio import (
    frame_from_base64 as frame_from_base64,
)
from .audio import (
    frame_to_base64 as frame_to_base64,
)
from .audio import (
    sample_rate_of as sample_rate_of,
)
from .client_events import (
    CLIENT_EVENT_TYPES as CLIENT_EVENT_TYPES,
)
from .client_events import (
    ClientEvent as ClientEvent,
)
from .client_events import (
    ConversationItemCreate as ConversationItemCreate,
)
from .client_events import (
    ConversationItemDelete as ConversationItemDelete,
)
from .client_events import (
    ConversationItemRetrieve as ConversationItemRetrieve,
)
from .client_events import (
    ConversationItemTruncate as ConversationItemTruncate,
)
from .client_events import (
    InputAudioBufferAppend as InputAudioBufferAppend,
)
from .client_events import (
    InputAudioBufferClear as InputAudioBufferClear,
)
from .client_events import (
    InputAudioBufferCommit as InputAudioBufferCommit,
)
from .client_events import (
    OutputAudioBufferClear as OutputAudioBufferClear,
)
from .client_events import (
    ResponseCancel as ResponseCancel,
)
from .client_events import (
    ResponseCreate as ResponseCreate,
)
from .client_events import (
    SessionUpdate as SessionUpdate,
)
from .codec import (
    client_event_from_dict as client_event_from_dict,
)
from .codec import (
    decode as decode,
)
from .codec import (
    decode_client_event as decode_client_event,
)
from .codec import (
    encode as encode,
)
from .codec import (
    parse_json_object as parse_json_object,
)
from .codec import (
    server_event_from_dict as server_event_from_dict,
)
from .codec import (
    to_dict as to_dict,
)
from .errors import (
    ProtocolError as ProtocolError,
)
from .items import (
    ContentPart as ContentPart,
)
from .items import (
    FunctionCallItem as FunctionCallItem,
)
from .items import (
    FunctionCallOutputItem as FunctionCallOutputItem,
)
from .items import (
    InputAudio as InputAudio,
)
from .items import (
    InputImage as InputImage,
)
from .items import (
    InputText as InputText,
)
from .items import (
    Item as Item,
)
from .items import (
    ItemStatus as ItemStatus,
)
from .items import (
    MessageItem as MessageItem,
)
from .items import (
    OutputAudio as OutputAudio,
)
from .items import (
    OutputText as OutputText,
)
from .responses import (
    CachedTokenDetails as CachedTokenDetails,
)
from .responses import (
    ErrorDetails as ErrorDetails,
)
from .responses import (
    InputTokenDetails as InputTokenDetails,
)
from .responses import (
    OutputTokenDetails as OutputTokenDetails,
)
from .responses import (
    Response as Response,
)
from .responses import (
    ResponseAudio as ResponseAudio,
)
from .responses import (
    ResponseAudioInfo as ResponseAudioInfo,
)
from .responses import (
    ResponseAudioOutput as ResponseAudioOutput,
)
from .responses import (
    ResponseAudioOutputInfo as ResponseAudioOutputInfo,
)
from .responses import (
    ResponseCreateParams as ResponseCreateParams,
)
from .responses import (
    ResponseStatus as ResponseStatus,
)
from .responses import (
    ResponseStatusDetails as ResponseStatusDetails,
)
from .responses import (
    ResponseStatusError as ResponseStatusError,
)
from .responses import (
    Usage as Usage,
)
from .server_events import (
    SERVER_EVENT_TYPES as SERVER_EVENT_TYPES,
)
from .server_events import (
    Conversation as Conversation,
)
from .server_events import (
    ConversationCreated as ConversationCreated,
)
from .server_events import (
    ConversationItemAdded as ConversationItemAdded,
)
from .server_events import (
    ConversationItemCreated as ConversationItemCreated,
)
from .server_events import (
    ConversationItemDeleted as ConversationItemDeleted,
)
from .server_events import (
    ConversationItemDone as ConversationItemDone,
)
from .server_events import (
    ConversationItemInputAudioTranscriptionCompleted as ConversationItemInputAudioTranscriptionCompleted,
)
from .server_events import (
    ConversationItemInputAudioTranscriptionDelta as ConversationItemInputAudioTranscriptionDelta,
)
from .server_events import (
    ConversationItemInputAudioTranscriptionFailed as ConversationItemInputAudioTranscriptionFailed,
)
from .server_events import (
    ConversationItemInputAudioTranscriptionSegment as ConversationItemInputAudioTranscriptionSegment,
)
from .server_events import (
    ConversationItemRetrieved as ConversationItemRetrieved,
)
from .server_events import (
    ConversationItemTruncated as ConversationItemTruncated,
)
from .server_events import (
    ErrorEvent as ErrorEvent,
)
from .server_events import (
    InputAudioBufferCleared as InputAudioBufferCleared,
)
from .server_events import (
    InputAudioBufferCommitted as InputAudioBufferCommitted,
)
from .server_events import (
    InputAudioBufferDtmfEventReceived as InputAudioBufferDtmfEventReceived,
)
from .server_events import (
    InputAudioBufferSpeechStarted as InputAudioBufferSpeechStarted,
)
from .server_events import (
    InputAudioBufferSpeechStopped as InputAudioBufferSpeechStopped,
)
from .server_events import (
    InputAudioBufferTimeoutTriggered as InputAudioBufferTimeoutTriggered,
)
from .server_events import (
    LogProb as LogProb,
)
from .server_events import (
    McpListToolsCompleted as McpListToolsCompleted,
)
from .server_events import (
    McpListToolsFailed as McpListToolsFailed,
)
from .server_events import (
    McpListToolsInProgress as McpListToolsInProgress,
)
from .server_events import (
    OutputAudioBufferCleared as OutputAudioBufferCleared,
)
from .server_events import (
    OutputAudioBufferStarted as OutputAudioBufferStarted,
)
from .server_events import (
    OutputAudioBufferStopped as OutputAudioBufferStopped,
)
from .server_events import (
    RateLimit as RateLimit,
)
from .server_events import (
    RateLimitsUpdated as RateLimitsUpdated,
)
from .server_events import (
    ResponseContentPartAdded as ResponseContentPartAdded,
)
from .server_events import (
    ResponseContentPartDone as ResponseContentPartDone,
)
from .server_events import (
    ResponseCreated as ResponseCreated,
)
from .server_events import (
    ResponseDone as ResponseDone,
)
from .server_events import (
    ResponseFunctionCallArgumentsDelta as ResponseFunctionCallArgumentsDelta,
)
from .server_events import (
    ResponseFunctionCallArgumentsDone as ResponseFunctionCallArgumentsDone,
)
from .server_events import (
    ResponseMcpCallArgumentsDelta as ResponseMcpCallArgumentsDelta,
)
from .server_events import (
    ResponseMcpCallArgumentsDone as ResponseMcpCallArgumentsDone,
)
from .server_events import (
    ResponseMcpCallCompleted as ResponseMcpCallCompleted,
)
from .server_events import (
    ResponseMcpCallFailed as ResponseMcpCallFailed,
)
from .server_events import (
    ResponseMcpCallInProgress as ResponseMcpCallInProgress,
)
from .server_events import (
    ResponseOutputAudioDelta as ResponseOutputAudioDelta,
)
from .server_events import (
    ResponseOutputAudioDone as ResponseOutputAudioDone,
)
from .server_events import (
    ResponseOutputAudioTranscriptDelta as ResponseOutputAudioTranscriptDelta,
)
from .server_events import (
    ResponseOutputAudioTranscriptDone as ResponseOutputAudioTranscriptDone,
)
from .server_events import (
    ResponseOutputItemAdded as ResponseOutputItemAdded,
)
from .server_events import (
    ResponseOutputItemDone as ResponseOutputItemDone,
)
from .server_events import (
    ResponseOutputTextDelta as ResponseOutputTextDelta,
)
from .server_events import (
    ResponseOutputTextDone as ResponseOutputTextDone,
)
from .server_events import (
    ResponsePart as ResponsePart,
)
from .server_events import (
    ServerError as ServerError,
)
from .server_events import (
    ServerEvent as ServerEvent,
)
from .server_events import (
    SessionCreated as SessionCreated,
)
from .server_events import (
    SessionUpdated as SessionUpdated,
)
from .server_events import (
    TranscriptionLanguage as TranscriptionLanguage,
)
from .server_events import (
    TranscriptionTokenDetails as TranscriptionTokenDetails,
)
from .server_events import (
    TranscriptionUsageDuration as TranscriptionUsageDuration,
)
from .server_events import (
    TranscriptionUsageTokens as TranscriptionUsageTokens,
)
from .server_events import (
    UnknownServerEvent as UnknownServerEvent,
)
from .session_config import (
    AudioConfig as AudioConfig,
)
from .session_config import (
    AudioFormat as AudioFormat,
)
from .session_config import (
    AudioInputConfig as AudioInputConfig,
)
from .session_config import (
    AudioOutputConfig as AudioOutputConfig,
)
from .session_config import (
    FunctionTool as FunctionTool,
)
from .session_config import (
    InputTranscription as InputTranscription,
)
from .session_config import (
    NoiseReduction as NoiseReduction,
)
from .session_config import (
    PcmaFormat as PcmaFormat,
)
from .session_config import (
    PcmFormat as PcmFormat,
)
from .session_config import (
    PcmuFormat as PcmuFormat,
)
from .session_config import (
    Prompt as Prompt,
)
from .session_config import (
    Reasoning as Reasoning,
)
from .session_config import (
    RetentionRatioTruncation as RetentionRatioTruncation,
)
from .session_config import (
    SemanticVad as SemanticVad,
)
from .session_config import (
    ServerVad as ServerVad,
)
from .session_config import (
    SessionConfig as SessionConfig,
)
from .session_config import (
    TokenLimits as TokenLimits,
)
from .session_config import (
    Tool as Tool,
)
from .session_config import (
    ToolChoice as ToolChoice,
)
from .session_config import (
    ToolChoiceFunction as ToolChoiceFunction,
)
from .session_config import (
    ToolChoiceMcp as ToolChoiceMcp,
)
from .session_config import (
    TracingConfig as TracingConfig,
)
from .session_config import (
    TranscriptionAudioConfig as TranscriptionAudioConfig,
)
from .session_config import (
    TranscriptionSessionConfig as TranscriptionSessionConfig,
)
from .session_config import (
    TurnDetection as TurnDetection,
)
from .session_config import (
    VoiceId as VoiceId,
)
from .values import (
    NULL as NULL,
)
from .values import (
    JsonObject as JsonObject,
)
from .values import (
    Null as Null,
)
from .values import (
    RawObject as RawObject,
)
