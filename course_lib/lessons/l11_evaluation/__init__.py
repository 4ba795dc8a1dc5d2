"""Lesson 11, Evaluation: the lesson's own code (the recorded runs (``runs``), the judge's agreement (``judge``), the version comparison and the gated migration (``compare``), ``plots``, ``widgets`` and the evidence box (``evidence``)).

Notebook ``notebooks/11_evaluation.ipynb`` imports from these modules; nothing in the reusable core imports them.
"""

__all__: list[str] = []
