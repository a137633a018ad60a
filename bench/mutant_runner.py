"""Runs pytest for mutants: forked children of one warmed-up process, the mutant swapped in in memory.

Start-up dominates a pytest run here (plugins, hypothesis, schemathesis: ~5 s for three tests), so
the parent imports once every third-party module a test run loads, and each run is a fork of it
that imports the project's own modules afresh. The mutated module's source is handed to the import
system by a meta-path finder in the child: the file on disk is never rewritten.

``collect`` runs the test pool once on the unmutated code with a ``sys.settrace`` line tracer on
the target files: which lines each test executes, and which lines run outside any test (module and
class bodies, decorators, default values: executed at import). ``Coverage.tests_for`` picks the
tests of a mutant from that.

How a run counts (``Outcome.killed``): pytest exit 1 (a test failed) or 2 (collection failed: the
mutant breaks the import of a test module) or the run exceeding its time limit kill the mutant;
exit 0 is a survivor; anything else (pytest internal/usage error, no test collected, the child
dying on a signal) is an error and never a kill.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import json
import os
import signal
import sys
import tempfile
import threading
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from types import FrameType, ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
_PREFIX = Path(sys.prefix).resolve()
# one outer limit for a run on top of ten times its traced duration (tracing already slows it)
_BASE_TIMEOUT_S = 60.0

Tracer = Callable[[FrameType, str, Any], Any]


def _is_project_file(filename: str) -> bool:
    path = Path(filename).resolve()
    return path.is_relative_to(ROOT) and not path.is_relative_to(_PREFIX)


class _MutantFinder(importlib.abc.MetaPathFinder):
    """Imports the module whose file is ``path`` from ``source`` instead of the file."""

    def __init__(self, path: Path, source: str) -> None:
        self.path, self.source = path, source

    def find_spec(self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
                  ) -> importlib.machinery.ModuleSpec | None:
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or spec.origin is None or Path(spec.origin).resolve() != self.path:
            return None
        return importlib.util.spec_from_file_location(fullname, spec.origin, loader=_SourceLoader(self.source))


class _SourceLoader(importlib.abc.Loader):
    def __init__(self, source: str) -> None:
        self.source = source

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> None:
        return None

    def exec_module(self, module: ModuleType) -> None:
        exec(compile(self.source, module.__file__ or "<mutant>", "exec"), module.__dict__)


_COLLECTION = " (collection)"


class _Failures:
    """pytest plugin: the tests that failed; a test file that failed to import as ``file (collection)``."""

    def __init__(self) -> None:
        self.failed: list[str] = []

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.failed and report.nodeid not in self.failed:
            self.failed.append(report.nodeid)

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self.failed.append(report.nodeid + _COLLECTION)


class _LineTracer(_Failures):
    """pytest plugin: the lines of the target files each test executes ('' = outside any test)."""

    def __init__(self, files: set[str]) -> None:
        super().__init__()
        self._targets = files
        self._resolved: dict[str, str | None] = {}
        self._test = ""
        self.lines: dict[str, dict[str, set[int]]] = {}
        self.seconds: dict[str, float] = {}

    def _target(self, filename: str) -> str | None:
        if filename not in self._resolved:
            resolved = str(Path(filename).resolve())
            self._resolved[filename] = resolved if resolved in self._targets else None
        return self._resolved[filename]

    def trace_calls(self, frame: FrameType, event: str, arg: Any) -> Tracer | None:
        target = self._target(frame.f_code.co_filename)
        if target is None:
            return None
        hits = self.lines.setdefault(self._test, {}).setdefault(target, set())

        def trace_lines(frame: FrameType, event: str, arg: Any) -> Tracer:
            if event == "line":
                hits.add(frame.f_lineno)
            return trace_lines

        return trace_lines

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_protocol(self, item: pytest.Item, nextitem: pytest.Item | None) -> Any:
        self._test, start = item.nodeid, time.perf_counter()
        yield
        self.seconds[item.nodeid] = time.perf_counter() - start
        self._test = ""


@dataclass(frozen=True)
class Coverage:
    """What the unmutated code does under the test pool."""

    order: list[str]  # every test, in the order runs take them
    seconds: dict[str, float]  # traced run time per test
    lines: dict[str, dict[str, list[int]]]  # test ('' = import time) -> file -> lines executed
    failed: list[str]  # tests failing on the unmutated code (must be empty)
    preload: list[str]  # non-project modules the run imported, in import order

    def tests_for(self, file: Path, lines: range) -> list[str]:
        """The tests that execute any of ``lines`` of ``file``; every test when one of them runs at
        import (a default value or decorator argument reaches every caller); [] when none runs."""
        key, wanted = str(file.resolve()), set(lines)

        def executes(test: str) -> bool:
            return not wanted.isdisjoint(self.lines.get(test, {}).get(key, ()))

        if executes(""):
            return list(self.order)
        return [test for test in self.order if executes(test)]

    def run_time(self, tests: Sequence[str]) -> float:
        return sum(self.seconds.get(test, 0.0) for test in tests)

    def fastest_first(self) -> Coverage:
        """The same coverage with the tests in order of their run time: a killing test comes
        sooner (an order to check on the unmutated code before it is used)."""
        return replace(self, order=sorted(self.order, key=lambda test: self.seconds[test]))


@dataclass(frozen=True)
class Outcome:
    status: str  # "killed", "timeout", "import", "survived" or "error: ..."
    failed: str = ""  # the first failing test
    seconds: float = 0.0  # wall time of the run

    @property
    def killed(self) -> bool:
        return self.status in ("killed", "timeout", "import")


def _pytest_args(tests: Sequence[str]) -> list[str]:
    return ["-x", "--no-header", "-p", "no:randomly", *tests]


def _quiet_hypothesis() -> None:
    """Same examples in every run (derandomized, no example database), and no deadline: a run
    must fail on behaviour, never on the time an example took on a loaded machine."""
    from hypothesis import settings

    settings.register_profile("mutate", deadline=None, database=None, derandomize=True)
    settings.load_profile("mutate")


def _in_child(work: Callable[[], dict[str, Any]], result: Path) -> None:
    """Runs ``work`` in this forked child, writes its JSON to ``result`` and exits (never returns)."""
    code = 70
    try:
        os.setpgid(0, 0)
        devnull = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(devnull, fd)
        os.chdir(ROOT)
        _quiet_hypothesis()
        result.write_text(json.dumps(work()), encoding="utf-8")
        code = 0
    finally:
        os._exit(code)


def collect(test_files: Sequence[str], targets: Sequence[Path]) -> Coverage:
    """Runs ``test_files`` once on the unmutated code, tracing the lines of ``targets``."""

    def work() -> dict[str, Any]:
        tracer = _LineTracer({str(path.resolve()) for path in targets})
        sys.settrace(tracer.trace_calls)
        threading.settrace(tracer.trace_calls)
        pytest.main(["--no-header", "-p", "no:randomly", *test_files], plugins=[tracer])
        sys.settrace(None)
        preload = [name for name, module in list(sys.modules.items())
                   if not _is_project_file(getattr(module, "__file__", None) or "/")]
        return {"order": list(tracer.seconds), "seconds": tracer.seconds, "failed": tracer.failed,
                "lines": {test: {file: sorted(hits) for file, hits in files.items()}
                          for test, files in tracer.lines.items()},
                "preload": preload}

    with tempfile.TemporaryDirectory() as tmp:
        result = Path(tmp) / "coverage.json"
        pid = os.fork()
        if pid == 0:
            _in_child(work, result)
        _, status = os.waitpid(pid, 0)
        if os.waitstatus_to_exitcode(status) != 0 or not result.exists():
            raise RuntimeError("the coverage run of the test pool crashed")
        data = json.loads(result.read_text(encoding="utf-8"))
    return Coverage(order=data["order"], seconds=data["seconds"], lines=data["lines"], failed=data["failed"],
                    preload=data["preload"])


def preload(modules: Sequence[str]) -> None:
    """Imports in this (parent) process the third-party modules every run needs, once, and moves
    them out of the garbage collector's sight (pytest collects garbage at exit: twice 80 ms)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # deprecations: each test run reports its own
        for name in modules:
            if name not in sys.modules:
                with contextlib.suppress(ImportError):  # an alias such as six.moves: loaded by its parent
                    importlib.import_module(name)
    gc.collect()
    gc.freeze()


@dataclass(frozen=True)
class Run:
    """One pytest run: ``tests`` against the project with ``mutant`` (file, source) swapped in."""

    tests: list[str]
    mutant: tuple[Path, str] | None
    timeout_s: float


def _start(run: Run, result: Path) -> int:
    def work() -> dict[str, Any]:
        if run.mutant is not None:
            sys.meta_path.insert(0, _MutantFinder(run.mutant[0].resolve(), run.mutant[1]))
        failures = _Failures()
        code = pytest.main(_pytest_args(run.tests), plugins=[failures])
        return {"code": int(code), "failed": failures.failed[:1]}

    pid = os.fork()
    if pid == 0:
        _in_child(work, result)
    return pid


def _outcome(status: int, result: Path) -> Outcome:
    if os.waitstatus_to_exitcode(status) != 0 or not result.exists():
        return Outcome(f"error: the run died ({os.waitstatus_to_exitcode(status)})")
    data = json.loads(result.read_text(encoding="utf-8"))
    failed = (data["failed"] or [""])[0]
    code = data["code"]
    if code == pytest.ExitCode.OK:
        return Outcome("survived")
    if code == pytest.ExitCode.TESTS_FAILED:
        return Outcome("killed", failed)
    if failed.endswith(_COLLECTION) and code in (pytest.ExitCode.INTERRUPTED, pytest.ExitCode.USAGE_ERROR):
        return Outcome("import", failed)  # a test file failed to import: 2, or 4 when its tests were named
    return Outcome(f"error: pytest exit {code}", failed)


def run_all(runs: Sequence[Run], jobs: int = 1) -> list[Outcome]:
    """Every run, ``jobs`` at a time; a run over its time limit is killed and counts as a timeout."""
    outcomes: dict[int, Outcome] = {}
    running: dict[int, tuple[int, float, Path]] = {}  # pid -> (index, start, result file)
    pending = list(enumerate(runs))
    with tempfile.TemporaryDirectory() as tmp:
        try:
            while pending or running:
                while pending and len(running) < jobs:
                    index, run = pending.pop(0)
                    result = Path(tmp) / f"{index}.json"
                    running[_start(run, result)] = (index, time.monotonic(), result)
                pid, status = os.waitpid(-1, os.WNOHANG)
                if pid in running:
                    index, start, result = running.pop(pid)
                    outcomes[index] = replace(_outcome(status, result), seconds=time.monotonic() - start)
                    continue
                for pid, (index, start, _) in list(running.items()):
                    if time.monotonic() - start > runs[index].timeout_s:
                        os.killpg(pid, signal.SIGKILL)
                        os.waitpid(pid, 0)
                        del running[pid]
                        outcomes[index] = Outcome("timeout", seconds=time.monotonic() - start)
                time.sleep(0.01)
        finally:
            for pid in running:
                os.killpg(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
    return [outcomes[index] for index in range(len(runs))]


def timeout_for(coverage: Coverage, tests: Sequence[str]) -> float:
    return _BASE_TIMEOUT_S + 10.0 * coverage.run_time(tests)
