"""One intra-op thread for tests on tiny tensors: import `single_thread` into a test module to apply it there."""

from __future__ import annotations

import pytest
import torch


@pytest.fixture(autouse=True, scope="module")
def single_thread():
    """Run on one intra-op thread: the tensors are tiny, and OpenMP workers spinning on a shared 2-core machine
    made gradcheck 30x slower."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
