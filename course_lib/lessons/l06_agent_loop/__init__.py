"""Lesson 06, The agent loop: the lesson's own code (the PR reviewer (``pr_review``), its synthetic pull requests (``pr_synthetic``), the context budget (``pr_budget``), ``plots`` and ``widgets``).

Notebook ``notebooks/06_agent_loop.ipynb`` imports from these modules; nothing in the reusable core imports them.
"""

__all__: list[str] = []
