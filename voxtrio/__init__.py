"""voxtrio: realtime voice agents on trio.

    from voxtrio import AgentSession, Agent, MetricsCollectedEvent
    from voxtrio.metrics import STTMetrics, UsageCollector, log_metrics

The top level re-exports what a voice-agent script needs; each subpackage
(`voxtrio.core`, `voxtrio.audio`, `voxtrio.engines`, `voxtrio.actors`,
`voxtrio.session`, `voxtrio.metrics`, `voxtrio.protocols`, `voxtrio.testing`) re-exports
its own public names.

The names load on first use (PEP 562): `import voxtrio.protocols.twilio_media` or an
engine's worker process (`python -m voxtrio.engines.worker._main`) does not pay for
importing the whole session graph (~0.25 s).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "AudioFrame": "voxtrio.audio.frame",
    "ChatContext": "voxtrio.engines.chat",
    "ChatMessage": "voxtrio.engines.chat",
    "FunctionLLM": "voxtrio.engines.function_llm",
    "function_tool": "voxtrio.engines.tools",
    "Agent": "voxtrio.session",
    "AgentSession": "voxtrio.session",
    "CloseEvent": "voxtrio.session",
    "ConversationItemAddedEvent": "voxtrio.session",
    "ErrorEvent": "voxtrio.session",
    "MetricsCollectedEvent": "voxtrio.session",
    "TurnHandlingOptions": "voxtrio.session",
    "UserInputTranscribedEvent": "voxtrio.session",
}

__all__ = [*_EXPORTS, "__version__"]

if TYPE_CHECKING:
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


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'voxtrio' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})
