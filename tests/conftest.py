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

    from sagan.registry import VARIANTS, _loaded_plugins

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
        _loaded_plugins.discard(module)  # a rerun in this process (mutmut) imports it again


# The bad-input and fault corpus: each collected case of these files is one bad input (a
# study YAML, a CLI argument row, a corrupt or odd file) that must give a clean error.
BAD_INPUT_FILES = (
    "test_bad_studies.py",
    "test_cli_errors.py",
    "test_checkpoints.py",
    "test_image_modes.py",
    "test_partial_failure.py",
    "test_locks.py",
    "test_shell_quoting.py",
)
_corpus: dict[str, int] = {}


def pytest_collection_modifyitems(items) -> None:
    # The slow end-to-end tests first: a broken workflow shows in minutes, not at the end.
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)
    _corpus.clear()
    for item in items:
        name = item.path.name
        if name in BAD_INPUT_FILES:
            _corpus[name] = _corpus.get(name, 0) + 1


def pytest_terminal_summary(terminalreporter) -> None:
    """How many bad-input cases the run held, per file (studies: one YAML each under
    tests/bad_studies/)."""
    if not _corpus:
        return
    parts = ", ".join(f"{n} in {name}" for name, n in sorted(_corpus.items()))
    terminalreporter.write_line(f"bad-input corpus: {sum(_corpus.values())} cases ({parts})")
