"""What a model job does before its work, run in a fresh process to be timed:
``python -m sagan.forecast.job_start '{"config": RUN_CONFIG, "meta": META, "device": D}'``.

A train or evaluate job imports torch, the trainer and the metrics (torchvision, clean-fid
and scikit-learn among them), loads its prepared data, then builds its models and optimisers;
torch's Adam imports torch._dynamo on first use, seconds that an in-process timing never sees
again. Data not prepared yet is not loaded (the caller notes it).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def start(config: dict, meta: dict, device: str = "cpu") -> None:
    import torch

    # what a job's `python -m sagan.cli` imports (the CLI module itself imports its commands
    # lazily, in a fraction of a second, and importing it here would tie the packages)
    import sagan.metrics.image_evaluate  # noqa: F401
    from sagan.config import RunConfig, from_dict
    from sagan.data import load_prepared
    from sagan.data.meta import DataMeta
    from sagan.train.trainer import build

    cfg = from_dict(RunConfig, config)
    if cfg.data.path and Path(cfg.data.path).is_file():
        load_prepared(cfg.data.path)
    build(
        cfg, DataMeta.from_dict(meta), torch.device(device)
    )  # on a GPU: its context's start-up too


if __name__ == "__main__":
    start(**json.loads(sys.argv[1]))
