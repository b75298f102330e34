"""Worker processes for engines that must not run on the trio thread or in our process.

    pool = WorkerPool("mypkg.myengine:make_handler", config={...})
    async with pool.lease() as worker:
        reply = await worker.request("op", {"key": "value"})

See `_host` (parent side), `_main` (child side) and `_protocol` (the framing).
"""

from voxtrio.engines.worker._host import WorkerCrashed as WorkerCrashed
from voxtrio.engines.worker._host import WorkerPool as WorkerPool
from voxtrio.engines.worker._host import WorkerPoolStatistics as WorkerPoolStatistics
from voxtrio.engines.worker._host import WorkerProcess as WorkerProcess
from voxtrio.engines.worker._host import WorkerRemoteError as WorkerRemoteError
from voxtrio.engines.worker._host import WorkerStartError as WorkerStartError
from voxtrio.engines.worker._protocol import DEFAULT_MAX_FRAME_SIZE as DEFAULT_MAX_FRAME_SIZE
from voxtrio.engines.worker._protocol import FrameTooLarge as FrameTooLarge
from voxtrio.engines.worker._protocol import Message as Message
from voxtrio.engines.worker._protocol import WorkerHandler as WorkerHandler

__all__ = [
    "DEFAULT_MAX_FRAME_SIZE",
    "FrameTooLarge",
    "Message",
    "WorkerCrashed",
    "WorkerHandler",
    "WorkerPool",
    "WorkerPoolStatistics",
    "WorkerProcess",
    "WorkerRemoteError",
    "WorkerStartError",
]
