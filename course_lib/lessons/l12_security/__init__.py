"""Lesson 12, Untrusted input: the lesson's own code (the attack corpus (``corpus``), the four defences and their measurement (``experiment``), the tool policy demo (``policy``), the evidence box (``evidence``), ``plots`` and ``widgets``).

Notebook ``notebooks/12_security.ipynb`` imports from these modules; nothing in the reusable core imports them.
"""

__all__: list[str] = []
