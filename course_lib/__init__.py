"""Companion library of the course *Prompt Engineering as System Design*: the reusable core.

The names below are the patterns a learner lifts into their own systems; each lesson's own scenarios,
widgets and plots live in :mod:`course_lib.lessons`, the command-line tools in :mod:`course_lib.cli`
and the grader in :mod:`course_lib.grading`. Import the core from here; heavy dependencies (the ``openai`` SDK, chromadb, matplotlib)
are loaded only when the object that needs them is first used, so ``import course_lib`` stays fast.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.2.0"

#: public name -> module that defines it (imported on first access).
_EXPORTS: dict[str, str] = {
    "AgentMachine": "course_lib.agent",
    "BaseProvider": "course_lib.providers.base",
    "BatchRunner": "course_lib.batch",
    "BudgetCircuitBreaker": "course_lib.guards",
    "BudgetTooSmallError": "course_lib.conversation",
    "ChatResult": "course_lib.providers.base",
    "ConfigurationError": "course_lib.providers.base",
    "Conversation": "course_lib.conversation",
    "DeadLetterQueue": "course_lib.dlq",
    "Example": "course_lib.prompts",
    "FailoverProvider": "course_lib.failover",
    "FaultyProvider": "course_lib.providers.faulty",
    "FewShotSelector": "course_lib.retrieval",
    "GatePolicy": "course_lib.voting",
    "Gateway": "course_lib.gateway",
    "GuardedProvider": "course_lib.guards",
    "HierarchicalMemory": "course_lib.memory",
    "MetricsRecorder": "course_lib.metrics",
    "Orchestrator": "course_lib.orchestrator",
    "PromptCache": "course_lib.cache",
    "ProviderError": "course_lib.providers.base",
    "RateLimitError": "course_lib.providers.base",
    "ReplayMissError": "course_lib.providers.replay.transport",
    "RetryPolicy": "course_lib.retry",
    "ScriptedProvider": "course_lib.providers.scripted",
    "SystemPrompt": "course_lib.prompts",
    "TieredRouter": "course_lib.routing",
    "ValidationFailedError": "course_lib.validators",
    "aself_consistency": "course_lib.voting",
    "count_message_tokens": "course_lib.tokens",
    "count_tokens": "course_lib.tokens",
    "extract_answer": "course_lib.answers",
    "extract_json": "course_lib.validators",
    "few_shot_messages": "course_lib.prompts",
    "gate": "course_lib.voting",
    "generate_validated": "course_lib.validators",
    "get_provider": "course_lib.providers.registry",
    "load_prices": "course_lib.cost",
    "load_prompt": "course_lib.prompt_files",
    "majority_vote": "course_lib.voting",
    "monthly_projection": "course_lib.cost",
    "provider_config": "course_lib.providers.registry",
    "request_cost": "course_lib.cost",
    "safe_eval": "course_lib.calculator",
    "sample_scope": "course_lib.providers.replay.scope",
    "self_consistency": "course_lib.voting",
    "sliding_window": "course_lib.conversation",
    "trim_to_budget": "course_lib.conversation",
    "weighted_vote": "course_lib.voting",
    "zero_shot": "course_lib.prompts",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'course_lib' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
