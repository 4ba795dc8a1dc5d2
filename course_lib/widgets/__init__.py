"""ipywidgets helpers the lessons call, one module per topic. Each widget drives a plain function
that a lesson also calls directly, so results are visible without a front end.

ipywidgets is imported inside the functions, never at package import time.
"""
