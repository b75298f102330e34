"""voxtrio: realtime voice agents on trio.

    from voxtrio import AgentSession, Agent, MetricsCollectedEvent
    from voxtrio.metrics import STTMetrics, UsageCollector, log_metrics

The top level re-exports what a voice-agent script needs; each subpackage
(`voxtrio.core`, `voxtrio.audio`, `voxtrio.engines`, `voxtrio.actors`,
`voxtrio.session`, `voxtrio.metrics`, `voxtrio.protocols`, `voxtrio.testing`) re-exports
its own public names.
"""

from voxtrio.audio.frame import AudioFrame as AudioFrame
from voxtrio.engines.chat import ChatContext as ChatContext
from voxtrio.engines.chat import ChatMessage as ChatMessage
from voxtrio.engines.function_llm import FunctionLLM as FunctionLLM
from voxtrio.engines.tools import function_tool as function_tool
from voxtrio.session import Agent as Agent
from voxtrio.session import AgentSession as AgentSession
from voxtrio.session import CloseEvent as CloseEvent
from voxtrio.session import ConversationItemAddedEvent as ConversationItemAddedEvent
from voxtrio.session import ErrorEvent as ErrorEvent
from voxtrio.session import MetricsCollectedEvent as MetricsCollectedEvent
from voxtrio.session import TurnHandlingOptions as TurnHandlingOptions
from voxtrio.session import UserInputTranscribedEvent as UserInputTranscribedEvent

__version__ = "0.1.0"
