"""Companion library for the course Prompt Engineering as System Design."""
