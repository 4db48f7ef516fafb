"""What a measurement ran on: library versions, the device, and what this install lacks.

Rows of (fact, value), so a table of timings can be read against the machine that made them.
"""

from __future__ import annotations

import os
import platform
import re
import subprocess
import tomllib
from importlib.metadata import PackageNotFoundError, distribution, requires
from pathlib import Path

import torch

GIB = 2**30


def lscpu() -> dict[str, str]:
    """lscpu's "key: value" lines ({} where lscpu is missing)."""
    try:
        text = subprocess.run(["lscpu"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return {}
    pairs = (line.split(":", 1) for line in text.splitlines() if ":" in line)
    return {key.strip(): value.strip() for key, value in pairs}


def cpu_facts() -> list[tuple[str, str]]:
    """The CPU's model, cores, and whether it has bf16 instructions (else bf16 is emulated)."""
    info = lscpu()
    flags = set(info.get("Flags", "").split())
    return [
        ("cpu", info.get("Model name", platform.processor() or "unknown")),
        ("cpu cores", str(os.cpu_count())),
        ("torch threads", str(torch.get_num_threads())),
        ("avx512_bf16", "yes" if "avx512_bf16" in flags else "no"),
        ("amx_bf16", "yes" if "amx_bf16" in flags else "no"),
    ]


def cuda_facts(device: str) -> list[tuple[str, str]]:
    """The card's name, memory and compute capability, and whether it does bf16."""
    props = torch.cuda.get_device_properties(device)
    return [
        ("device name", props.name),
        ("device memory", f"{props.total_memory / GIB:.1f} GiB"),
        ("compute capability", f"{props.major}.{props.minor}"),
        ("multiprocessors", str(props.multi_processor_count)),
        ("bf16 supported", str(torch.cuda.is_bf16_supported())),
        ("visible devices", str(torch.cuda.device_count())),
    ]


def requirements(package: str = "sagan-bench") -> list[str]:
    """The package's requirements (extras apart): from its install, else from the
    pyproject.toml of the folder it runs in (the checkout's root, where .ci/gpu-check runs:
    an installed package never reads beside itself)."""
    try:
        return [r for r in requires(package) or [] if "extra ==" not in r]
    except PackageNotFoundError:
        pyproject = Path("pyproject.toml")
        if not pyproject.is_file():
            return []
        return tomllib.loads(pyproject.read_text())["project"]["dependencies"]


def missing_requirements(package: str = "sagan-bench") -> list[str]:
    """Those of the package's own requirements that are not installed here."""
    missing = []
    for spec in requirements(package):
        name = re.split(r"[\s<>=!~;\[]", spec, maxsplit=1)[0]
        try:
            distribution(name)
        except PackageNotFoundError:
            missing.append(name)
    return missing


def environment_facts(device: str) -> list[tuple[str, str]]:
    """(fact, value) rows: Python, torch, CUDA, cuDNN, the device, and missing packages."""
    cudnn = torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None
    rows = [
        ("python", platform.python_version()),
        ("torch", torch.__version__),
        ("cuda (torch built with)", torch.version.cuda or "none"),
        ("cudnn", str(cudnn or "none")),
        ("cuda available", str(torch.cuda.is_available())),
        ("device", device),
    ]
    rows += cuda_facts(device) if device.startswith("cuda") else []
    rows += cpu_facts()
    rows.append(("missing requirements", ", ".join(missing_requirements()) or "none"))
    rows.append(("registered variants", registered_variants()))
    return rows


def registered_variants() -> str:
    """The variants the installed plug-in packages register (none where the checkout runs
    uninstalled: its plug-ins are found through the package's entry points)."""
    from sagan.registry import VARIANTS, load_plugins

    load_plugins()
    return ", ".join(VARIANTS.names()) or "none: install the checkout (pip install --no-deps .)"
