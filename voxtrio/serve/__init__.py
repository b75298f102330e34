"""`voxtrio serve`: voice agents over the network (Twilio Media Streams, browser socket).

    from voxtrio.serve import serve, ServeOptions
    server = await nursery.start(serve, "myapp:make_session", ServeOptions(port=8080))

The transports (`voxtrio.serve.transports`) run one `AgentSession` per WebSocket; the
server (`voxtrio.serve.server`, hypercorn's trio worker) routes connections to them,
enforces the limits and exports Prometheus metrics. See docs/serve.md.
"""

from voxtrio.serve.asgi import VoxtrioApp as VoxtrioApp
from voxtrio.serve.limits import ServerLimits as ServerLimits
from voxtrio.serve.metrics import ServerMetrics as ServerMetrics
from voxtrio.serve.server import FactoryLoadError as FactoryLoadError
from voxtrio.serve.server import RunningServer as RunningServer
from voxtrio.serve.server import ServeOptions as ServeOptions
from voxtrio.serve.server import load_factory as load_factory
from voxtrio.serve.server import serve as serve
from voxtrio.serve.transports import ConnectionGone as ConnectionGone
from voxtrio.serve.transports import ConnectionInfo as ConnectionInfo
from voxtrio.serve.transports import SessionFactory as SessionFactory
from voxtrio.serve.transports import WebSocketLike as WebSocketLike
from voxtrio.serve.transports import run_browser_connection as run_browser_connection
from voxtrio.serve.transports import run_twilio_connection as run_twilio_connection

__all__ = [
    "ConnectionGone",
    "ConnectionInfo",
    "FactoryLoadError",
    "RunningServer",
    "ServeOptions",
    "ServerLimits",
    "ServerMetrics",
    "SessionFactory",
    "VoxtrioApp",
    "WebSocketLike",
    "load_factory",
    "run_browser_connection",
    "run_twilio_connection",
    "serve",
]
