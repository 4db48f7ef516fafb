"""The GPU check's library pieces on a CPU: the facts of the machine, the variant smoke
test and the kernels' distance from naive attention."""

from sagan.bench import environment
from sagan.bench.attention_error import max_abs_diffs
from sagan.bench.smoke import fitted_options, smoke_rows, smoke_spec


def test_default_sides_the_image_lacks_are_dropped():
    assert fitted_options("multiscale", 16) == {"g_resolutions": [8], "d_resolutions": [8]}
    assert fitted_options("dcgan", 32) == {}


def test_a_labelled_variant_gets_a_conditional_model_and_a_video_one_a_clip():
    assert smoke_spec("label_attention", "fp32").model.conditional
    assert smoke_spec("video3d", "bf16").frames > 0


def test_every_pass_of_an_image_and_a_video_variant_runs_on_cpu():
    rows = list(smoke_rows("cpu", variants=["sagan", "video_factorized"]))
    assert [r["pass"] for r in rows[:3]] == ["train fp32", "train bf16", "sample fp32"]
    assert {r["kind"] for r in rows} == {"image", "video"}
    assert all(r["status"] == "ok" and not r["error"] for r in rows), rows


def test_a_failing_pass_is_a_row_with_its_first_error_line():
    rows = list(smoke_rows("cpu", precisions=("fp64",), variants=["dcgan"]))
    assert rows[0]["status"] == "failed" and "fp64" in rows[0]["error"]
    assert rows[1]["status"] == "ok"  # the next pass still runs


def test_fused_kernels_match_naive_and_approximations_do_not():
    diffs = max_abs_diffs(64, batch=2, channels=16, top_k=0.25)
    assert diffs["naive"] == 0.0 and diffs["sdpa"] < 1e-4
    assert diffs["topk k=0.25"] > 1e-3 and diffs["linear"] > 1e-3
    assert max_abs_diffs(64, batch=2, channels=16, memory_cap_gib=1e-9)["sdpa"] is None


def test_the_environment_names_versions_the_cpu_and_what_is_missing():
    facts = dict(environment.environment_facts("cpu"))
    assert {"torch", "cudnn", "cpu", "cpu cores", "avx512_bf16"} <= set(facts)
    assert facts["missing requirements"] == "none"
    assert "video3d" in facts["registered variants"]
    # a checkout run with nothing installed (a lent card): pyproject.toml's requirements
    listed = environment.requirements("not-installed-anywhere")
    assert any(r.startswith("torch") for r in listed)
