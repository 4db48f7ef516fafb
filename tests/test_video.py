"""Video: bouncing-digit physics, the clip datasets, 3D attention against its definition, the
temporal scores on real vs shuffled clips, study checks, and a video run scored end to end."""

import copy
import json

import numpy as np
import pytest
import torch
from PIL import Image

from sagan.data import DATASETS, load_prepared, prepare
from sagan.data.kinds import VIDEO
from sagan.data.moving_digits import bounce, direction_octant, moving_digits, render
from sagan.data.pil_modes import to_rgb8
from sagan.errors import ConfigError, DataError
from sagan.metrics.temporal import motion_smoothness, temporal_consistency
from sagan.nn.video_attention import FactorizedAttention3d, SelfAttention3d
from sagan.study import runs, validate_study
from sagan.study.model import parse_study

# ---------------------------------------------------------------- physics and datasets


def test_bouncing_digits_stay_in_the_frame_at_constant_speed_and_reflect_at_walls():
    free, speed = 18.0, 3.5
    paths = bounce(200, 2, 40, free, speed, np.random.default_rng(0))
    pos, vel = paths.positions, paths.velocities
    assert pos.min() >= 0 and pos.max() <= free
    np.testing.assert_allclose(np.linalg.norm(vel, axis=-1), speed)  # never changes
    flips = np.sign(vel[:, :, 1:]) != np.sign(vel[:, :, :-1])  # (N, K, T-1, 2)
    assert flips.any(), "40 frames of 3.5 px in an 18 px box must hit a wall"
    # a component flips only at a reflection: the digit then sits within one step of a wall
    wall_gap = np.minimum(pos[:, :, 1:], free - pos[:, :, 1:])
    assert (wall_gap[flips] <= speed + 1e-9).all()
    # between flips the motion is a straight line: position(t+1) = position(t) + velocity
    steady = ~flips
    step = pos[:, :, 1:] - pos[:, :, :-1]
    np.testing.assert_allclose(step[steady], vel[:, :, :-1][steady], atol=1e-9)


def test_a_reflection_mirrors_the_overshoot():
    rng = np.random.default_rng(1)
    paths = bounce(500, 1, 3, 10.0, 4.0, rng)
    pos, vel = paths.positions[:, 0], paths.velocities[:, 0]
    ahead = pos[:, 0] + vel[:, 0]  # where the first step would land without walls
    over = ahead > 10.0
    np.testing.assert_allclose(pos[:, 1][over], 20.0 - ahead[over])
    assert (vel[:, 1][over] == -vel[:, 0][over]).all()


def test_moving_digits_are_deterministic_from_the_seed_and_keep_their_labels():
    a = moving_digits(resolution=32, count=20, frames=6, seed=3)
    b = moving_digits(resolution=32, count=20, frames=6, seed=3)
    c = moving_digits(resolution=32, count=20, frames=6, seed=4)
    assert a.videos.shape == (20, 6, 32, 32, 1) and a.videos.dtype == np.uint8
    assert np.array_equal(a.videos, b.videos) and not np.array_equal(a.videos, c.videos)
    assert a.extra["digits"].shape == (20, 2)
    assert np.array_equal(a.labels, a.extra["digits"][:, 0])
    assert set(np.unique(a.extra["direction"])) <= set(range(8))
    assert "video" in DATASETS.get("moving-digits").tags


def test_direction_octants_and_overlap_by_max():
    # (dy, dx) with image y down: right, up, left, down
    octants = direction_octant(np.array([[0.0, 1.0], [-1.0, -0.01], [0.0, -1.0], [1.0, 0.0]]))
    assert octants.tolist() == [0, 2, 4, 6]
    sprites = np.array([[[100, 0], [0, 0]], [[50, 200], [0, 0]]], dtype=np.uint8)
    frames = render(sprites, np.zeros((2, 1, 2)), resolution=4)
    assert frames[0, 0, 0] == 100 and frames[0, 0, 1] == 200  # max, not sum or last


def test_prepared_clips_keep_frames_labels_and_nested_subsets(tmp_path):
    data = prepare(
        "moving-digits", 16, tmp_path / "v.pt", heldout=10, options={"count": 40, "frames": 4}
    )
    loaded = load_prepared(tmp_path / "v.pt")
    assert loaded.images.shape == (40, 1, 4, 16, 16) and loaded.kind is VIDEO
    assert loaded.meta.frames == 4 and torch.equal(loaded.extra["digits"], data.extra["digits"])
    assert torch.equal(loaded.subset(20)[:10], loaded.subset(10))
    assert not set(loaded.subset("full").tolist()) & set(loaded.heldout.tolist())


def _write_clip(folder, frames, seed):
    folder.mkdir(parents=True)
    rng = np.random.default_rng(seed)
    for t in range(frames):
        Image.fromarray(rng.integers(0, 255, (12, 12, 3), dtype=np.uint8)).save(
            folder / f"{t:03d}.png"
        )


def test_videofolder_reads_clips_in_frame_order_and_names_short_ones(tmp_path):
    for i in range(3):
        _write_clip(tmp_path / "walk" / f"clip{i}", 5, i)
    _write_clip(tmp_path / "run" / "clip0", 5, 9)
    raw = DATASETS.build("videofolder", {"root": str(tmp_path), "frames": 4})
    assert len(raw.videos) == 4 and raw.videos[0].shape == (4, 12, 12, 3)
    first = np.asarray(Image.open(tmp_path / "run" / "clip0" / "000.png"))
    assert np.array_equal(raw.videos[0][0], first)  # classes sorted: run before walk
    assert sorted(raw.labels.tolist()) == [0, 1, 1, 1]
    with pytest.raises(DataError, match="fewer than 8 frames"):
        DATASETS.build("videofolder", {"root": str(tmp_path), "frames": 8})


def test_videofolder_scales_16_bit_grey_frames_instead_of_clipping_them(tmp_path):
    ramp = (np.arange(64, dtype=np.uint16) * 1040).reshape(8, 8)  # 64 levels, 0..65520
    (tmp_path / "clip").mkdir()
    for t in range(2):
        Image.fromarray(ramp).save(tmp_path / "clip" / f"{t}.png")  # mode I;16
    raw = DATASETS.build("videofolder", {"root": str(tmp_path), "frames": 2})
    frame = raw.videos[0][0]
    expected = np.asarray(to_rgb8(Image.open(tmp_path / "clip" / "0.png")))
    assert np.array_equal(frame, expected)
    assert len(np.unique(frame)) == 64  # PIL's convert("RGB") leaves 2: black and white


# ---------------------------------------------------------------- attention


def test_3d_attention_is_full_attention_over_every_position_of_the_clip():
    torch.manual_seed(0)
    block = SelfAttention3d(16, impl="naive")
    with torch.no_grad():
        block.gamma.fill_(0.7)
    x = torch.randn(2, 16, 3, 4, 5)
    a = block.attention
    tokens = x.flatten(2)  # (B, C, N) with N = T*H*W
    q = torch.einsum("oc,bcn->bno", a.query.weight[:, :, 0, 0], tokens) + a.query.bias
    k = torch.einsum("oc,bcn->bno", a.key.weight[:, :, 0, 0], tokens) + a.key.bias
    v = torch.einsum("oc,bcn->bno", a.value.weight[:, :, 0, 0], tokens) + a.value.bias
    weights = torch.softmax(q @ k.transpose(1, 2), dim=-1)  # (B, N, N): every pair of positions
    expected = 0.7 * (weights @ v).transpose(1, 2).reshape(x.shape) + x
    torch.testing.assert_close(block(x), expected)
    sdpa = SelfAttention3d(16, impl="sdpa")
    sdpa.load_state_dict(block.state_dict())
    torch.testing.assert_close(sdpa(x), block(x), atol=1e-5, rtol=1e-5)


def test_factorized_attention_attends_over_time_per_pixel_then_over_space_per_frame():
    torch.manual_seed(0)
    block = FactorizedAttention3d(8, impl="naive")
    with torch.no_grad():
        block.temporal.gamma.fill_(0.5)
        block.spatial.gamma.fill_(0.3)
    x = torch.randn(2, 8, 3, 4, 4)
    mid = torch.empty_like(x)
    for y in range(4):
        for z in range(4):  # each pixel's T tokens alone
            mid[..., y, z] = block.temporal(x[..., y, z].unsqueeze(-1)).squeeze(-1)
    expected = torch.stack([block.spatial(mid[:, :, t]) for t in range(3)], dim=2)
    torch.testing.assert_close(block(x), expected)


# ---------------------------------------------------------------- temporal scores


def _oracle_probs(clips_digits: np.ndarray, frames: int) -> torch.Tensor:
    """Per-frame 'classifier' output that is exactly right: the clip's digits, every frame."""
    hot = torch.zeros(len(clips_digits), frames, 10)
    for i, ds in enumerate(clips_digits):
        hot[i, :, ds] = 1.0
    return hot.flatten(0, 1)


def test_consistency_is_one_for_real_clips_and_low_for_frames_shuffled_across_clips():
    raw = moving_digits(resolution=32, count=200, frames=8, seed=0)
    probs = _oracle_probs(raw.extra["digits"], 8)
    assert temporal_consistency(probs, 8) == 1.0
    shuffled = probs[torch.randperm(len(probs), generator=torch.Generator().manual_seed(0))]
    assert temporal_consistency(shuffled, 8) < 0.05
    assert temporal_consistency(torch.full_like(probs, 0.1), 8) == 0.0  # unreadable frames


def test_motion_smoothness_separates_real_motion_from_shuffled_frames_and_stillness():
    raw = moving_digits(resolution=32, count=100, frames=8, seed=0)
    clips = torch.from_numpy(raw.videos).permute(0, 4, 1, 2, 3).float()  # (N, C, T, H, W)
    order = torch.stack([torch.randperm(8, generator=torch.Generator().manual_seed(i))
                         for i in range(len(clips))])  # fmt: skip
    shuffled = torch.stack([c[:, o] for c, o in zip(clips, order, strict=True)])
    real, mixed = motion_smoothness(clips), motion_smoothness(shuffled)
    assert real > 0.3 and real > mixed + 0.2, (real, mixed)
    still = clips[:, :, :1].expand_as(clips)
    assert abs(motion_smoothness(still)) < 1e-6


# ---------------------------------------------------------------- study checks

VIDEO_STUDY = {
    "study": "v",
    "datasets": {
        "digits": {"resolution": 16, "heldout": 100},
        "moving-digits": {
            "resolution": 16,
            "heldout": 10,
            "options": {"count": 40, "frames": 4},
            "sizes": ["full"],
            "model": {"width": 4},
            "train": {"iterations": 4, "batch_size": 8},
        },
    },
    "variants": {
        "dcgan": {},
        "video_baseline": {},
        "video3d": {"g_resolutions": [8], "d_resolutions": [8]},
    },
    "sizes": [50],
    "seeds": [0],
    "model": {"width": 8, "z_dim": 16},
    "train": {"batch_size": 16},  # at most the 50 images of the smallest size
}


def test_each_dataset_trains_the_variants_of_its_kind_with_its_own_keys():
    validate_study(parse_study(VIDEO_STUDY))
    got = {(r.dataset, r.arm, r.size) for r in runs(parse_study(VIDEO_STUDY))}
    assert got == {
        ("digits", "dcgan", 50),
        ("moving-digits", "video_baseline", "full"),
        ("moving-digits", "video3d", "full"),
    }


def test_the_cost_part_of_a_study_has_each_datasets_view_without_sizes():
    from sagan.study import dataset_study

    cost_part = {k: v for k, v in VIDEO_STUDY.items() if k not in ("sizes", "seeds")}
    video = dataset_study(parse_study(cost_part), "moving-digits")
    assert video.model == {"width": 4, "z_dim": 16} and video.train["batch_size"] == 8
    assert dataset_study(parse_study(cost_part), "digits").model == VIDEO_STUDY["model"]


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda s: s["datasets"]["moving-digits"].update(variants=["dcgan"]), "image variant"),
        (lambda s: s["datasets"]["digits"].update(variants=["video3d"]), "video variant"),
        (lambda s: s["datasets"]["moving-digits"].update(variants=["sagan"]), "not under"),
        (lambda s: [s["variants"].pop(v) for v in ("video_baseline", "video3d")], "no video"),
        (
            lambda s: s["variants"]["video3d"].update(g_resolutions=[32]),
            r"resolution\(s\) \[32\]",
        ),
        (
            lambda s: s["datasets"]["moving-digits"].update(evaluation={"extractor": "inception"}),
            "video data are scored with the domain",
        ),
        (lambda s: s["datasets"]["moving-digits"]["train"].update(iterations=0), "iterations"),
    ],
)
def test_bad_video_studies_name_the_key_and_the_fix(edit, message):
    study = copy.deepcopy(VIDEO_STUDY)
    edit(study)
    with pytest.raises(ConfigError, match=message):
        validate_study(parse_study(study))


# ---------------------------------------------------------------- scored end to end


@pytest.fixture(scope="module")
def video_run(tmp_path_factory):
    """A 4-iteration video3d run on 40 tiny clips, its extractor and references."""
    from sagan.config import save_run_config
    from sagan.metrics.reference import compute_reference
    from sagan.metrics.video_domain import train_video_domain
    from sagan.study import run_config
    from sagan.train.trainer import train

    root = tmp_path_factory.mktemp("video")
    data = prepare(
        "moving-digits", 16, root / "v.pt", heldout=10, options={"count": 40, "frames": 4}
    )
    info = train_video_domain(data, root / "x.pt", epochs=1)
    paths = {"data": str(root / "v.pt"), "extractor": str(root / "x.pt")}
    for split in ("heldout", "train"):
        paths[split] = str(root / f"{split}.pt")
        compute_reference(data, split, "domain", root / "x.pt", paths[split])
    paths |= {"reference": paths["heldout"], "train_reference": paths["train"]}
    study = copy.deepcopy(VIDEO_STUDY)
    study["evaluation"] = {"num_samples": 12, "batch_size": 6}
    run = next(r for r in runs(parse_study(study)) if r.arm == "video3d")
    cfg = run_config(parse_study(study), run, paths)
    save_run_config(cfg, root / "run.yaml")
    train(cfg, root / "run", progress=False)
    return root, cfg, info


def test_a_video_run_gets_per_frame_fd_video_fd_and_temporal_scores(video_run):
    from sagan.metrics.evaluate import evaluate

    root, _, info = video_run
    assert 0 <= info["heldout_accuracy"] <= 1
    grid = Image.open(root / "run" / "samples.png")
    assert grid.size == (4 * 18 + 2, 8 * 18 + 2)  # 8 clips as rows of 4 frames of 16 px
    metrics = evaluate(root / "run")["metrics"]
    for name in ("fd_frame_domain", "kid_frame_domain", "fd_video_domain3d", "kid_video_domain3d"):
        assert np.isfinite(metrics[name]["value"]) and metrics[name]["value"] >= -1e-6, name
    assert "fd_video_domain3d_gap" in metrics and "fvd" not in metrics
    for name in ("temporal_consistency", "motion_smoothness"):
        assert -1 <= metrics[name]["value"] <= 1 and "real_heldout" in metrics[name]
    assert metrics["fd_video_domain3d"]["num_samples"] == 12  # clips
    frames = metrics["fd_frame_domain"]
    assert frames["num_samples"] == 12 * 4 and frames["samples"] == "generated frames"
    saved = json.loads((root / "run" / "metrics.json").read_text())["metrics"]
    assert saved["fd_frame_domain"]["value"] == metrics["fd_frame_domain"]["value"]
    # each entry says how many references it read: 10 held-out clips, their 40 frames, and
    # the run's training subset of the pool (30 clips) for the train scores
    assert metrics["fd_video_domain3d"]["reference_count"] == 10
    assert frames["reference_count"] == 10 * 4
    assert metrics["fd_video_domain3d_train"]["reference_count"] == 30
    assert metrics["temporal_consistency"]["reference_count"] == 10
    for name, entry in metrics.items():  # a count always says which split it counts
        assert "reference_count" not in entry or entry["reference_split"], name


def test_a_video_run_refuses_a_train_reference_that_holds_another_split(video_run):
    from dataclasses import replace

    from sagan.config import load_run_config, save_run_config
    from sagan.metrics.evaluate import evaluate

    root, _, _ = video_run
    cfg = load_run_config(root / "run" / "config.yaml")
    wrong = replace(cfg, eval=replace(cfg.eval, train_reference_path=cfg.eval.reference_path))
    save_run_config(wrong, root / "run" / "config.yaml")
    try:
        with pytest.raises(DataError, match="holds the heldout split, not the training pool"):
            evaluate(root / "run")
    finally:
        save_run_config(cfg, root / "run" / "config.yaml")


class _StandInI3D(torch.nn.Module):
    """Stands in for I3D: checks the documented input, returns (B, 6) features."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        assert x.shape[1] == 3 and x.shape[-1] == 224 and x.shape[-2] == 224
        assert bool(x.min() >= -1.0001) and bool(x.max() <= 1.0001)
        pooled = x.mean(dim=(3, 4))  # (B, 3, T)
        return torch.cat([pooled.mean(2), pooled.std(2)], dim=1)


def test_fvd_comes_from_the_i3d_file_when_one_is_given(video_run, tmp_path):
    from dataclasses import replace

    from sagan.config import save_run_config
    from sagan.metrics.evaluate import evaluate

    root, cfg, _ = video_run
    i3d = tmp_path / "i3d.pt"
    torch.jit.script(_StandInI3D()).save(str(i3d))
    save_run_config(
        replace(cfg, eval=replace(cfg.eval, i3d_path=str(i3d))), root / "run" / "config.yaml"
    )
    try:
        fvd = evaluate(root / "run")["metrics"]["fvd"]
        assert fvd["value"] > 0 and fvd["extractor"] == "i3d"
        save_run_config(
            replace(cfg, eval=replace(cfg.eval, i3d_path=str(tmp_path / "missing.pt"))),
            root / "run" / "config.yaml",
        )
        with pytest.raises(DataError, match="i3d_path"):
            evaluate(root / "run")
    finally:
        save_run_config(cfg, root / "run" / "config.yaml")


def _write_idx(path, array: np.ndarray) -> None:
    """An uncompressed IDX file (MNIST's format): magic, big-endian dims, then the bytes."""
    magic = bytes([0, 0, 0x08, array.ndim])
    dims = b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    path.write_bytes(magic + dims + array.astype(np.uint8).tobytes())


def test_moving_mnist_reads_mnist_files_through_torchvision(tmp_path):
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    rng = np.random.default_rng(0)
    digits, labels = rng.integers(0, 255, (30, 28, 28)), np.arange(30) % 10
    for split in ("train", "t10k"):
        _write_idx(raw / f"{split}-images-idx3-ubyte", digits)
        _write_idx(raw / f"{split}-labels-idx1-ubyte", labels)
    clips = DATASETS.build(
        "moving-mnist", {"root": str(tmp_path), "resolution": 32, "count": 6, "frames": 3}
    )
    assert clips.videos.shape == (6, 3, 32, 32, 1)
    assert set(clips.extra["digits"].ravel()) <= set(range(10))
    with pytest.raises(DataError, match="download: true"):
        DATASETS.build("moving-mnist", {"root": str(tmp_path / "nowhere"), "resolution": 32})
