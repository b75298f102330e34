"""AgentSession, its events and turn handling.

    from voxtrio.session import AgentSession, Agent, MetricsCollectedEvent
"""

from voxtrio.session.agent import Agent as Agent
from voxtrio.session.events import EVENT_NAMES as EVENT_NAMES
from voxtrio.session.events import AgentFalseInterruptionEvent as AgentFalseInterruptionEvent
from voxtrio.session.events import AgentState as AgentState
from voxtrio.session.events import AgentStateChangedEvent as AgentStateChangedEvent
from voxtrio.session.events import CloseEvent as CloseEvent
from voxtrio.session.events import CloseReason as CloseReason
from voxtrio.session.events import ConversationItemAddedEvent as ConversationItemAddedEvent
from voxtrio.session.events import ErrorEvent as ErrorEvent
from voxtrio.session.events import FunctionToolsExecutedEvent as FunctionToolsExecutedEvent
from voxtrio.session.events import MetricsCollectedEvent as MetricsCollectedEvent
from voxtrio.session.events import SpeechCreatedEvent as SpeechCreatedEvent
from voxtrio.session.events import UserInputTranscribedEvent as UserInputTranscribedEvent
from voxtrio.session.events import UserState as UserState
from voxtrio.session.events import UserStateChangedEvent as UserStateChangedEvent
from voxtrio.session.events import UserTranscriptionTimeoutEvent as UserTranscriptionTimeoutEvent
from voxtrio.session.options import TurnHandlingOptions as TurnHandlingOptions
from voxtrio.session.session import AgentSession as AgentSession
from voxtrio.session.speech import SpeechHandle as SpeechHandle
