"""The OpenAI SDK versions this instrumentation supports."""

_instruments = ("openai >= 1.40, < 4",)
