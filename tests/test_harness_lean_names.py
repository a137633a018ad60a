"""The fake AlgorithmImports may only expose names that exist in LEAN (quantconnect-stubs)."""

from __future__ import annotations

import inspect
from enum import Enum

import AlgorithmImports as fake
import pytest

from tests.lean_stubs import has_class, members_of

# Members that exist on the fake for Python's sake only (containers, dataclass plumbing).
PYTHON_PROTOCOL = {"get", "items", "keys", "values", "copy", "clear", "pop", "popitem", "setdefault",
                   "update", "fromkeys", "zero"}


# Python names that LEAN's own AlgorithmImports re-exports (Common/AlgorithmImports.py:
# `from datetime import date, time, datetime, timedelta`, `import math`, `import json`, numpy as np,
# pandas as pd); they are not LEAN classes.
LEAN_PYTHON_REEXPORTS = {"date", "datetime", "json", "math", "np", "pd", "time", "timedelta"}
LEAN_CLASSES = [n for n in fake.__all__ if n not in LEAN_PYTHON_REEXPORTS]


def test_python_reexports_are_the_python_objects():
    import datetime as dt
    import json
    import math

    import numpy as np
    import pandas as pd
    expected = {"date": dt.date, "datetime": dt.datetime, "time": dt.time, "timedelta": dt.timedelta,
                "json": json, "math": math, "np": np, "pd": pd}
    assert {n: getattr(fake, n) for n in LEAN_PYTHON_REEXPORTS} == expected


def test_the_fake_is_the_harness_module_not_leans():
    assert fake.__file__.endswith("harness/AlgorithmImports.py")


@pytest.mark.parametrize("name", LEAN_CLASSES)
def test_every_exported_name_is_a_lean_class(name):
    assert has_class(name), f"{name} is exported by the harness but is not a class in quantconnect-stubs"


def _public_members(cls: type) -> set[str]:
    names = set()
    for klass in cls.__mro__:
        if klass.__module__.startswith("harness."):
            names |= {n for n in vars(klass) if not n.startswith("_")}
            names |= {n for n in getattr(klass, "__annotations__", {}) if not n.startswith("_")}
            names |= {n for n in getattr(klass, "__slots__", ()) if not n.startswith("_")}
    if issubclass(cls, Enum):
        names |= set(cls.__members__)
    return names


def _instance_attributes(cls: type) -> set[str]:
    init = vars(cls).get("__init__")
    try:
        source = inspect.getsource(init) if init is not None else ""
    except (OSError, TypeError):  # generated (dataclass) __init__: fields are in __annotations__
        return set()
    return {line.split("self.", 1)[1].split("=")[0].split(":")[0].strip()
            for line in source.splitlines() if line.strip().startswith("self.") and "=" in line
            and not line.strip().startswith("self._")}


@pytest.mark.parametrize("name", [n for n in LEAN_CLASSES if inspect.isclass(getattr(fake, n))])
def test_every_public_member_of_a_fake_class_exists_in_lean(name):
    cls = getattr(fake, name)
    lean_members = members_of(name)
    ours = (_public_members(cls) | _instance_attributes(cls)) - PYTHON_PROTOCOL
    missing = sorted(m for m in ours if m not in lean_members)
    assert not missing, f"{name} exposes members LEAN does not have: {missing}"


def test_the_checker_itself_catches_a_made_up_member():
    assert "market_order" in members_of("QCAlgorithm")
    assert "MarketOrder" not in members_of("QCAlgorithm")
    assert "greek" not in members_of("OptionContract")
