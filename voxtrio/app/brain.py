"""The demo brain: an offline "LLM" that answers what it heard.

    llm = FunctionLLM(demo_brain)

No language model ships offline, so the embedded default agent is a small rule-based
function: it answers a few kinds of question (time, weather, timers, greetings) and
otherwise repeats what it understood, which makes the speech recognition visible.
Swap in a real model with `voxtrio run --llm URL --model NAME`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from voxtrio.engines.chat import ChatContext

__all__ = ["demo_brain"]

_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\b(hello|hi|hey)\b"), "Hello! I am a voxtrio agent running offline. How can I help?"),
    (re.compile(r"\bweather\b"), "I cannot look outside, but I hope the weather is kind to you today."),
    (re.compile(r"\btimer\b"), "I would set that timer if I had a clock of my own."),
    (re.compile(r"\btime\b"), "I run on trio's clock, so for me it is always now."),
    (re.compile(r"\b(lights?|music)\b"), "I heard a request for your home. I cannot control devices yet."),
    (re.compile(r"\b(bye|goodbye)\b"), "Goodbye!"),
)


def demo_brain(chat_ctx: ChatContext) -> Iterator[str]:
    """Yield the reply to the last user message, sentence by sentence."""
    users = [m for m in chat_ctx.messages() if m.role == "user"]
    heard = users[-1].text_content.strip() if users else ""
    if not heard:
        yield "I did not catch that."
        return
    yield f"You said: {heard}. "
    lowered = heard.lower()
    for pattern, answer in _RULES:
        if pattern.search(lowered):
            yield answer
            return
