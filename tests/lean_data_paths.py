"""Where LEAN's sample data and LEAN's own example algorithms live (outside the repo, read-only):
``../shared/lean-data`` and ``../shared/lean-examples``; tests skip with this reason without them."""

from __future__ import annotations

from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parent.parent.parent / "shared"
LEAN_DATA = SHARED / "lean-data"
LEAN_EXAMPLES = SHARED / "lean-examples"

needs_lean_data = pytest.mark.skipif(
    not (LEAN_DATA / "market-hours" / "market-hours-database.json").is_file(),
    reason=f"LEAN sample data ({LEAN_DATA}) is not present")
needs_lean_examples = pytest.mark.skipif(
    not (LEAN_EXAMPLES / "expected-statistics.json").is_file(),
    reason=f"LEAN's example algorithms ({LEAN_EXAMPLES}) are not present")
