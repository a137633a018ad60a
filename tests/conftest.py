"""Test set-up: the repo root and the harness's fake AlgorithmImports on sys.path (as LEAN would
put the project root; the fake stands in for LEAN's module)."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from harness.runner import install_fake_lean
from utils.logging_config import ROOT_LOGGER

install_fake_lean()


@pytest.fixture(autouse=True)
def _restore_project_logger() -> Iterator[None]:
    """A harness run attaches LEAN's handler and stops propagation (as in LEAN); give every test
    the project logger as it found it, so caplog sees records whatever ran before."""
    root = logging.getLogger(ROOT_LOGGER)
    saved = (list(root.handlers), root.level, root.propagate)
    root.handlers, root.level, root.propagate = [], logging.INFO, True
    yield
    root.handlers, root.level, root.propagate = saved[0], saved[1], saved[2]
