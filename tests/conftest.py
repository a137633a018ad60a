"""Test set-up: the repo root and the harness's fake AlgorithmImports on sys.path (as LEAN would
put the project root; the fake stands in for LEAN's module)."""

from __future__ import annotations

from harness.runner import install_fake_lean

install_fake_lean()
