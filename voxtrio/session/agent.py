"""What the agent is: its instructions and tools.

    class Receptionist(Agent):
        def __init__(self) -> None:
            super().__init__(instructions="You book tables. Be brief.")

        @function_tool
        async def book_table(self, people: int, time: str) -> str:
            '''Book a table.'''
            return f"booked for {people} at {time}"

    async with session.start(audio_in=..., audio_out=..., agent=Receptionist()):
        ...

Tools declared with `@function_tool` on the class are found automatically; more can be
passed as `tools=[...]`.
"""

from __future__ import annotations

from collections.abc import Sequence

from voxtrio.engines.chat import ChatContext
from voxtrio.engines.tools import FunctionTool, find_function_tools

__all__ = ["Agent"]


class Agent:
    """Instructions, tools and an optional starting chat context."""

    def __init__(
        self,
        instructions: str = "",
        *,
        tools: Sequence[FunctionTool] = (),
        chat_ctx: ChatContext | None = None,
    ) -> None:
        self.instructions = instructions
        self.chat_ctx = chat_ctx.copy() if chat_ctx is not None else ChatContext.empty()
        declared = find_function_tools(self)
        names = {tool.name for tool in declared}
        self.tools: list[FunctionTool] = declared + [t for t in tools if t.name not in names]
