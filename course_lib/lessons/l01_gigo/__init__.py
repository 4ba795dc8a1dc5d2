"""Lesson 01, Garbage in, garbage out: the lesson's own code (the banking assistant (``banking``), the answer-spread scenario (``scenario``), next-token ``entropy``, the model-written-prompt comparison (``prompt_search``), ``plots``, ``widgets`` and the ``evidence`` box).

Notebook ``notebooks/01_gigo.ipynb`` imports from these modules; nothing in the reusable core imports them.
"""

__all__: list[str] = []
