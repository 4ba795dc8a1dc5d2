"""Evaluation on Inspect (lesson 11): the ``course/...`` model API, golden datasets, scorers, statistics
and the regression gate.

Submodules load on demand, so ``import course_lib`` never imports Inspect: ``model_api`` (the
``course`` model API Inspect finds through the package's entry point), ``datasets`` (golden sets as
files), ``scorers`` (deterministic and model-graded), ``stats`` (Wilson intervals, Cohen's kappa, the
paired exact test), ``tasks`` (the lesson's Inspect tasks), ``gate`` (a command that fails a prompt
change that regresses) and ``criteria`` (a prompt file's acceptance criteria, measured).
"""

__all__: list[str] = []
