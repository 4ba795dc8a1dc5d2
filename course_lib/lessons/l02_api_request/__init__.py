"""Lesson 02, Anatomy of an API request: the lesson's own code (``plots`` and ``widgets`` for the context window and conversation trimming, assistant ``prefill``, the blue-green ``cutover``, and the ``evidence`` box).

Notebook ``notebooks/02_api_request.ipynb`` imports from these modules; nothing in the reusable core imports them.
"""

__all__: list[str] = []
