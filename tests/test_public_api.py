"""The public API: what each package re-exports is what its modules declare public."""

import importlib

import pytest

PACKAGES = {
    "voxtrio.core": [
        "mailbox", "pacing", "actor", "errors", "supervisor", "emitter", "async_value", "clock",
        "loop_lag", "fast_clock", "connection_pool", "exp_filter", "moving_average", "bounded_dict", "misc",
    ],
    "voxtrio.actors": ["mic", "playout", "messages_audio", "vad", "stt", "tts", "engine_messages"],
    "voxtrio.testing": [
        "user", "recorder", "virtual_time", "faults", "chat_server", "realtime_server",
        "conformance", "speech",
    ],
    "voxtrio.engines": ["errors", "metrics", "chat", "tools", "llm", "function_llm"],
}


@pytest.mark.parametrize("package", sorted(PACKAGES))
def test_packages_reexport_every_public_name(package):
    pkg = importlib.import_module(package)
    for module_name in PACKAGES[package]:
        module = importlib.import_module(f"{package}.{module_name}")
        for name in module.__all__:
            assert getattr(pkg, name) is getattr(module, name), f"{package}.{name}"


def test_top_level_names_for_voice_agent_scripts():
    import voxtrio

    for name in [
        "AgentSession", "Agent", "MetricsCollectedEvent", "UserInputTranscribedEvent",
        "ConversationItemAddedEvent", "ErrorEvent", "CloseEvent", "TurnHandlingOptions",
        "AudioFrame", "ChatContext", "ChatMessage", "FunctionLLM", "function_tool",
    ]:
        assert hasattr(voxtrio, name), name
    from voxtrio.metrics import STTMetrics, UsageCollector, log_metrics  # noqa: F401
