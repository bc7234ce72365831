import pytest
import torch


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Rendering is many small tensor ops: on a busy 2-core machine one thread beats two by far."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
