"""Lesson 09, Role deep dives: the lesson's own code (build-vs-buy value (``roi``), the VRAM calculator (``vram``), ``plots`` and ``widgets``).

Notebook ``notebooks/09_role_deep_dives.ipynb`` imports from these modules; nothing in the reusable core imports them.
"""

__all__: list[str] = []
