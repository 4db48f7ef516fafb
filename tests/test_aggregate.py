"""The aggregate: each metric keeps its own sample count, extractor and split, so an image run
(images, and pixel metrics on at most 1,024 of them) and a video run (clips, frames) summarise
side by side without one sample count standing for a whole row."""

import json
from pathlib import Path

import yaml

from sagan.report.aggregate import aggregate, metric_protocol
from sagan.run_folder import write_status


def fake_run(root: Path, dataset: str, metrics: dict[str, dict]) -> Path:
    """A finished run folder with the files the aggregate reads (no training)."""
    run = root / dataset
    run.mkdir(parents=True)
    cfg = {
        "study": "s",
        "variant": "dcgan",
        "data": {"dataset": dataset, "size": "full", "resolution": 16},
        "train": {"seed": 0},
    }
    (run / "config.yaml").write_text(yaml.safe_dump(cfg))
    write_status(run, "done", iterations=10)
    (run / "metrics.json").write_text(json.dumps({"status": "done", "metrics": metrics}))
    return run


def entry(value: float, n: int, extractor: str | None, split: str = "heldout") -> dict:
    return {"value": value, "num_samples": n, "extractor": extractor, "reference_split": split}


def test_image_and_video_runs_keep_each_metrics_sample_count(tmp_path):
    image = fake_run(
        tmp_path,
        "digits",
        {
            "fd_domain": entry(3.0, 2000, "domain"),
            "swd_16px": entry(9.0, 1024, None),  # pixel metrics: at most 1,024 images
        },
    )
    video = fake_run(
        tmp_path,
        "moving",
        {
            "fd_video_domain3d": entry(5.0, 12, "domain"),  # 12 clips
            "fd_frame_domain": entry(4.0, 96, "domain"),  # their 96 frames
        },
    )
    summary = aggregate([image, video])
    assert "num_samples" not in summary and "reference_split" not in summary
    assert summary.set_index("dataset").loc["moving", "fd_frame_domain"] == 4.0

    protocol = metric_protocol([image, video]).set_index(["dataset", "metric"])
    counts = protocol["num_samples"].to_dict()
    assert counts == {
        ("digits", "fd_domain"): 2000,
        ("digits", "swd_16px"): 1024,
        ("moving", "fd_video_domain3d"): 12,
        ("moving", "fd_frame_domain"): 96,
    }
    samples = protocol["samples"].to_dict()
    assert samples[("moving", "fd_video_domain3d")] == "generated clips"
    assert samples[("moving", "fd_frame_domain")] == "generated frames"
    assert samples[("digits", "fd_domain")] == "generated images"
    assert protocol.loc[("digits", "fd_domain"), "extractor"] == "domain"
    assert protocol.loc[("digits", "swd_16px"), "family"] == "swd"
    assert set(protocol["better"]) == {"lower"} and protocol["unit"].str.len().min() > 0


def test_a_metric_no_longer_declared_still_aggregates(tmp_path):
    run = fake_run(tmp_path, "digits", {"old_score": entry(1.0, 10, None)})
    row = metric_protocol([run]).iloc[0]
    assert row["metric"] == "old_score" and row["family"] == "" and row["num_samples"] == 10
    assert aggregate([run]).loc[0, "old_score"] == 1.0
