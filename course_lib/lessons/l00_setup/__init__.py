"""Lesson 00, Setup: the lesson's own code (its evidence box (``evidence``): replay is deterministic, and which answers are recorded or scripted).

Notebook ``notebooks/00_setup.ipynb`` imports from these modules; nothing in the reusable core imports them.
"""

__all__: list[str] = []
