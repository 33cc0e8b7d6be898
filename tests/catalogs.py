"""Where the test catalogues are, and the skip for a missing ../shared (importable by tests)."""

from __future__ import annotations

from pathlib import Path

import pytest

from medkg import paths

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
MINI = TESTS / "fixtures" / "mini" / "data"


def shared_or_skip() -> Path:
    shared = paths.shared_dir()
    if shared is None:
        pytest.skip("../shared (upstream input and standards) is not present beside the project")
    return shared
