"""Companion library of the course *Prompt Engineering as System Design*.

Import what a lesson needs from here; heavy dependencies (the ``openai`` SDK, chromadb, matplotlib)
are loaded only when the object that needs them is first used, so ``import course_lib`` stays fast.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

#: public name -> module that defines it (imported on first access).
_EXPORTS: dict[str, str] = {
    "BadRequestError": "course_lib.providers.base",
    "BaseProvider": "course_lib.providers.base",
    "ChatResult": "course_lib.providers.base",
    "Choice": "course_lib.providers.base",
    "ConfigurationError": "course_lib.providers.base",
    "FaultSchedule": "course_lib.providers.faulty",
    "FaultyProvider": "course_lib.providers.faulty",
    "LatencyModel": "course_lib.providers.replay",
    "OpenAIProvider": "course_lib.providers.openai_adapter",
    "ProviderError": "course_lib.providers.base",
    "ProviderTimeout": "course_lib.providers.base",
    "RateLimitError": "course_lib.providers.base",
    "RecordingStore": "course_lib.providers.recordings",
    "ReplayExhaustedError": "course_lib.providers.replay",
    "ReplayMissError": "course_lib.providers.replay",
    "ReplayTransport": "course_lib.providers.replay",
    "ScriptedProvider": "course_lib.providers.scripted",
    "ServerError": "course_lib.providers.base",
    "StreamChunk": "course_lib.providers.base",
    "Usage": "course_lib.providers.base",
    "count_message_tokens": "course_lib.tokens",
    "count_tokens": "course_lib.tokens",
    "get_provider": "course_lib.providers.registry",
    "provider_config": "course_lib.providers.registry",
    "sample_scope": "course_lib.providers.scope",
    "Conversation": "course_lib.conversation",
    "BudgetTooSmallError": "course_lib.conversation",
    "sliding_window": "course_lib.conversation",
    "keep_last_turns": "course_lib.conversation",
    "trim_to_budget": "course_lib.conversation",
    "prompt_tokens_per_turn": "course_lib.conversation",
    "system_message": "course_lib.conversation",
    "user_message": "course_lib.conversation",
    "assistant_message": "course_lib.conversation",
    "zero_shot": "course_lib.prompts",
    "few_shot_messages": "course_lib.prompts",
    "few_shot_text": "course_lib.prompts",
    "Example": "course_lib.prompts",
    "SystemPrompt": "course_lib.prompts",
    "PromptFile": "course_lib.prompt_files",
    "PromptFileError": "course_lib.prompt_files",
    "load_prompt": "course_lib.prompt_files",
    "load_prompt_file": "course_lib.prompt_files",
    "list_prompts": "course_lib.prompt_files",
    "HierarchicalMemory": "course_lib.memory",
    "WorkingMemory": "course_lib.memory",
    "ShortTermMemory": "course_lib.memory",
    "build_context": "course_lib.memory",
    "context_tokens_per_iteration": "course_lib.memory",
    "InMemoryVectorStore": "course_lib.vector_store",
    "RetryPolicy": "course_lib.retry",
    "RetryingProvider": "course_lib.retry",
    "call_with_retry": "course_lib.retry",
    "acall_with_retry": "course_lib.retry",
    "PromptCache": "course_lib.cache",
    "CachedProvider": "course_lib.cache",
    "FailoverProvider": "course_lib.failover",
    "AllProvidersFailedError": "course_lib.failover",
    "MetricsRecorder": "course_lib.metrics",
    "MeteredProvider": "course_lib.metrics",
    "TieredRouter": "course_lib.routing",
    "RuleTier": "course_lib.routing",
    "Rule": "course_lib.routing",
    "ProviderClassifier": "course_lib.routing",
    "BankingPipeline": "course_lib.banking",
    "run_batch": "course_lib.banking",
    "cascade_economics": "course_lib.banking",
    "render_chatml": "course_lib.providers.templates",
    "render_llama3": "course_lib.providers.templates",
    "render_llama2": "course_lib.providers.templates",
    "render_mistral": "course_lib.providers.templates",
    "get_template": "course_lib.providers.templates",
    "TemplateError": "course_lib.providers.templates",
    "CompletionProvider": "course_lib.providers.completion_adapter",
    "AnthropicProvider": "course_lib.providers.anthropic_adapter",
    "extract_answer": "course_lib.answers",
    "logprob_confidence": "course_lib.answers",
    "majority_vote": "course_lib.voting",
    "weighted_vote": "course_lib.voting",
    "VoteResult": "course_lib.voting",
    "GatePolicy": "course_lib.voting",
    "gate": "course_lib.voting",
    "sample_answers": "course_lib.voting",
    "self_consistency": "course_lib.voting",
    "aself_consistency": "course_lib.voting",
    "MiniLMEmbeddingFunction": "course_lib.embeddings",
    "embed": "course_lib.embeddings",
    "FewShotSelector": "course_lib.retrieval",
    "compare_fewshot_cost": "course_lib.retrieval",
    "load_examples": "course_lib.retrieval",
    "TriagePipeline": "course_lib.triage",
    "ReviewQueue": "course_lib.review",
    "request_cost": "course_lib.cost",
    "load_prices": "course_lib.cost",
    "price_of": "course_lib.cost",
    "known_models": "course_lib.cost",
    "UnknownModelError": "course_lib.cost",
    "monthly_projection": "course_lib.cost",
    "estimate_request_cost": "course_lib.cost",
    "PromptCaching": "course_lib.savings",
    "ModelRouting": "course_lib.savings",
    "OutputLimit": "course_lib.savings",
    "Compression": "course_lib.savings",
    "Batching": "course_lib.savings",
    "compound_table": "course_lib.savings",
    "Scenario": "course_lib.savings",
    "GuardedProvider": "course_lib.guards",
    "BudgetCircuitBreaker": "course_lib.guards",
    "SlidingWindowRateLimiter": "course_lib.guards",
    "AnomalyDetector": "course_lib.guards",
    "KillSwitch": "course_lib.guards",
    "TenantQuotas": "course_lib.guards",
    "ManualClock": "course_lib.guards",
    "BudgetExceededError": "course_lib.guards",
    "KillSwitchError": "course_lib.guards",
    "QuotaExceededError": "course_lib.guards",
    "RateLimitedError": "course_lib.guards",
    "safe_eval": "course_lib.calculator",
    "CalculatorError": "course_lib.calculator",
    "ReasoningStep": "course_lib.steps",
    "OrchestratorResult": "course_lib.steps",
    "Orchestrator": "course_lib.orchestrator",
    "extract_json": "course_lib.validators",
    "generate_validated": "course_lib.validators",
    "ValidationFailedError": "course_lib.validators",
    "DeadLetterQueue": "course_lib.dlq",
    "BatchRunner": "course_lib.batch",
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
