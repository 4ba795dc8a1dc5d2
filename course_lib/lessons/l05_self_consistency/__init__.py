"""Lesson 05, Self-consistency: the lesson's own code (the triage pipeline (``triage``), vote accuracy curves (``vote_eval``), the evidence box (``evidence``), ``plots`` and ``widgets``).

Notebook ``notebooks/05_self_consistency.ipynb`` imports from these modules; nothing in the reusable core imports them.
"""

__all__: list[str] = []
