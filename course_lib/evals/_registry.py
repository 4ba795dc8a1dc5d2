"""Inspect's entry point (``[project.entry-points.inspect_ai]``): importing it registers ``course/...`` (lesson 11)."""

from course_lib.evals.model_api import CourseModelAPI

__all__ = ["CourseModelAPI"]
