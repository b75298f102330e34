"""The actor runtime: mailboxes, actors, supervisors, events, observable values, pacing.

    from voxtrio.core import Actor, Supervisor, ChildSpec, open_mailbox, EventEmitter

Knows nothing about audio. Every public name of the submodules is re-exported here.
"""

from voxtrio.core.actor import Actor as Actor
from voxtrio.core.actor import ActorContext as ActorContext
from voxtrio.core.actor import ActorError as ActorError
from voxtrio.core.actor import ActorExit as ActorExit
from voxtrio.core.actor import ActorRef as ActorRef
from voxtrio.core.actor import ActorStopped as ActorStopped
from voxtrio.core.actor import Ask as Ask
from voxtrio.core.actor import AskTimeout as AskTimeout
from voxtrio.core.actor import ExitReason as ExitReason
from voxtrio.core.actor import Stop as Stop
from voxtrio.core.actor import spawn as spawn
from voxtrio.core.async_value import AsyncValue as AsyncValue
from voxtrio.core.bounded_dict import BoundedDict as BoundedDict
from voxtrio.core.clock import set_wall_origin as set_wall_origin
from voxtrio.core.clock import wall_time as wall_time
from voxtrio.core.connection_pool import ConnectionPool as ConnectionPool
from voxtrio.core.connection_pool import ConnectionPoolStatistics as ConnectionPoolStatistics
from voxtrio.core.connection_pool import ConnectTimeout as ConnectTimeout
from voxtrio.core.emitter import Event as Event
from voxtrio.core.emitter import EventEmitter as EventEmitter
from voxtrio.core.emitter import EventStream as EventStream
from voxtrio.core.emitter import EventStreamOverflow as EventStreamOverflow
from voxtrio.core.emitter import StreamOverflow as StreamOverflow
from voxtrio.core.errors import SupervisorEscalation as SupervisorEscalation
from voxtrio.core.exp_filter import ExpFilter as ExpFilter
from voxtrio.core.fast_clock import ClockHold as ClockHold
from voxtrio.core.fast_clock import FastForwardClock as FastForwardClock
from voxtrio.core.fast_clock import real_work as real_work
from voxtrio.core.loop_lag import LoopLagMonitor as LoopLagMonitor
from voxtrio.core.loop_lag import LoopLagStatistics as LoopLagStatistics
from voxtrio.core.loop_lag import open_loop_lag_monitor as open_loop_lag_monitor
from voxtrio.core.mailbox import OVERFLOW_POLICIES as OVERFLOW_POLICIES
from voxtrio.core.mailbox import YIELD_EVERY as YIELD_EVERY
from voxtrio.core.mailbox import MailboxFull as MailboxFull
from voxtrio.core.mailbox import MailboxReceiver as MailboxReceiver
from voxtrio.core.mailbox import MailboxSender as MailboxSender
from voxtrio.core.mailbox import MailboxStatistics as MailboxStatistics
from voxtrio.core.mailbox import Overflow as Overflow
from voxtrio.core.mailbox import open_mailbox as open_mailbox
from voxtrio.core.misc import NOT_GIVEN as NOT_GIVEN
from voxtrio.core.misc import NotGiven as NotGiven
from voxtrio.core.misc import NotGivenOr as NotGivenOr
from voxtrio.core.misc import is_given as is_given
from voxtrio.core.misc import log_exceptions as log_exceptions
from voxtrio.core.misc import shortuuid as shortuuid
from voxtrio.core.misc import time_ms as time_ms
from voxtrio.core.moving_average import MovingAverage as MovingAverage
from voxtrio.core.pacing import DEFAULT_QUANTUM as DEFAULT_QUANTUM
from voxtrio.core.pacing import Metronome as Metronome
from voxtrio.core.pacing import MetronomeJob as MetronomeJob
from voxtrio.core.pacing import get_quantum as get_quantum
from voxtrio.core.pacing import set_quantum as set_quantum
from voxtrio.core.pacing import sleep as sleep
from voxtrio.core.pacing import sleep_until as sleep_until
from voxtrio.core.supervisor import SUPERVISOR_EVENTS as SUPERVISOR_EVENTS
from voxtrio.core.supervisor import Backoff as Backoff
from voxtrio.core.supervisor import ChildExited as ChildExited
from voxtrio.core.supervisor import ChildRestarted as ChildRestarted
from voxtrio.core.supervisor import ChildSpec as ChildSpec
from voxtrio.core.supervisor import ChildStarted as ChildStarted
from voxtrio.core.supervisor import Escalated as Escalated
from voxtrio.core.supervisor import RestartType as RestartType
from voxtrio.core.supervisor import Strategy as Strategy
from voxtrio.core.supervisor import Supervisor as Supervisor
