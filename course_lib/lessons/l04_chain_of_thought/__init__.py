"""Lesson 04, Chain of thought: the lesson's own code (the refund audit (``refund``), streamed steps (``stream``), ``plots`` and ``widgets``).

Notebook ``notebooks/04_chain_of_thought.ipynb`` imports from these modules; nothing in the reusable core imports them.
"""

__all__: list[str] = []
