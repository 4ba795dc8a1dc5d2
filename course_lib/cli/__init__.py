"""The command-line tools: ``course`` (``main``: grade, record, serve-local, doctor) and ``cot-orchestrator`` (``cot``)."""

__all__: list[str] = []
