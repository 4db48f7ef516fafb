from pathlib import Path

import pytest
import torch

from sagan.data import prepare

torch.set_num_threads(1)


@pytest.fixture(scope="session")
def digits16(tmp_path_factory) -> Path:
    """The digits dataset prepared at 16 px with 200 held out (shared by the session)."""
    path = tmp_path_factory.mktemp("data") / "digits16.pt"
    prepare("digits", 16, path, heldout=200)
    return path
