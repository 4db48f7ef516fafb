"""Malformed study configs fail before any job, with one line naming the key and the fix.

The same two checks the workflow runs first (workflow/rules/common.smk): the JSON schema
(structure), then sagan.study.validate_study (names, options, values). A few go through
`snakemake -n` to show the workflow stops with that line and makes nothing.
"""

import copy

import pytest

from sagan.errors import ConfigError, DataError
from sagan.schema import check_schema, study_schema
from sagan.study import validate_study
from sagan.study.model import parse_study
from tests.test_workflow import TINY, snakemake

SCHEMA = study_schema()


def check(study: dict) -> None:
    """What the workflow checks before any job, training on the CPU."""
    check_schema(study, SCHEMA)
    validate_study(parse_study(study), check_files=True, device="cpu")


def edited(edit) -> dict:
    study = copy.deepcopy(TINY)
    edit(study)
    return study


def test_the_tiny_study_passes_both_checks():
    check(copy.deepcopy(TINY))


MALFORMED = {
    "unknown top-level key": (
        lambda s: s.update(epochs=3),
        r"unknown key\(s\) 'epochs' in the study config; allowed: study, plugins, datasets",
    ),
    "unknown model key": (
        lambda s: s["model"].update(depth=4),
        r"unknown key\(s\) 'depth' in model; allowed: backbone, width, z_dim",
    ),
    "unknown train key": (
        lambda s: s["train"].update(lr=1.0e-4),
        r"unknown key\(s\) 'lr' in train; allowed: iterations, batch_size, lr_g, lr_d",
    ),
    "unknown evaluation key": (
        lambda s: s["evaluation"].update(samples=10),
        r"unknown key\(s\) 'samples' in evaluation; allowed: extractor, extractor_path",
    ),
    "unknown profile key": (
        lambda s: s["profile"].update(repeat=3),
        r"unknown key\(s\) 'repeat' in profile; allowed: device, baseline, precisions, repeats",
    ),
    "unknown variant": (
        lambda s: s["variants"].update(nope={}),
        r"unknown variant 'nope'; registered variants: dcgan, .*multiscale, sagan",
    ),
    "unknown variant option": (
        lambda s: s["variants"]["sagan"].update(gamma=1.0),
        r"variant 'sagan' has no option\(s\) 'gamma'; allowed: g_resolutions, d_resolutions",
    ),
    "unknown dataset": (
        lambda s: s["datasets"].update(mnist={"resolution": 16, "heldout": 10}),
        r"unknown dataset 'mnist'; registered datasets: .*digits",
    ),
    "unknown dataset option": (
        lambda s: s["datasets"]["pairs"]["options"].update(size=3),
        r"dataset 'pairs' has no option\(s\) 'size'; allowed: count",
    ),
    "unknown extractor": (
        lambda s: s["evaluation"].update(extractor="vgg"),
        r"unknown extractor 'vgg'; registered extractors: domain, inception",
    ),
    "inception without its weights file": (
        lambda s: s["evaluation"].update(extractor="inception"),
        r"evaluation.extractor_path: extractor 'inception' needs its weights file",
    ),
    "slot at a resolution the backbone lacks": (
        lambda s: s["variants"]["sagan"].update(g_resolutions=[64]),
        r"'sagan' puts a block in G at feature-map resolution\(s\) \[64\].*\[4, 8, 16\]",
    ),
    "size 0": (lambda s: s.update(sizes=[0, "full"]), r"sizes\[0\] must be at least 1, got 0"),
    "negative size": (lambda s: s.update(sizes=[-5]), r"sizes\[0\] must be at least 1, got -5"),
    "size as text": (
        lambda s: s.update(sizes=[100, "1k"]),
        r"sizes\[1\]: '1k' is not allowed \(a positive integer or full\)",
    ),
    "duplicate size": (lambda s: s.update(sizes=[100, 100]), r"sizes lists a value twice"),
    "no seeds": (lambda s: s.update(seeds=[]), r"seeds must list at least 1 value\(s\), got \[\]"),
    "negative seed": (lambda s: s.update(seeds=[-1]), r"seeds\[0\] must be at least 0, got -1"),
    "zero iterations": (
        lambda s: s["train"].update(iterations=0),
        r"train.iterations must be at least 1, got 0",
    ),
    "zero batch size": (
        lambda s: s["train"].update(batch_size=0),
        r"train.batch_size must be at least 1, got 0",
    ),
    "unknown precision": (
        lambda s: s["train"].update(precision="fp8"),
        r"train.precision 'fp8' is unknown; allowed: \['fp32', 'bf16', 'fp16'\]",
    ),
    "unknown loss": (
        lambda s: s["train"].update(loss="lsgan"),
        r"train.loss 'lsgan' is unknown; allowed: \['hinge', 'ns', 'wgan-gp'\]",
    ),
    "fp16 training on the CPU": (
        lambda s: s["train"].update(precision="fp16"),
        r"train.precision fp16 needs a GPU.*--resources gpu=N, or use precision bf16",
    ),
    "fp16 profile on the CPU": (
        lambda s: s["profile"].update(precisions=["fp32", "fp16"]),
        r"profile.precisions has fp16.*profile.device is 'cpu': set device: cuda",
    ),
    "resolution below 8": (
        lambda s: s["datasets"]["digits"].update(resolution=4),
        r"datasets.digits.resolution must be at least 8, got 4",
    ),
    "resolution not a power of two": (
        lambda s: s["datasets"]["digits"].update(resolution=20),
        r"power-of-two image size >= 8, got 20",
    ),
    "held-out split as big as the dataset": (
        lambda s: s["datasets"]["pairs"].update(heldout=300),
        r"datasets.pairs.heldout 300 is equal to the 300 images .*options.count 300.*at most 299",
    ),
    "study name with a slash": (
        lambda s: s.update(study="a/b"),
        r"study: 'a/b' does not match .*no slash, no leading dot",
    ),
    "study name that climbs out of results/": (
        lambda s: s.update(study=".."),
        r"study: '\.\.' does not match",
    ),
    "zero width": (
        lambda s: s["model"].update(width=0),
        r"model.width must be a positive integer, got 0",
    ),
    "negative z_dim": (
        lambda s: s["model"].update(z_dim=-8),
        r"model.z_dim must be a positive integer, got -8",
    ),
    "zero evaluation samples": (
        lambda s: s["evaluation"].update(num_samples=0),
        r"evaluation.num_samples must be a positive integer, got 0",
    ),
    "negative learning rate": (
        lambda s: s["train"].update(lr_d=-4.0e-4),
        r"train.lr_d must be a positive number, got -0.0004",
    ),
    "learning rate YAML reads as text": (
        lambda s: s["train"].update(lr_g="1e-4"),
        r"train.lr_g must be a number, got '1e-4' \(YAML reads 1e-4 as text: write 1.0e-4\)",
    ),
    "one beta": (
        lambda s: s["train"].update(betas=[0.5]),
        r"train.betas must be two numbers in \[0, 1\).*e.g. \[0.0, 0.9\]; got \[0.5\]",
    ),
    "variants as a list": (
        lambda s: s.update(variants=["dcgan", "sagan"]),
        r"variants must be of type object, got \['dcgan', 'sagan'\]",
    ),
    "missing held-out size": (
        lambda s: s["datasets"]["digits"].pop("heldout"),
        r"datasets.digits lacks required key\(s\) 'heldout'; required: \['resolution', 'heldout'\]",
    ),
    "profile baseline not in the study": (
        lambda s: s["profile"].update(baseline="nope"),
        r"profile.baseline 'nope' is not one of the study's arms \['dcgan', 'sagan'",
    ),
    "plug-in that does not import": (
        lambda s: s.update(plugins=["no_such_plugin_module"]),
        r"plug-in module 'no_such_plugin_module' cannot be imported.*fix the name under 'plugins'",
    ),
}


@pytest.mark.parametrize(("edit", "message"), MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_study_names_the_key_and_the_fix(edit, message):
    with pytest.raises(ConfigError, match=message):
        check(edited(edit))


def test_inception_weights_that_are_not_there_are_named_with_their_source(tmp_path):
    study = edited(
        lambda s: s["evaluation"].update(extractor="inception", extractor_path=str(tmp_path))
    )
    with pytest.raises(DataError, match=r"inception-2015-12-05.pt not found at .*download"):
        check(study)


@pytest.mark.parametrize(
    ("edit", "args", "message"),
    [
        (lambda s: s.update(epochs=3), (), "unknown key(s) 'epochs' in the study config"),
        (lambda s: s.update(study=".."), (), "study: '..' does not match"),
        (
            lambda s: s["train"].update(precision="fp16"),
            (),
            "train.precision fp16 needs a GPU",
        ),
    ],
    ids=["unknown key", "study name", "fp16 on cpu"],
)
def test_the_workflow_stops_with_the_message_before_any_job(tmp_path, edit, args, message):
    failed = snakemake(tmp_path, edited(edit), "--dry-run", *args)
    out = failed.stdout + failed.stderr
    assert failed.returncode != 0 and message in out, out[-2000:]
    assert "invalid study config" in out and len(out.splitlines()) < 20  # one line, no dump
    assert not (tmp_path / "results").exists()


def test_fp16_is_accepted_when_training_gets_gpus(tmp_path):
    study = edited(lambda s: s["train"].update(precision="fp16"))
    done = snakemake(tmp_path, study, "--dry-run", "--resources", "gpu=1")
    assert done.returncode == 0, done.stderr[-2000:]


def test_sagan_validate_checks_the_schema_too(tmp_path):
    import subprocess
    import sys

    import yaml

    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(edited(lambda s: s.update(seeds=[0, 0]))))
    cmd = [sys.executable, "-m", "sagan.cli", "validate", str(bad)]
    failed = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert failed.returncode != 0 and "seeds lists a value twice" in failed.stderr
