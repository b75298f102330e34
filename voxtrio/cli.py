"""The `voxtrio` command line: ``python -m voxtrio <command> ...``.

    voxtrio run question.wav --out reply.wav    # a conversation with a WAV file
    voxtrio console                              # talk to it (microphone and speaker)
    python -m voxtrio devices                    # list sound cards PortAudio can see

Each command is a small function registered as an argparse subcommand; `main(argv)`
parses, runs the command and returns the process exit status (0 ok, 1 failure, 2 usage
error), so tests can call it directly. Commands print for people; library code below
them logs instead.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    import trio

__all__ = ["build_parser", "main"]

Command = Callable[[argparse.Namespace], int]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand.

    Each command contributes an `add_<name>_command(subparsers)` function that adds its
    subparser and sets ``func`` (a `Command`); add new ones to `COMMANDS`.
    """
    parser = argparse.ArgumentParser(prog="voxtrio", description="Realtime voice agents on trio.")
    commands = parser.add_subparsers(dest="command", metavar="<command>")
    commands.required = True
    for add_command in COMMANDS:
        add_command(commands)
    return parser


def add_devices_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `voxtrio devices`."""
    devices = commands.add_parser(
        "devices",
        help="list audio input and output devices",
        description=(
            "List the sound cards PortAudio finds (needs the optional extra "
            "voxtrio[audio] and the libportaudio2 library)."
        ),
    )
    devices.set_defaults(func=cmd_devices)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    func: Command = args.func
    return func(args)


def cmd_devices(
    args: argparse.Namespace, *, out: TextIO | None = None, err: TextIO | None = None
) -> int:
    """`voxtrio devices`: a table of devices, or why there is none."""
    from voxtrio.audio.devices import AudioBackendUnavailable, list_devices

    out = out or sys.stdout
    err = err or sys.stderr
    try:
        devices = list_devices()
    except AudioBackendUnavailable as exc:
        print(f"voxtrio: {exc}", file=err)
        return 1
    if not devices:
        print(
            "No audio devices found: PortAudio is installed but reports no sound card "
            "(typical in containers and CI). Use WAV files or the in-memory sources and "
            "sinks instead.",
            file=out,
        )
        return 0
    header = f"{'':2}{'index':>5}  {'in':>3}  {'out':>3}  {'rate':>7}  {'host API':<12}  name"
    print(header, file=out)
    for dev in devices:
        marks = ("<" if dev.is_default_input else " ") + (">" if dev.is_default_output else " ")
        print(
            f"{marks}{dev.index:>5}  {dev.max_input_channels:>3}  {dev.max_output_channels:>3}  "
            f"{dev.default_samplerate:>7.0f}  {dev.hostapi[:12]:<12}  {dev.name}",
            file=out,
        )
    print("(< default input, > default output)", file=out)
    return 0


def add_run_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `voxtrio run`."""
    run = commands.add_parser(
        "run",
        help="hold a conversation with a WAV file as the user",
        description=(
            "Feed INPUT.wav in real time (--fast: skipping idle time) through an AgentSession on the embedded offline "
            "engines (silero VAD, pocketsphinx STT, espeak-ng TTS) and the demo brain, "
            "print the conversation and a per-turn latency table."
        ),
    )
    run.add_argument("input", type=Path, metavar="INPUT.wav", help="the user's audio (PCM16 WAV)")
    run.add_argument("--out", type=Path, help="write the agent's audio, aligned with the input")
    run.add_argument("--transcript", type=Path, help="write one JSON line per conversation item")
    run.add_argument("--metrics", type=Path, help="write all metrics and the latency breakdown (JSON)")
    run.add_argument("--llm", metavar="URL", help="an OpenAI-compatible base URL (e.g. http://127.0.0.1:11434/v1)")
    run.add_argument("--model", metavar="NAME", help="the model name for --llm")
    run.add_argument("--instructions", help="the agent's instructions (system prompt)")
    run.add_argument("--realtime", action="store_true", help="use the OpenAI Realtime model (OPENAI_API_KEY)")
    run.add_argument(
        "--fast",
        action="store_true",
        help="skip idle time instead of playing the file in real time (engine work still counts)",
    )
    run.set_defaults(func=cmd_run)


def cmd_run(args: argparse.Namespace, *, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """`voxtrio run INPUT.wav ...`."""
    import trio

    from voxtrio.app.run_file import DEFAULT_INSTRUCTIONS, RunOptions, run_file

    out = out or sys.stdout
    err = err or sys.stderr
    if args.realtime and not os.environ.get("OPENAI_API_KEY"):
        print(
            "voxtrio: --realtime talks to the OpenAI Realtime API and needs a key: set "
            "OPENAI_API_KEY (or run without --realtime to use the offline engines)",
            file=err,
        )
        return 2
    if args.llm and not args.model:
        print("voxtrio: --llm URL needs --model NAME", file=err)
        return 2
    if args.fast and args.realtime:
        print(
            "voxtrio: --fast cannot be combined with --realtime: the OpenAI Realtime server "
            "keeps its own clock and expects audio in real time",
            file=err,
        )
        return 2
    options = RunOptions(
        input=args.input,
        out=args.out,
        transcript=args.transcript,
        metrics=args.metrics,
        llm_url=args.llm,
        model=args.model,
        instructions=args.instructions or DEFAULT_INSTRUCTIONS,
        realtime_model=args.realtime,
        fast=args.fast,
    )
    try:
        trio.run(partial(run_file, options, out=out), clock=fast_clock_if(options.fast))
    except (FileNotFoundError, ValueError, RuntimeError) as exc:
        print(f"voxtrio: {exc}", file=err)
        return 1
    except KeyboardInterrupt:
        print("voxtrio: interrupted", file=err)
        return 130
    return 0


def fast_clock_if(fast: bool) -> trio.abc.Clock | None:
    """The clock for `voxtrio run --fast` (None: trio's real clock)."""
    from voxtrio.core.fast_clock import FastForwardClock

    return FastForwardClock() if fast else None


def add_console_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `voxtrio console`."""
    console = commands.add_parser(
        "console",
        help="talk to the agent through the microphone and the speaker",
        description=(
            "Hold a spoken conversation through the sound card (needs the optional extra "
            "voxtrio[audio] and the libportaudio2 library) on the embedded offline engines "
            "and the demo brain, with a live view of states, input level, transcripts and "
            "latency. Ctrl-C closes the session and prints the latency table and usage."
        ),
    )
    console.add_argument("--llm", metavar="URL", help="an OpenAI-compatible base URL (e.g. http://127.0.0.1:11434/v1)")
    console.add_argument("--model", metavar="NAME", help="the model name for --llm")
    console.add_argument("--instructions", help="the agent's instructions (system prompt)")
    console.add_argument(
        "--input-device", metavar="DEV", type=_device, help="microphone: index or part of its name (see `voxtrio devices`)"
    )
    console.add_argument(
        "--output-device", metavar="DEV", type=_device, help="speaker: index or part of its name (see `voxtrio devices`)"
    )
    console.set_defaults(func=cmd_console)


def _device(text: str) -> int | str:
    return int(text) if text.strip().isdigit() else text


def cmd_console(
    args: argparse.Namespace, *, out: TextIO | None = None, err: TextIO | None = None
) -> int:
    """`voxtrio console ...`."""
    import trio

    from voxtrio.app.console import DEFAULT_INSTRUCTIONS, ConsoleOptions, console_main
    from voxtrio.audio.devices import AudioDeviceError

    out = out or sys.stdout
    err = err or sys.stderr
    if args.llm and not args.model:
        print("voxtrio: --llm URL needs --model NAME", file=err)
        return 2
    options = ConsoleOptions(
        llm_url=args.llm,
        model=args.model,
        instructions=args.instructions or DEFAULT_INSTRUCTIONS,
        input_device=args.input_device,
        output_device=args.output_device,
    )
    try:
        report = trio.run(partial(console_main, options, out=out))
    except (AudioDeviceError, ValueError, RuntimeError) as exc:
        print(f"voxtrio: {exc}", file=err)
        return 1
    except KeyboardInterrupt:
        print("voxtrio: interrupted", file=err)
        return 130
    if report.close_reason == "error":
        from voxtrio.app.live_view import describe_error

        cause = describe_error(report.close_error) if report.close_error else "see the errors above"
        print(f"voxtrio: the session failed: {cause}", file=err)
        return 1
    return 0


def add_serve_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `voxtrio serve`."""
    serve = commands.add_parser(
        "serve",
        help="serve voice agents over WebSockets (browser page and Twilio Media Streams)",
        description=(
            "Serve one port: the browser page (/), /ws/browser, /ws/twilio, /healthz and "
            "/metrics. Every connection gets its own session from FACTORY, a callable that "
            "takes a ConnectionInfo and returns an AgentSession (or (session, agent)). "
            "SIGINT/SIGTERM stop accepting and let live calls finish up to --shutdown-grace "
            "seconds. See docs/serve.md."
        ),
    )
    serve.add_argument("factory", metavar="MODULE:FACTORY", help="e.g. myapp:make_session or app.py:make")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8080, help="port to bind, 0 for any (default 8080)")
    serve.add_argument(
        "--token",
        default=os.environ.get("VOXTRIO_TOKEN"),
        help="require this token (Authorization: Bearer T, or ?token=T); default $VOXTRIO_TOKEN",
    )
    serve.add_argument(
        "--token-routes",
        default="browser,twilio",
        metavar="ROUTES",
        help="routes the token guards, comma-separated (default browser,twilio; Twilio cannot send a token)",
    )
    serve.add_argument(
        "--allow-origin",
        action="append",
        metavar="ORIGIN",
        help="accept /ws/browser only from this Origin (repeatable), e.g. https://app.example",
    )
    serve.add_argument("--max-sessions", type=int, default=100, metavar="N", help="concurrent sessions (default 100)")
    serve.add_argument(
        "--max-message-size", type=int, default=64 * 1024, metavar="BYTES", help="largest WebSocket message (default 65536)"
    )
    serve.add_argument(
        "--idle-timeout", type=float, default=60.0, metavar="S", help="close sockets silent this long; 0 disables (default 60)"
    )
    serve.add_argument(
        "--shutdown-grace", type=float, default=30.0, metavar="S", help="how long live calls may go on after SIGTERM (default 30)"
    )
    serve.set_defaults(func=cmd_serve)


def _token_routes(text: str) -> tuple[str, ...]:
    routes = tuple(r.strip() for r in text.split(",") if r.strip())
    unknown = sorted(set(routes) - {"browser", "twilio"})
    if unknown:
        raise ValueError(f"--token-routes takes browser and/or twilio: got {', '.join(unknown)}")
    return routes


def cmd_serve(args: argparse.Namespace, *, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """`voxtrio serve MODULE:FACTORY ...`."""
    import logging

    import trio

    from voxtrio.serve.limits import ServerLimits
    from voxtrio.serve.server import FactoryLoadError, ServeOptions, load_factory, serve

    err = err or sys.stderr
    try:
        factory = load_factory(args.factory)
        limits = ServerLimits(
            token=args.token or None,
            token_routes=_token_routes(args.token_routes),
            allowed_origins=args.allow_origin,
            max_sessions=args.max_sessions,
            max_message_size=args.max_message_size,
            idle_timeout=args.idle_timeout or None,
            shutdown_grace=args.shutdown_grace,
        )
    except (FactoryLoadError, ValueError) as exc:
        print(f"voxtrio: {exc}", file=err)
        return 2
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    options = ServeOptions(host=args.host, port=args.port, limits=limits)
    try:
        trio.run(partial(serve, factory, options))
    except OSError as exc:
        print(f"voxtrio: cannot serve on {args.host}:{args.port}: {exc}", file=err)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


COMMANDS: list[Callable[[argparse._SubParsersAction[argparse.ArgumentParser]], None]] = [
    add_run_command,
    add_console_command,
    add_devices_command,
    add_serve_command,
]

if __name__ == "__main__":
    sys.exit(main())
