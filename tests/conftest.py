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


@pytest.fixture
def install_plugin(tmp_path, monkeypatch):
    """install_plugin(module, source, variant): write a plug-in module that registers
    ``variant`` and put it on the import path; both are removed after the test."""
    import sys

    from sagan.registry import VARIANTS

    installed = []

    def install(module: str, source: str, variant: str) -> str:
        (tmp_path / f"{module}.py").write_text(source)
        monkeypatch.syspath_prepend(str(tmp_path))
        installed.append((module, variant))
        return module

    yield install
    for module, variant in installed:
        if variant in VARIANTS.names():
            VARIANTS.unregister(variant)
        sys.modules.pop(module, None)


def pytest_terminal_summary(terminalreporter) -> None:
    """How many bad-input cases the corpus holds (one YAML each under tests/bad_studies/)."""
    cases = len(list((Path(__file__).parent / "bad_studies").glob("*.yaml")))
    terminalreporter.write_line(f"bad-input corpus: {cases} cases (tests/bad_studies/)")
