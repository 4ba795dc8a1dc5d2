"""Lesson 03, Prompt fundamentals: the lesson's own code (the format-consistency experiment (``format_check``), the number-of-examples sweep (``k_sweep``), ``plots``, ``widgets`` and the ``evidence`` box).

Notebook ``notebooks/03_prompt_fundamentals.ipynb`` imports from these modules; nothing in the reusable core imports them.
"""

__all__: list[str] = []
