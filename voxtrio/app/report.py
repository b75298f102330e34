"""The per-turn latency breakdown of a conversation, from its chat items.

    turns = turn_latencies(session.history.messages())
    print(latency_table(turns))

Every stage is in seconds after the user stopped speaking (as the VAD placed the end of
their speech): the VAD noticing it, the final transcript, the end of the turn, the
LLM's first token, the TTS's first audio, and the first agent audio played — that last
one is `e2e_latency`, the silence the user actually heard.
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from voxtrio.engines.chat import ChatMessage

__all__ = ["TurnLatency", "latency_table", "turn_latencies"]


@attrs.frozen(kw_only=True)
class TurnLatency:
    turn_id: str
    user_text: str
    vad_end_of_speech: float | None
    stt_final: float | None
    end_of_turn: float | None
    llm_first_token: float | None
    tts_first_audio: float | None
    e2e_latency: float | None


def turn_latencies(messages: Sequence[ChatMessage]) -> list[TurnLatency]:
    """One row per user turn that got a reply."""
    users = {m.turn_id: m for m in messages if m.role == "user" and m.turn_id}
    rows: list[TurnLatency] = []
    seen: set[str] = set()
    for reply in messages:
        if reply.role != "assistant" or reply.turn_id not in users or reply.turn_id in seen:
            continue
        seen.add(reply.turn_id)
        user = users[reply.turn_id]
        rows.append(
            TurnLatency(
                turn_id=reply.turn_id,
                user_text=user.text_content,
                vad_end_of_speech=user.metrics.get("vad_end_of_speech_delay"),
                stt_final=user.metrics.get("transcription_delay"),
                end_of_turn=user.metrics.get("end_of_turn_delay"),
                llm_first_token=reply.metrics.get("llm_first_token_delay"),
                tts_first_audio=reply.metrics.get("tts_first_audio_delay"),
                e2e_latency=reply.metrics.get("e2e_latency"),
            )
        )
    return rows


_COLUMNS = (
    ("VAD end", "vad_end_of_speech"),
    ("STT final", "stt_final"),
    ("end of turn", "end_of_turn"),
    ("LLM 1st tok", "llm_first_token"),
    ("TTS 1st audio", "tts_first_audio"),
    ("played (e2e)", "e2e_latency"),
)


def latency_table(turns: Sequence[TurnLatency]) -> str:
    """A text table, milliseconds after the user stopped speaking."""
    if not turns:
        return "no completed turns"
    head = f"{'turn':<5} {'user said':<34}" + "".join(f"{name:>14}" for name, _ in _COLUMNS)
    lines = ["latency per turn (ms after the user stopped speaking)", head, "-" * len(head)]
    for index, turn in enumerate(turns, 1):
        said = turn.user_text if len(turn.user_text) <= 33 else turn.user_text[:30] + "..."
        cells = ""
        for _, field in _COLUMNS:
            value = getattr(turn, field)
            cells += f"{'-' if value is None else f'{value * 1000:.0f}':>14}"
        lines.append(f"{index:<5} {said:<34}{cells}")
    e2e = sorted(t.e2e_latency for t in turns if t.e2e_latency is not None)
    if e2e:
        median = e2e[len(e2e) // 2] if len(e2e) % 2 else (e2e[len(e2e) // 2 - 1] + e2e[len(e2e) // 2]) / 2
        lines.append(f"e2e latency: median {median * 1000:.0f} ms, worst {e2e[-1] * 1000:.0f} ms")
    return "\n".join(lines)
