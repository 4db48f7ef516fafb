"""G's attention maps are a result of their own: made from a run's checkpoint and data into
arrays (sagan attention-maps), planned for one run per image dataset, drawn without a model."""

import copy
import textwrap
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from sagan import run_folder
from sagan.cli import main
from sagan.config import DataConfig, ModelConfig, RunConfig, TrainConfig
from sagan.errors import DataError
from sagan.metrics import attention_maps as made
from sagan.metrics.attention_maps import generator_attention, read_attention_maps
from sagan.registry import load_plugins
from sagan.study import Run, attention_map_runs
from sagan.study.model import parse_study
from sagan.train.trainer import train
from tests.test_workflow import TINY, VIDEO_TINY


def tiny_run(digits16, out, variant="sagan", **options) -> str:
    cfg = RunConfig(
        variant=variant,
        variant_options=options,
        data=DataConfig(path=str(digits16), size=32, resolution=16),
        model=ModelConfig(width=4, z_dim=8),
        train=TrainConfig(iterations=2, batch_size=8, log_every=1, sample_every=2),
    )
    assert train(cfg, out, progress=False)["state"] == "done"
    return str(out)


def test_a_runs_maps_are_saved_as_arrays_that_read_back_as_made(digits16, tmp_path):
    run = tiny_run(digits16, tmp_path / "run", g_resolutions=[8], d_resolutions=[8])
    out = tmp_path / "maps.npz"
    assert main(["attention-maps", run, "--out", str(out)]) == 0
    maps = read_attention_maps(out)
    assert maps["images"].shape == (2, 16, 16, 1) and maps["maps"].shape == (2, 3, 16, 16)
    assert maps["points"].shape == (3, 2) and int(maps["side"]) == 8
    assert np.isfinite(maps["maps"]).all() and (maps["maps"] >= 0).all()
    again = generator_attention(run)  # seeded latents: the same maps every time
    assert all(np.array_equal(maps[k], again[k]) for k in again)


def test_a_g_without_attention_gets_a_file_that_says_why_and_reads_as_none(digits16, tmp_path):
    run = tiny_run(digits16, tmp_path / "run", variant="dcgan")
    out = tmp_path / "maps.npz"
    assert "no maps" in made.write_attention_maps(run, out)
    assert read_attention_maps(out) is None
    assert "no attention block" in str(np.load(out)["none"])


def test_a_diverged_run_gets_no_maps_without_loading_its_checkpoint(tmp_path):
    run_folder.write_status(tmp_path, "diverged", iteration=3)  # and no config, no checkpoint
    made.write_attention_maps(tmp_path, tmp_path / "maps.npz")
    assert read_attention_maps(tmp_path / "maps.npz") is None


def test_an_unreadable_maps_file_is_one_error_naming_it_and_the_fix(tmp_path):
    bad = tmp_path / "maps.npz"
    bad.write_bytes(b"PK\x03\x04 not a whole zip")
    with pytest.raises(DataError, match=rf"{bad} are unreadable .*rerun its rule"):
        read_attention_maps(bad)


CHANNEL_ONLY = textwrap.dedent('''
    from sagan.models import VariantSpec
    from sagan.nn.channel import SqueezeExcitation
    from sagan.registry import register_variant


    @register_variant("channel_only")
    def channel_only() -> VariantSpec:
        """A block in G that gives no attention maps."""
        return VariantSpec(g_slots={8: SqueezeExcitation})
''')


def test_one_run_per_image_dataset_is_planned_the_first_arm_whose_g_gives_maps(install_plugin):
    study = copy.deepcopy(VIDEO_TINY)
    study["plugins"] = [install_plugin("channel_only_plugin", CHANNEL_ONLY, "channel_only")]
    load_plugins(study["plugins"])  # as validating the study does
    study["variants"] = {"dcgan": {}, "channel_only": {}, **VIDEO_TINY["variants"]}
    study["variants"]["topk"] = TINY["variants"]["topk"]  # maps too, but sagan comes first
    study["sizes"], study["seeds"] = [100, "full", 50], [3, 1, 2]
    study["datasets"] = {**VIDEO_TINY["datasets"], "pairs": TINY["datasets"]["pairs"]}
    # never dcgan (no block in G), channel_only (no maps) or the video dataset's arms
    assert attention_map_runs(parse_study(study)) == [
        Run("digits", "sagan", "full", 1),
        Run("pairs", "sagan", "full", 1),
    ]


def maps_file(run_dir, side: int | None) -> None:
    """A maps file as write_attention_maps leaves it (None: a G that gives none)."""
    path = run_folder.path(run_dir, run_folder.ATTENTION_MAPS)
    path.parent.mkdir(parents=True, exist_ok=True)
    if side is None:
        np.savez(path, none=np.array("G has no attention block"))
    else:
        np.savez(path, images=np.zeros((1, 4, 4, 1)), maps=np.zeros((1, 3, 4, 4)), side=side)


def test_the_figure_draws_each_datasets_maps_file_and_runs_no_model(tmp_path, monkeypatch):
    from sagan.report import attention_figure, build

    rows = [
        {"dataset": d, "arm": arm, "g_attention": g, "train_images": n, "seed": seed}
        | {"status": "done", "run_dir": f"{d}/{arm}/{n}/{seed}"}
        for d in ("a", "b")
        for arm, g in (("dcgan", np.nan), ("se", "8"), ("sagan", "8"))
        for n in (100, 500)
        for seed in (1, 0)
    ]
    maps_file(tmp_path / "a/se/500/0", None)  # its G gives no maps
    maps_file(tmp_path / "a/sagan/500/0", 8)
    maps_file(tmp_path / "a/sagan/100/0", 4)  # not the largest size: never drawn
    maps_file(tmp_path / "b/se/500/0", 2)  # b's first arm with maps
    maps_file(tmp_path / "b/sagan/500/0", 8)

    def no_model(*args, **kw):
        raise AssertionError("the report ran G")

    monkeypatch.setattr(made, "generator_attention", no_model)
    monkeypatch.setattr(attention_figure, "attention_maps_figure", lambda found: found)
    results = SimpleNamespace(summary=pd.DataFrame(rows), root=tmp_path)
    found = build.attention_maps(results)
    assert {title: int(f["side"]) for title, f in found.items()} == {"a · sagan": 8, "b · se": 2}
    assert int(build.attention_maps(results, arm="sagan")["b · sagan"]["side"]) == 8
    nothing = SimpleNamespace(summary=pd.DataFrame(rows), root=tmp_path / "elsewhere")
    assert not isinstance(build.attention_maps(nothing), dict)  # a note figure, not a crash
