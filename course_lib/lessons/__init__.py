"""Each lesson's own code: its scenarios, widgets and plots, one package per lesson (``l05_self_consistency`` for ``notebooks/05_self_consistency.ipynb``).

The reusable core (``course_lib.*``) never imports from here.
"""

__all__: list[str] = []
