"""Lesson 07, Structured output: the lesson's own code (the e-mail ETL (``etl``), the enforcement-layer experiment (``layers``), ``plots`` and ``widgets``).

Notebook ``notebooks/07_structured_output.ipynb`` imports from these modules; nothing in the reusable core imports them.
"""

__all__: list[str] = []
