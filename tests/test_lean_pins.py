"""`make test` also runs the algorithm-side tests in `.venv-lean`, an environment with exactly the
versions LEAN's image pins (DockerfileLeanFoundation: numpy 1.26.4, pandas 2.3.3, scipy 1.13.1).
This test proves that environment is the pinned one (it only runs there: LEAN_PINS=1)."""

from __future__ import annotations

import os

import pytest

LEAN_IMAGE = {"numpy": "1.26.4", "pandas": "2.3.3", "scipy": "1.13.1"}


@pytest.mark.skipif(os.environ.get("LEAN_PINS") != "1", reason="runs in the LEAN-pinned environment only")
def test_the_environment_has_exactly_leans_pinned_versions() -> None:
    import numpy
    import pandas
    import scipy

    assert {"numpy": numpy.__version__, "pandas": pandas.__version__, "scipy": scipy.__version__} == LEAN_IMAGE
