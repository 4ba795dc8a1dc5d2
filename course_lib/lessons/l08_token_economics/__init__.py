"""Lesson 08, Token economics: the lesson's own code (the savings calculators (``savings``), the runaway-loop simulation (``runaway``), ``plots`` and ``widgets``).

Notebook ``notebooks/08_token_economics.ipynb`` imports from these modules; nothing in the reusable core imports them.
"""

__all__: list[str] = []
