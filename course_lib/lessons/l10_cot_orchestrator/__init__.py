"""Lesson 10, Build a CoT orchestrator: the lesson's own code (the step-summary memory (``memory``), ``plots`` and ``widgets``).

Notebook ``notebooks/10_cot_orchestrator.ipynb`` imports from these modules; nothing in the reusable core imports them.
"""

__all__: list[str] = []
