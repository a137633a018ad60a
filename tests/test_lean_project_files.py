"""The repository is a LEAN project the lean CLI accepts, whose defaults run on LEAN's sample data."""

from __future__ import annotations

import ast
import json
import re
from datetime import date
from pathlib import Path

from models.bot_config import BotConfig

ROOT = Path(__file__).resolve().parent.parent


def test_config_json_is_a_python_lean_project_with_string_parameters():
    config = json.loads((ROOT / "config.json").read_text())
    assert config["algorithm-language"] == "Python"
    assert all(isinstance(v, str) for v in config["parameters"].values())


def test_default_parameters_backtest_on_the_goog_sample_data():
    parameters = json.loads((ROOT / "config.json").read_text())["parameters"]
    config = BotConfig.from_parameters(parameters.get)
    assert config.ticker == "GOOG"
    assert (config.start_date, config.end_date) == (date(2015, 12, 23), date(2015, 12, 28))


def test_lean_json_is_accepted_by_the_lean_cli():
    # lean-cli strips // comments and refuses a lean.json without an organization id
    text = re.sub(r"//[^\r\n\"]*[\r\n]", "", (ROOT / "lean.json").read_text())
    lean = json.loads(text)
    assert re.fullmatch(r"[0-9a-f]{32}", lean["organization-id"])
    assert lean["data-folder"] == "data"
    assert "backtesting" in lean["environments"] and "live-paper" in lean["environments"]


def test_no_algorithm_imports_module_shadows_leans_at_the_root():
    assert not (ROOT / "AlgorithmImports.py").exists()


def test_main_py_defines_exactly_one_thin_algorithm_class():
    source = (ROOT / "main.py").read_text()
    tree = ast.parse(source)
    classes = [n for n in tree.body if isinstance(n, ast.ClassDef)
               and any(isinstance(b, ast.Name) and b.id == "QCAlgorithm" for b in n.bases)]
    assert len(classes) == 1
    assert len(source.splitlines()) < 200


def test_readme_documents_the_commands_a_user_runs():
    readme = (ROOT / "README.md").read_text()
    for command in ("make backtest", "make test", "lean backtest .", "lean live deploy", "lean research"):
        assert command in readme


def test_ci_runs_the_readme_test_command():
    assert "make test" in (ROOT / ".ci" / "run").read_text()
