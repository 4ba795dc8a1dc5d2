"""Matplotlib helpers the lessons call, one module per topic, so notebook cells stay short.

matplotlib is imported inside the functions, never at package import time.
"""
