"""One device rule for every torch job: CUDA when present, the CPU otherwise, names checked."""

import pytest
import torch

from inret_engine.cli.main import main
from inret_engine.device import default_device, device_of, resolve_device
from inret_engine.errors import UsageError
from inret_engine.fields import Field

from .conftest import TINY_CONFIGS


def test_auto_and_none_pick_cuda_only_where_there_is_one() -> None:
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert default_device().type == expected
    assert resolve_device(None) == resolve_device("auto") == default_device()
    assert resolve_device(torch.device("cpu")) == torch.device("cpu")


def test_bad_device_names_are_usage_errors(capsys) -> None:
    with pytest.raises(UsageError, match="unknown device"):
        resolve_device("tpu-please")
    if not torch.cuda.is_available():
        with pytest.raises(UsageError, match="no CUDA GPU"):
            resolve_device("cuda")
    assert main(["build-store", "demo", "--out", "unused", "--device", "tpu-please"]) == 2
    assert "unknown device" in capsys.readouterr().err


def test_device_of_a_field() -> None:
    assert device_of(Field.create(TINY_CONFIGS["hash"], 1)) == torch.device("cpu")
    assert device_of(torch.nn.Identity()) == torch.device("cpu")
