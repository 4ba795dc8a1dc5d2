"""Lesson 01, Garbage in, garbage out: the lesson's own code (the banking assistant (``banking``), the answer-spread scenario (``scenario``), ``plots`` and ``widgets``).

Notebook ``notebooks/01_gigo.ipynb`` imports from these modules; nothing in the reusable core imports them.
"""

__all__: list[str] = []
