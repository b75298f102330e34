"""Transports: run an `AgentSession` behind a WebSocket (browser page or Twilio call).

    from voxtrio.serve.transports import ConnectionInfo, run_browser_connection
    await run_browser_connection(ws, factory, ConnectionInfo("browser", "/ws/browser"))

`ws` is anything `WebSocketLike` (receive / send / close); `factory` builds the session
for one connection. See `common` (shared pieces), `browser` and `twilio`.
"""

from voxtrio.serve.transports.browser import BrowserSink as BrowserSink
from voxtrio.serve.transports.browser import run_browser_connection as run_browser_connection
from voxtrio.serve.transports.common import CLOSE_GOING_AWAY as CLOSE_GOING_AWAY
from voxtrio.serve.transports.common import CLOSE_INTERNAL_ERROR as CLOSE_INTERNAL_ERROR
from voxtrio.serve.transports.common import CLOSE_INVALID_DATA as CLOSE_INVALID_DATA
from voxtrio.serve.transports.common import CLOSE_NORMAL as CLOSE_NORMAL
from voxtrio.serve.transports.common import CLOSE_POLICY as CLOSE_POLICY
from voxtrio.serve.transports.common import CLOSE_TOO_BIG as CLOSE_TOO_BIG
from voxtrio.serve.transports.common import ConnectionGone as ConnectionGone
from voxtrio.serve.transports.common import ConnectionInfo as ConnectionInfo
from voxtrio.serve.transports.common import NetworkSink as NetworkSink
from voxtrio.serve.transports.common import NetworkSource as NetworkSource
from voxtrio.serve.transports.common import SessionFactory as SessionFactory
from voxtrio.serve.transports.common import WebSocketLike as WebSocketLike
from voxtrio.serve.transports.twilio import TwilioSink as TwilioSink
from voxtrio.serve.transports.twilio import run_twilio_connection as run_twilio_connection
from voxtrio.serve.transports.twilio import start_info as start_info

__all__ = [
    "CLOSE_GOING_AWAY",
    "CLOSE_INTERNAL_ERROR",
    "CLOSE_INVALID_DATA",
    "CLOSE_NORMAL",
    "CLOSE_POLICY",
    "CLOSE_TOO_BIG",
    "BrowserSink",
    "ConnectionGone",
    "ConnectionInfo",
    "NetworkSink",
    "NetworkSource",
    "SessionFactory",
    "TwilioSink",
    "WebSocketLike",
    "run_browser_connection",
    "run_twilio_connection",
    "start_info",
]
