"""Supervision in voxtrio, in one small pipeline.

    python examples/supervision.py          # add -v to also see the runtime's log

Three actors pass messages down a line:

    source ──▶ parser ──▶ printer
    (lines)    (text → number)   (prints, keeps a running average)

A `rest_for_one` supervisor starts them in that order. One line is garbage, so the
parser raises on it. The supervisor then stops the children started after the parser
(the printer: its running average came from the dead parser), restarts the parser and
the printer, and the source carries on: its ref to the parser stays valid, and lines
sent during the restart wait in the parser's inbox. Every step is a supervisor event,
printed below as it happens. The demo ends by itself after about three seconds.
"""

from __future__ import annotations

import logging
import sys

import trio

from voxtrio.core.actor import Actor, ActorContext, ActorRef, Ask
from voxtrio.core.supervisor import (
    ChildExited,
    ChildRestarted,
    ChildSpec,
    ChildStarted,
    Supervisor,
)

READINGS = ["21.5", "22.0", "21.8", "banana", "22.4", "23.1", "22.9"]
PACE = 0.4  # seconds between readings
START = 0.0  # trio time when the demo began (set by main), for the timestamps


def say(who: str, text: str) -> None:
    print(f"  {trio.current_time() - START:4.1f}s  {who:<10} {text}")


class Source(Actor):
    """Sends one reading every PACE seconds to the parser, then finishes."""

    def __init__(self, parser: ActorRef) -> None:
        self.parser = parser

    async def run(self, ctx: ActorContext) -> None:
        ctx.started()
        for line in READINGS:
            await trio.sleep(PACE)
            say("source", f"sends {line!r}")
            await self.parser.tell(line)


class Parser(Actor):
    """Turns text into a number for the printer; a line that is not a number is a bug."""

    def __init__(self, printer: ActorRef) -> None:
        self.printer = printer

    async def run(self, ctx: ActorContext) -> None:
        async for msg in ctx.messages():
            if isinstance(msg, Ask):  # "are you done?": everything before it was handled
                msg.reply()
                continue
            await self.printer.tell(float(msg))  # float("banana") raises ValueError


class Printer(Actor):
    """Prints each value with the running average of what *this incarnation* saw."""

    async def run(self, ctx: ActorContext) -> None:
        values: list[float] = []
        async for msg in ctx.messages():
            if isinstance(msg, Ask):
                msg.reply(len(values))
                continue
            values.append(msg)
            average = sum(values) / len(values)
            say("printer", f"{msg:.1f} °C   (average of {len(values)}: {average:.2f})")


def show_supervisor_events(sup: Supervisor) -> None:
    """Print what the supervisor does, as it does it."""

    @sup.events.on("child_started")
    def started(event: ChildStarted) -> None:
        say("supervisor", f"started {event.name} (incarnation {event.incarnation})")

    @sup.events.on("child_exited")
    def exited(event: ChildExited) -> None:
        why = f": {event.error!r}" if event.error is not None else ""
        say("supervisor", f"{event.name} exited, reason={event.reason}{why}")

    @sup.events.on("child_restarted")
    def restarted(event: ChildRestarted) -> None:
        because = "it failed" if event.cause == event.name else f"{event.cause} failed"
        say(
            "supervisor",
            f"restarted {event.name} because {because} ({event.restarts}/3 restarts used)",
        )


async def main() -> None:
    global START
    START = trio.current_time()
    print("voxtrio supervision demo: source -> parser -> printer, strategy rest_for_one")
    print(f"readings: {READINGS} (one is not a number)\n")

    sup: Supervisor  # the factories below run later, once `sup` exists

    def make_source() -> Actor:
        return Source(sup.ref("parser"))

    def make_parser() -> Actor:
        return Parser(sup.ref("printer"))

    sup = Supervisor(
        [
            # The source ends on purpose: "transient" restarts it only if it fails.
            ChildSpec("source", make_source, restart="transient"),
            ChildSpec("parser", make_parser),  # "permanent" (default): always restarted
            ChildSpec("printer", Printer, shutdown_grace=1.0),
        ],
        strategy="rest_for_one",
        max_restarts=3,  # more than 3 restarts within 5 s would mean: give up, escalate
        within=5.0,
        name="pipeline",
    )
    show_supervisor_events(sup)
    async with sup:  # starts source, parser, printer in order, each once ready
        await sup.ref("source").wait_exit()  # the source sent everything...
        await sup.ref("parser").ask("done?")  # ...the parser handled everything...
        seen = await sup.ref("printer").ask("how many?")  # ...and so did the printer
        print(f"\nall readings sent; the restarted printer saw {seen} of them. Shutting down:")
    # Leaving the block stopped the children in reverse start order.
    print("\nThe bad reading crashed only the parser; the supervisor restarted it and the")
    print("printer after it (rest_for_one), and the source never noticed.")


if __name__ == "__main__":
    if "-v" in sys.argv[1:]:
        logging.basicConfig(level=logging.INFO, format="           log: %(name)s: %(message)s")
    else:
        # The supervisor also logs each event (a crash with its traceback) on the
        # "voxtrio.supervisor" logger; this demo prints the events itself instead.
        logging.getLogger("voxtrio").setLevel(logging.CRITICAL)
    trio.run(main)
