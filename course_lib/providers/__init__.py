"""Providers: the interface, the adapters, replay and recording, and the fakes (lesson 02)."""
