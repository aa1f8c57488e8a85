"""Fixtures shared by the tests (helpers live in helpers.py)."""
from __future__ import annotations

import pytest

from helpers import Runner


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Runner:
    monkeypatch.setenv("NO_COLOR", "1")
    return Runner(capsys, monkeypatch)
