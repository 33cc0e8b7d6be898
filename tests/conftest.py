"""Shared fixtures: copies of the mini fixture catalogue, built stores (mini and real)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from medkg import paths

from catalogs import MINI, ROOT, TESTS, shared_or_skip  # noqa: F401 - re-exported for fixtures


@pytest.fixture
def mini_data(tmp_path: Path) -> Path:
    """A private, writable copy of the mini fixture catalogue."""
    target = tmp_path / "data"
    shutil.copytree(MINI, target)
    return target


@pytest.fixture(scope="session")
def mini_store(tmp_path_factory) -> Path:
    """The mini fixture catalogue, built once per session (read-only use)."""
    from medkg.build import build

    store_dir = tmp_path_factory.mktemp("mini-store")
    build(MINI, store_dir)
    return store_dir


@pytest.fixture(scope="session")
def real_store(tmp_path_factory) -> Path:
    """The real catalogue in data/, built once per session (read-only use)."""
    from medkg.build import build

    store_dir = tmp_path_factory.mktemp("real-store")
    build(paths.data_dir(), store_dir)
    return store_dir
