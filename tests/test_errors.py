"""One family of user errors, and nothing else passes for one (STYLE.md, item 14)."""

import pytest

from inret_engine import errors
from inret_engine.cli import check
from inret_engine.cli.main import main


@pytest.mark.parametrize("name", errors.__all__)
def test_user_errors_are_inret_errors_and_no_builtin_error(name):
    cls = getattr(errors, name)
    assert issubclass(cls, errors.InretError)
    assert not issubclass(cls, (ValueError, KeyError, LookupError, OSError))  # a numpy ValueError is a bug


def test_the_cli_reports_a_user_error_and_lets_a_bug_through(monkeypatch, tmp_path, capsys):
    assert main(["check", str(tmp_path / "nowhere")]) == 2
    assert "inret check: error:" in capsys.readouterr().err

    def bug(args):
        raise ValueError("operands could not be broadcast together")

    monkeypatch.setattr(check, "run", bug)
    with pytest.raises(ValueError, match="broadcast"):
        main(["check", str(tmp_path)])
