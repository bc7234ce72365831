"""Render tests run torch on one thread."""

import pytest

from ..conftest import single_torch_thread

one_thread = pytest.fixture(autouse=True, scope="module", name="one_thread")(single_torch_thread)
