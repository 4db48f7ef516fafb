"""The ``sagan`` command: each subcommand is thin glue over the library."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from sagan.cli_errors import user_error
from sagan.cli_types import (
    device,
    existing_dir,
    existing_file,
    fraction,
    json_object,
    known_dataset,
    nonneg_int,
    positive_float,
    positive_int,
    token_spec,
)
from sagan.config import EvalConfig, ExtractorConfig
from sagan.errors import ConfigError, DataError
from sagan.report.outputs import METRIC_PROTOCOL, NOTEBOOKS, PARTS, TRAINING_LOG

if TYPE_CHECKING:  # a study command imports the planner only when it runs
    from sagan.study.model import Study

# The design's claims: a data file of the workflow, in the checkout snakemake runs in
DESIGN_CLAIMS = Path("config", "claims.yaml")


def cmd_variants(args: argparse.Namespace) -> None:
    from sagan.registry import VARIANTS

    entries = VARIANTS.entries()
    width = max(len(e.name) for e in entries)
    for e in entries:
        print(f"{e.name:<{width}}  {e.description}")


def cmd_datasets(args: argparse.Namespace) -> None:
    from sagan.data import DATASETS
    from sagan.study import kind

    entries = DATASETS.entries()
    width = max(len(e.name) for e in entries)
    for e in entries:
        print(f"{e.name:<{width}}  {kind(DATASETS, e.name).name:<5}  {e.description}")
        options = ", ".join(dataset_options(e.builder)) or "(none)"
        print(f"{'':<{width}}  options: {options}")


def dataset_options(builder) -> list[str]:
    """The options a study sets under ``datasets.<name>.options``: ``name: default`` (the
    default as JSON, which YAML reads) or ``name (required)``. ``resolution`` is left out: a
    builder that takes it gets the entry's own ``resolution``."""
    import inspect

    options = []
    for p in inspect.signature(builder).parameters.values():
        if p.name == "resolution":
            continue
        if p.default is p.empty:
            options.append(f"{p.name} (required)")
        else:
            options.append(f"{p.name}: {json.dumps(_plain(p.default))}")
    return options


def cmd_arms(args: argparse.Namespace) -> None:
    import inspect

    import yaml

    from sagan.registry import VARIANTS

    class Plain(yaml.SafeDumper):  # an option and its sweep point share a list: no &anchors
        def ignore_aliases(self, data):
            return True

    study = _load_study(args.study)  # its plug-ins loaded
    for arm in study.arms.values():
        builder = inspect.signature(VARIANTS.get(arm.variant).builder).parameters.values()
        defaults = {p.name: _plain(p.default) for p in builder if p.default is not p.empty}
        fields = {"variant": arm.variant, "options": defaults | arm.options}
        fields |= {k: v for k in ("model", "train", "point") if (v := getattr(arm, k))}
        if arm.sweep:
            fields["sweep"] = arm.sweep
        entry = {arm.name: fields}
        print(yaml.dump(entry, Dumper=Plain, sort_keys=False, default_flow_style=None), end="")


def _plain(value):
    """A builder default as YAML writes it (tuples as lists)."""
    return list(value) if isinstance(value, tuple) else value


def cmd_prepare(args: argparse.Namespace) -> None:
    from sagan.data import prepare

    data = prepare(
        args.dataset,
        args.resolution,
        args.out,
        heldout=args.heldout,
        seed=args.seed,
        options=args.options,
    )
    print(
        f"{args.out}: {len(data.images)} images, {len(data.train_order)} in the training "
        f"pool, {len(data.heldout)} held out"
    )


def cmd_train_extractor(args: argparse.Namespace) -> None:
    from sagan.data import load_prepared
    from sagan.metrics.protocols import protocol_of

    data = load_prepared(args.data)
    train_extractor = protocol_of(data).train_extractor
    info = train_extractor(data, args.out, epochs=args.epochs, device=args.device)
    print(f"{args.out}: held-out accuracy {info['heldout_accuracy']:.3f}")


def cmd_reference(args: argparse.Namespace) -> None:
    from sagan.data import load_prepared
    from sagan.metrics.reference import compute_reference

    meta = compute_reference(
        load_prepared(args.data),
        args.split,
        args.extractor,
        args.extractor_path,
        args.out,
        device=args.device,
    )
    print(f"{args.out}: {meta['count']} {meta['split']} images, extractor {meta['extractor']}")


def cmd_noise_floor(args: argparse.Namespace) -> None:
    from sagan.metrics.floor_files import measure_floor

    floor, checks = measure_floor(
        args.data,
        args.reference,
        args.train_reference,
        extractor=args.extractor,
        extractor_path=args.extractor_path,
        num_samples=args.num_samples,
        out_floor=args.out_floor,
        out_checks=args.out_checks,
        resamples=args.resamples,
        device=args.device,
    )
    for _, r in floor.iterrows():
        print(f"{r['metric']} floor: {r['mean']:.4g} +- {r['sd']:.2g} ({r['resamples']} draws)")
    failed = checks[~checks["ok"].astype(bool)]
    print(f"{args.out_checks}: {len(checks)} checks, {len(failed)} out of order")


def cmd_floor_tables(args: argparse.Namespace) -> None:
    from sagan.io import atomic_write_text
    from sagan.metrics.floor_files import stack_entries
    from sagan.report.outputs import EXTRACTOR_CHECKS, NOISE_FLOOR

    for column, name in ((1, NOISE_FLOOR), (2, EXTRACTOR_CHECKS)):
        table = stack_entries({e[0]: e[column] for e in args.entry})
        atomic_write_text(Path(args.out_dir) / name, table.to_csv(index=False))
        print(f"{Path(args.out_dir) / name}: {len(table)} rows")


def cmd_run_config(args: argparse.Namespace) -> None:
    from sagan.config import save_run_config
    from sagan.study import run_config, run_dir, run_named

    study = _load_study(args.study)
    run = run_named(study, args.run)
    # the folder is keyed by the config: one resolved here to another folder would train
    # something other than what the workflow planned
    folder = Path(run_dir(study, run))
    if Path(args.out).parent != folder:
        raise ConfigError(
            f"run {args.run!r} of {args.study} resolves to {folder}, not to "
            f"{Path(args.out).parent}: the study file differs from the one the workflow "
            "read; rerun snakemake, which writes it again"
        )
    save_run_config(run_config(study, run), args.out)
    print(f"wrote {args.out}")


def cmd_train(args: argparse.Namespace) -> None:
    from sagan.config import check_unedited, load_run_config
    from sagan.train.trainer import train

    cfg = check_unedited(args.config, args.expect) if args.expect else load_run_config(args.config)
    status = train(cfg, args.out, state_dir=args.state, device=args.device)
    if status["state"] == "diverged":
        print(f"{args.out}: diverged at iteration {status['iteration']}: {status['reason']}")
    else:
        print(f"{args.out}: {status['state']}, {status['it_per_s']} it/s")


def cmd_evaluate(args: argparse.Namespace) -> None:
    from sagan.metrics.evaluate import evaluate

    if args.expect:
        from sagan.config import check_unedited
        from sagan.run_folder import CONFIG

        check_unedited(Path(args.run_dir) / CONFIG, args.expect)
    result = evaluate(args.run_dir, device=args.device, state_dir=args.state)
    if result.get("restored"):
        print(f"{args.run_dir}: restored the scores kept in {args.state} for these same inputs")
    for name, m in result["metrics"].items():
        against = (
            f" vs {m['reference_count']} {m['reference_split']}" if "reference_count" in m else ""
        )
        print(f"{name}: {m['value']:.4f} ({m['num_samples']} samples{against})")


def cmd_aggregate(args: argparse.Namespace) -> None:
    import pandas as pd

    from sagan.report.aggregate import (
        aggregate,
        metric_protocol,
        training_logs,
        write_csv_parquet,
    )

    df = aggregate(args.run_dirs)
    write_csv_parquet(df, args.out)
    print(f"{args.out} (+ .parquet): {len(df)} runs")
    floor = pd.read_csv(args.noise_floor) if args.noise_floor else None
    protocol = metric_protocol(args.run_dirs, floor)
    path = Path(args.out).with_name(METRIC_PROTOCOL)
    write_csv_parquet(protocol, path)
    print(f"{path} (+ .parquet): each metric's sample count, extractor, split and unit")
    logs = training_logs(args.run_dirs)
    path = Path(args.out).with_name(TRAINING_LOG)
    write_csv_parquet(logs, path)
    print(f"{path} (+ .parquet): {len(logs)} log rows")


# How to make a results table anew, for the error that names a bad one
FROM_AGGREGATE = "make it anew with `snakemake results/<study>/summary.csv`"
FROM_PROFILE = "make it anew with `snakemake` (rules profile and scaling)"


def cmd_pairing(args: argparse.Namespace) -> None:

    from sagan.report.outputs import read_results_table
    from sagan.report.pairing import pairing

    summary = read_results_table(args.summary, "summary", FROM_AGGREGATE, dtype={"size": str})
    if args.dataset:
        summary = summary[summary["dataset"] == args.dataset]
    if args.size:
        summary = summary[summary["size"] == args.size]
    p = pairing(summary, args.arm, args.baseline, args.metric)
    need = p.seeds_for(args.effect)
    print(
        f"{args.arm} vs {args.baseline} ({args.metric}), {p.n} seed pairs: r = "
        f"{p.correlation:.3f}, SD of the paired difference {p.sd_difference:.4f} "
        f"(unpaired {p.sd_unpaired:.4f}), baseline mean {p.baseline_mean:.4f}\n"
        f"MDE at {p.n} seeds (paired t, alpha 0.05, power 0.8): {p.mde_percent():.1f} % of the "
        f"baseline; {args.effect:g} % needs {need if need else 'more than 1000'} seeds"
    )


def cmd_report(args: argparse.Namespace) -> None:
    from sagan.report.build import build_report

    try:
        paths = build_report(args.results_dir, args.out, args.parts, args.notebooks)
    except FileNotFoundError as err:
        raise DataError(str(err)) from None
    for path in paths:
        print(path)


def cmd_partial_report(args: argparse.Namespace) -> None:
    from sagan.report.partial import PARTS, begun_runs, needs_partial_report

    if not needs_partial_report(args.run_dirs):
        print("every begun run has its metrics.json: no partial report is needed")
        return
    floor = args.noise_floor if args.noise_floor and Path(args.noise_floor).is_file() else None
    runs = begun_runs(args.run_dirs)
    cmd_aggregate(argparse.Namespace(run_dirs=runs, out=args.summary, noise_floor=floor))
    results = str(Path(args.summary).parent)
    report = argparse.Namespace(results_dir=results, out=args.reports, parts=list(PARTS))
    cmd_report(argparse.Namespace(**vars(report), notebooks=None))


def cmd_attention_maps(args: argparse.Namespace) -> None:
    from sagan.metrics.attention_maps import write_attention_maps

    print(write_attention_maps(args.run_dir, args.out, device=args.device))


def cmd_share_run(args: argparse.Namespace) -> None:
    from sagan.run_folder import share

    for file in share(args.source, args.out):
        print(file)


def cmd_validate(args: argparse.Namespace) -> None:
    from sagan.io import read_yaml
    from sagan.study import parse_study, validate_study

    path = Path(args.study)
    _check_study_file(path)
    document = read_yaml(path)
    if not isinstance(document, dict):
        raise ConfigError(f"study config {path} must be a mapping (study:, datasets:, ...)")
    from sagan.schema import check_schema
    from sagan.study_checks import check_plain_study

    check_plain_study(document, path)  # before the schema: its unknown-key error says less
    check_schema(document, args.schema)  # the structure first, as the workflow checks it
    study = parse_study(document)
    from sagan.memory_fit import local_device

    device = args.device or local_device()  # fp16 and the memory check depend on it
    from sagan.report.claim_specs import load_claims

    if study.claims and not args.claims:  # else "valid" would not have read them
        raise ConfigError(
            f"{path} has claims:, which go over the design's claims, and there is no "
            "config/claims.yaml here: run from the checkout, or give --claims FILE"
        )
    design = load_claims(args.claims) if args.claims else None
    validate_study(study, check_files=True, device=device, force=args.force, design_claims=design)
    from sagan.cost.plan import check_profile_device

    check_profile_device(study, device)  # what this machine can run, as the workflow checks
    print(f"{path}: valid")


def cmd_bench_attention(args: argparse.Namespace) -> None:
    from sagan.bench.attention import format_table, run_attention_bench

    rows = run_attention_bench(
        tokens=args.tokens,
        **({"impls": args.impls} if args.impls else {}),
        batch=args.batch,
        channels=args.channels,
        top_k=args.top_k,
        chunk_size=args.chunk_size,
        repeats=args.repeats,
        device=args.device,
        measure_memory=not args.no_memory,
    )
    print(format_table(rows))


def _check_study_file(path: Path) -> None:
    if path.is_dir():
        raise ConfigError(f"study config {path} is a folder; give the study's YAML file in it")
    if not path.is_file():
        raise ConfigError(f"study config {path} does not exist")


def _load_study(path: str) -> Study:
    from sagan.io import read_yaml
    from sagan.registry import load_plugins
    from sagan.study import parse_study

    _check_study_file(Path(path))
    document = read_yaml(path)
    if not isinstance(document, dict):
        raise ConfigError(f"study config {path} is not a mapping of keys; see config/*.yaml")
    study = parse_study(document)
    load_plugins(list(study.plugins))  # the variants it names may come from them
    return study


def _write_rows(rows: list[dict], out: str) -> None:
    import pandas as pd

    from sagan.io import atomic_write_text

    atomic_write_text(Path(out), pd.DataFrame(rows).to_csv(index=False))
    print(f"{out}: {len(rows)} rows")


def cmd_profile(args: argparse.Namespace) -> None:
    from sagan.cost.plan import profile_baseline, profile_settings, profile_specs
    from sagan.cost.profile import profile
    from sagan.data import load_prepared
    from sagan.study import dataset_study, dataset_variants

    whole = _load_study(args.study)
    known = list(whole.datasets)
    if args.dataset not in known:
        raise ConfigError(
            f"--dataset {args.dataset!r} is not in {args.study}; use one of {', '.join(known)}"
        )
    study = dataset_study(whole, args.dataset)  # its model / batch keys
    meta = load_prepared(args.data).meta
    settings = profile_settings(study)
    variants = dataset_variants(study, args.dataset)
    specs = profile_specs(
        study, meta.resolution, meta.channels, variants=variants, frames=meta.frames
    )
    rows = profile(
        specs,
        device=args.device,
        baseline=profile_baseline(study, variants),
        warmup=settings.warmup,
        repeats=settings.repeats,
        memory=settings.memory,
    )
    for row in rows:
        row["dataset"] = args.dataset
    _write_rows(rows, args.out)


def cmd_scaling(args: argparse.Namespace) -> None:
    from sagan.cost.plan import profile_settings
    from sagan.cost.profile import scaling, scaling_slopes

    study = _load_study(args.study)
    settings = profile_settings(study)
    resolutions = args.resolutions or list(settings.scaling.resolutions)
    memory = settings.memory
    rows = scaling(study, resolutions, device=args.device, memory=memory)
    _write_rows(rows, args.out)
    _write_rows(scaling_slopes(rows), args.slopes)


def cmd_cost_figures(args: argparse.Namespace) -> None:
    import pandas as pd

    from sagan.report.cost_figures import write_cost_figures
    from sagan.report.outputs import read_results_table

    tables = [read_results_table(p, "cost profile", FROM_PROFILE) for p in args.profiles]
    profile = pd.concat(tables, ignore_index=True)
    needed = {"dataset", "arm", "precision", "ms_per_step"}
    if missing := sorted(needed - set(profile.columns)):
        raise DataError(
            f"{', '.join(map(str, args.profiles))}: not a cost profile (no column "
            f"{', '.join(missing)}); give the profile CSVs `sagan profile` writes "
            "(results/<study>/cost/profile_*.csv)"
        )
    scaling = (
        read_results_table(args.scaling, "scaling table", FROM_PROFILE) if args.scaling else None
    )
    for path in write_cost_figures(profile, scaling, args.out_dir):
        print(path)


def cmd_bench_step(args: argparse.Namespace) -> None:
    from importlib.metadata import version

    from sagan.bench.step import format_step_table, run_step_bench
    from sagan.cost.profile import device_name
    from sagan.study import bench_arm

    arm = bench_arm(_load_study(args.study), args.arm)
    rows = run_step_bench(
        arm.variant,
        arm.options,
        resolution=args.resolution,
        batch=args.batch,
        width=args.width,
        repeats=args.repeats,
        device=args.device,
    )
    print(
        f"Training step (D + G update), arm {arm.name} ({arm.variant}) of {args.study} as the "
        "PyTorch port places it, "
        f"{args.resolution} px, batch {args.batch}, width {args.width}, "
        f"{device_name(args.device)}, torch {version('torch')}, median of {args.repeats}:\n"
    )
    print(format_step_table(rows))


def cmd_bench_throughput(args: argparse.Namespace) -> None:
    from importlib.metadata import version

    from sagan.bench.throughput import format_throughput_table, run_throughput_bench
    from sagan.cost.profile import device_name

    study = _load_study(args.study)
    device = args.bench_device or args.device
    threads = args.threads or 1  # per process, as the workflow gives a model job
    graphs = [g == "on" for g in args.cuda_graphs]
    rows = run_throughput_bench(
        study,
        resolutions=args.resolutions,
        ks=args.k,
        iterations=args.iterations,
        repeats=args.repeats,
        device=device,
        threads=threads,
        cuda_graphs=graphs,
        arm=args.arm,
        precision=args.precision,
    )
    from sagan.config import TrainConfig, from_dict

    asked = study.train | ({"precision": args.precision} if args.precision else {})
    cfg = from_dict(TrainConfig, asked, "train")  # its defaults where the study is silent
    where = device_name(device) if device.startswith("cuda") else f"CPU, {threads} thread(s)"
    print(
        f"Runs per device-hour, K training processes on one device ({where} per process, "
        f"torch {version('torch')}); {args.study}'s model and train sections "
        f"({cfg.precision}, batch {cfg.batch_size}, a run = "
        f"{cfg.iterations} iterations); median of {args.repeats}, "
        f"{args.iterations} timed iterations per process:\n"
    )
    if not device.startswith("cuda") and any(graphs):
        print("CUDA graphs: skipped (not a CUDA device)\n")
    print(format_throughput_table(rows))


def cmd_estimate(args: argparse.Namespace) -> None:
    from sagan.cost.profile import device_name
    from sagan.cost.timing import cores
    from sagan.forecast.command import estimate
    from sagan.forecast.timer import MeasuredTimer
    from sagan.study import validate_study

    study = _load_study(args.study)
    device = args.estimate_device or args.device
    validate_study(study, device=device.split(":")[0], force=True)
    threads = args.threads or 1  # what the workflow gives each model job on a CPU
    _, text = estimate(
        study,
        args.study,
        # the profile and scaling jobs take every core (the workflow's ALL_CORES)
        MeasuredTimer(device, threads=threads, profile_threads=cores()),
        device_name(device),
        cores=cores(),
        all_jobs=args.all_jobs,
        on_cpu=device == "cpu",
        devices=args.devices,
        jobs_per_device=args.jobs_per_device,
        speedup=args.speedup,
        cpu_cores=cores(),
        profile_device=study.profile.device_for(),
    )
    print(text)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="sagan", description=__doc__)
    p.add_argument("--threads", type=positive_int, default=None, help="torch CPU threads")
    p.add_argument("--device", type=device, default="cpu", help="cpu, cuda, cuda:N or mps")
    p.add_argument("--debug", action="store_true", help="show the traceback of any error")
    sub = p.add_subparsers(dest="command", required=True)
    for add in (_run_commands, _report_commands, _bench_commands, _study_commands):
        add(sub)
    return p


def _run_commands(sub: argparse._SubParsersAction) -> None:
    """Data, extractors, references, and one run: train, score, share."""
    sub.add_parser("variants", help="list registered variants").set_defaults(fn=cmd_variants)
    sub.add_parser(
        "datasets", help="list registered datasets: kind, options with defaults"
    ).set_defaults(fn=cmd_datasets)

    s = sub.add_parser(
        "arms", help="a study's arms, sweeps expanded, with every option (defaults included)"
    )
    s.add_argument("study", type=existing_file, help="study config YAML")
    s.set_defaults(fn=cmd_arms)

    s = sub.add_parser("prepare", help="prepare a dataset into one uint8 file")
    s.add_argument("dataset", type=known_dataset, help="a dataset name (sagan datasets)")
    s.add_argument("--resolution", type=positive_int, required=True)
    s.add_argument("--heldout", type=positive_int, required=True, help="held-out images")
    s.add_argument("--seed", type=nonneg_int, default=0)
    s.add_argument("--options", type=json_object, default={}, help="dataset options, JSON")
    s.add_argument("--out", required=True)
    s.set_defaults(fn=cmd_prepare)

    s = sub.add_parser("train-extractor", help="train the domain feature extractor")
    s.add_argument("data", type=existing_file, help="prepared data file")
    s.add_argument("--epochs", type=positive_int, default=ExtractorConfig.epochs)
    s.add_argument("--out", required=True)
    s.set_defaults(fn=cmd_train_extractor)

    s = sub.add_parser("reference", help="reference features of a real split")
    s.add_argument("data", type=existing_file, help="prepared data file")
    s.add_argument("--split", default="heldout", choices=["heldout", "train"])
    s.add_argument("--extractor", default=EvalConfig.extractor)
    s.add_argument("--extractor-path", required=True)
    s.add_argument("--out", required=True)
    s.set_defaults(fn=cmd_reference)

    s = sub.add_parser(
        "noise-floor",
        help="FD/KID of real vs real at the study's counts, and the extractor's degradation checks",
    )
    s.add_argument("data", type=existing_file, help="prepared data file")
    s.add_argument("--reference", type=existing_file, required=True, help="held-out features")
    s.add_argument("--train-reference", type=existing_file, required=True, help="pool features")
    s.add_argument("--extractor", default=EvalConfig.extractor)
    s.add_argument("--extractor-path", required=True)
    s.add_argument("--num-samples", type=positive_int, required=True, help="evaluation's count")
    s.add_argument("--resamples", type=positive_int, default=5, help="draws (at least 2)")
    s.add_argument("--out-floor", required=True, help="floor CSV")
    s.add_argument("--out-checks", required=True, help="extractor checks CSV")
    s.set_defaults(fn=cmd_noise_floor)

    s = sub.add_parser(
        "floor-tables", help="a study's floor and check CSVs, one per entry, stacked"
    )
    s.add_argument(
        "--entry",
        nargs=3,
        action="append",
        required=True,
        metavar=("DATASET", "FLOOR", "CHECKS"),
        help="a dataset entry's name and its two CSVs (sagan noise-floor); repeat per entry",
    )
    s.add_argument("--out-dir", required=True, help="results/<study>")
    s.set_defaults(fn=cmd_floor_tables)

    s = sub.add_parser("run-config", help="write one run's resolved config from its study")
    s.add_argument("study", help="the study YAML (the workflow's results/<study>/study.yaml)")
    s.add_argument("--run", required=True, help="the run: dataset/arm/n<size>/s<seed>")
    s.add_argument("--out", required=True, help="config.yaml in the run's own folder")
    s.set_defaults(fn=cmd_run_config)

    s = sub.add_parser("train", help="train one run")
    s.add_argument("config", type=existing_file, help="run config YAML")
    s.add_argument("--out", required=True, help="run directory (its outputs)")
    s.add_argument(
        "--state", help="the trainer's folder: checkpoints/, samples/, lock (default: --out)"
    )
    s.add_argument(
        "--expect",
        metavar="DIGEST",
        help="the run config's digest as the study resolves it (the workflow gives it): a "
        "config.yaml edited by hand is refused",
    )
    s.set_defaults(fn=cmd_train)

    s = sub.add_parser(
        "share-run", help="copy a run's results to a run that differs from it only by name"
    )
    s.add_argument("source", type=existing_dir, help="the finished run's output folder")
    s.add_argument("--out", required=True, help="the other run's output folder")
    s.set_defaults(fn=cmd_share_run)

    s = sub.add_parser("evaluate", help="score a trained run (writes metrics.json)")
    s.add_argument("run_dir", type=existing_dir)
    s.add_argument(
        "--expect",
        metavar="DIGEST",
        help="the run config's digest as the study resolves it (the workflow gives it): a "
        "config.yaml edited by hand is refused",
    )
    s.add_argument(
        "--state",
        metavar="DIR",
        help="the run's state folder: keep a copy of the scores there, and restore it when "
        "every input is unchanged (a failed rerun then costs no finished result)",
    )
    s.set_defaults(fn=cmd_evaluate)


def _report_commands(sub: argparse._SubParsersAction) -> None:
    """From run folders to the summary, the report and the attention maps."""
    s = sub.add_parser(
        "aggregate", help="run folders -> one tidy CSV, each metric's protocol, the training logs"
    )
    s.add_argument("run_dirs", type=existing_dir, nargs="+")
    s.add_argument("--out", required=True)
    s.add_argument(
        "--noise-floor", type=existing_file, help="the study's noise_floor.csv: each metric's floor"
    )
    s.set_defaults(fn=cmd_aggregate)

    s = sub.add_parser(
        "partial-report",
        help="after failed runs: a summary, tables and figures of the runs that finished",
    )
    s.add_argument("run_dirs", nargs="+", help="the study's run folders (begun or not)")
    s.add_argument("--summary", required=True, help="the summary.csv to write")
    s.add_argument("--reports", required=True, help="the study's reports folder")
    s.add_argument("--noise-floor", help="the study's noise_floor.csv, where it exists")
    s.set_defaults(fn=cmd_partial_report)

    s = sub.add_parser(
        "report", help="statistics, tables, figures, claims and notebooks from a results folder"
    )
    s.add_argument(
        "results_dir", type=existing_dir, help="a results folder with summary.csv (and cost/)"
    )
    s.add_argument("--out", default="reports", help="folder for tables/, figures/, *.html")
    s.add_argument(
        "--parts",
        nargs="+",
        default=PARTS,
        choices=PARTS,
    )
    s.add_argument(
        "--notebooks",
        nargs="+",
        default=NOTEBOOKS,
        choices=NOTEBOOKS,
        help="the notebooks the notebooks part executes (default: all)",
    )
    s.set_defaults(fn=cmd_report)

    s = sub.add_parser(
        "attention-maps", help="G's attention maps of a trained run, as arrays for the report"
    )
    s.add_argument("run_dir", type=existing_dir)
    s.add_argument("--out", required=True, help=".npz file")
    s.set_defaults(fn=cmd_attention_maps)


def _bench_commands(sub: argparse._SubParsersAction) -> None:
    """Benchmarks, side by side in one process."""
    bench = sub.add_parser("bench", help="benchmarks (side by side, in one process)")
    bench_sub = bench.add_subparsers(dest="bench", required=True)
    s = bench_sub.add_parser(
        "attention",
        help="naive vs sdpa vs top-k vs linear attention: forward+backward time and memory",
    )
    s.add_argument(
        "--tokens",
        nargs="+",
        type=token_spec,
        default=["256", "1024", "4096"],
        help="square token counts N, or video clips TxHxW (16x16x16 = 4,096 tokens)",
    )
    s.add_argument(
        "--impls",
        nargs="+",
        help="kernels to time (default: naive sdpa auto topk linear); e.g. --tokens 16384 "
        "--impls sdpa linear",
    )
    s.add_argument("--batch", type=positive_int, default=8)
    s.add_argument("--channels", type=positive_int, default=64)
    s.add_argument(
        "--top-k",
        nargs="+",
        type=fraction,
        default=[0.125],
        help="fraction of keys top-k keeps; several give one topk row each (0.125 0.03125)",
    )
    s.add_argument("--chunk-size", type=positive_int, default=256, help="queries per chunk")
    s.add_argument("--repeats", type=positive_int, default=10)
    s.add_argument("--no-memory", action="store_true", help="skip the peak-memory probes")
    s.set_defaults(fn=cmd_bench_attention)

    s = bench_sub.add_parser("step", help="training step: the PyTorch port's SAGAN vs ours")
    s.add_argument(
        "--study",
        type=existing_file,
        default="config/default.yaml",  # the repository's, from its root
        help="study config YAML whose arm is timed (default: config/default.yaml)",
    )
    s.add_argument(
        "--arm",
        help="the study's arm whose block the port places (default: its first with attention)",
    )
    s.add_argument("--resolution", type=positive_int, default=64)
    s.add_argument("--batch", type=positive_int, default=64)
    s.add_argument("--width", type=positive_int, default=32)
    s.add_argument("--repeats", type=positive_int, default=5)
    s.set_defaults(fn=cmd_bench_step)

    s = bench_sub.add_parser(
        "throughput", help="runs per device-hour with K training processes on one device"
    )
    s.add_argument(
        "--study",
        type=existing_file,
        default="config/paper.yaml",  # the repository's, from its root
        help="study config YAML (default: config/paper.yaml)",
    )
    s.add_argument("--resolutions", type=positive_int, nargs="+", default=[32, 64])
    s.add_argument("--k", type=positive_int, nargs="+", default=[1, 2, 4, 8])
    s.add_argument("--iterations", type=positive_int, default=5, help="timed, per process")
    s.add_argument("--repeats", type=positive_int, default=3)
    s.add_argument("--arm", help="the study's arm (default: its first with attention)")
    s.add_argument(
        "--precision", choices=["fp32", "bf16", "fp16"], help="default: the study's train.precision"
    )
    s.add_argument(
        "--cuda-graphs",
        nargs="+",
        choices=["on", "off"],
        default=["off", "on"],
        help="CUDA only (torch.compile reduce-overhead); skipped elsewhere",
    )
    s.add_argument("--device", dest="bench_device", type=device, help="default: cpu")
    s.set_defaults(fn=cmd_bench_throughput)


def _study_commands(sub: argparse._SubParsersAction) -> None:
    """A study's cost, forecast and validation."""
    s = sub.add_parser("profile", help="training-step cost of a study's variants, side by side")
    s.add_argument("study", type=existing_file, help="study config YAML")
    s.add_argument("--data", type=existing_file, required=True, help="prepared data file")
    s.add_argument("--dataset", required=True, help="dataset name for the rows")
    s.add_argument("--out", required=True, help="CSV")
    s.set_defaults(fn=cmd_profile)

    s = sub.add_parser("scaling", help="attention cost against image size and tokens N")
    s.add_argument("study", type=existing_file, help="study config YAML")
    s.add_argument("--resolutions", type=positive_int, nargs="+", help="default: the study's")
    s.add_argument("--out", required=True, help="CSV of rows")
    s.add_argument("--slopes", required=True, help="CSV of fitted log-log slopes")
    s.set_defaults(fn=cmd_scaling)

    s = sub.add_parser("cost-figures", help="draw the cost figures from profile CSVs")
    s.add_argument("profiles", type=existing_file, nargs="+", help="profile CSVs")
    s.add_argument("--scaling", type=existing_file, help="scaling CSV (sagan scaling)")
    s.add_argument("--out-dir", required=True)
    s.set_defaults(fn=cmd_cost_figures)

    s = sub.add_parser(
        "estimate", help="a study's job-hours and wall-clock, from a short timed profile"
    )
    s.add_argument("study", type=existing_file, help="study config YAML")
    s.add_argument("--devices", type=positive_int, default=1, help="devices N (GPUs, or 1 CPU)")
    s.add_argument(
        "--jobs-per-device", type=positive_int, default=1, help="jobs K at once on each device"
    )
    s.add_argument(
        "--speedup",
        type=positive_float,
        help="throughput of K jobs on one device over one job (sagan bench throughput); "
        "default K: each job as fast as alone (a CPU with a core per job)",
    )
    s.add_argument(
        "--device", dest="estimate_device", type=device, help="where to time (default: cpu)"
    )
    s.add_argument(
        "--all-jobs",
        action="store_true",
        help="count every job, done or not (default: those `snakemake -n` in this folder "
        "would run)",
    )
    s.set_defaults(fn=cmd_estimate)

    s = sub.add_parser(
        "pairing", help="how well seeds pair two arms: r, paired SD, MDE, seeds needed"
    )
    s.add_argument("summary", help="a study's results/<study>/summary.csv")
    s.add_argument("--arm", required=True)
    s.add_argument("--baseline", required=True)
    s.add_argument("--metric", default="fd_domain")
    s.add_argument("--dataset", help="the dataset entry (needed when the study has several)")
    s.add_argument("--size", help="the training-set size, e.g. full (needed with several)")
    s.add_argument("--effect", type=float, default=12.0, help="effect to detect, %% (12)")
    s.set_defaults(fn=cmd_pairing)
    s = sub.add_parser("validate", help="check a study config without running it")
    s.add_argument("study")
    s.add_argument(
        "--schema",
        type=existing_file,
        help="JSON schema of a study (default: the one the package ships, which the workflow uses)",
    )
    s.add_argument(
        "--device",
        choices=["cpu", "cuda"],
        help="where training will run (default: this machine's GPU if any, else its CPU)",
    )
    s.add_argument("--force", action="store_true", help="skip the memory-fit check only")
    s.add_argument(
        "--claims",
        type=existing_file,
        default=DESIGN_CLAIMS if DESIGN_CLAIMS.is_file() else None,
        help="the design's claims, which the study's claims: go over (default: "
        "config/claims.yaml of this folder, the checkout, as the workflow reads it)",
    )
    s.set_defaults(fn=cmd_validate)


def main(argv: list[str] | None = None) -> int:
    """Run one subcommand; an error the user can fix is one line on stderr and exit 2
    (``--debug``: its traceback instead). Returns the exit code, argparse's refusals too."""
    try:
        args = parser().parse_args(argv)
    except SystemExit as exit_:  # a bad argument (2) or --help (0): usage already printed
        return int(exit_.code or 0)
    if args.threads:
        import torch  # here, not above: small jobs (run configs) start without it

        torch.set_num_threads(args.threads)
    try:
        args.fn(args)
    except BrokenPipeError:
        # the reader stopped early (`sagan arms STUDY | head`): what it read was printed.
        # Point stdout at devnull so the interpreter's last flush does not raise again
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except Exception as err:
        message = user_error(err)
        if message is None or args.debug:
            raise
        print(
            f"sagan {args.command}: error: {message} (--debug shows the traceback)", file=sys.stderr
        )
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
