"""Lesson 04, Chain of thought: the lesson's own code (the refund audit (``refund``), streamed steps (``stream``), speculative CoT (``speculative``), the small-model experiment (``experiment``), the evidence box (``evidence``), ``plots`` and ``widgets``).

Notebook ``notebooks/04_chain_of_thought.ipynb`` imports from these modules; nothing in the reusable core imports them.
"""

__all__: list[str] = []
