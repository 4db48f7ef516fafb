"""Warnings for runs that retrain because their variant's code changed, with the line that
keeps the old result instead (pin its ``source:``)."""

from __future__ import annotations

from sagan import layout, run_folder
from sagan.config import (
    RunConfig,
    to_dict,
)
from sagan.study.model import (
    Study,
)
from sagan.study.plan import Run, folder_of_run, run_config


def code_changes(
    study: Study,
    run_dirs: dict[Run, str],
    configs: dict[str, RunConfig] | None = None,
) -> list[str]:
    """One line per run whose variant's code changed since a finished sibling run of the
    same arm, size and seed that differs in nothing else: it retrains into a new folder, and
    the line says how to keep the old result instead. ``configs``: the runs' resolved
    configs by folder, where the caller has them (else each is resolved here)."""
    import glob
    from pathlib import Path

    import yaml

    messages = []
    for run, out in run_dirs.items():
        if Path(out).exists():
            continue
        resolved = configs[out] if configs else run_config(study, run)
        cfg = to_dict(resolved)
        every_key = folder_of_run(resolved, run, f"{run.arm}-*")  # the arm's other configs
        for path in glob.glob(str(run_folder.path(every_key, run_folder.CONFIG))):
            old = yaml.safe_load(Path(path).read_text()) or {}
            if old.get("variant_source") in (None, cfg["variant_source"]):
                continue
            if layout.run_key({**old, "variant_source": ""}) == layout.run_key(
                {**cfg, "variant_source": ""}
            ):
                messages.append(
                    f"variant {cfg['variant']!r} code changed since {Path(path).parent} "
                    f"(source {old['variant_source']} -> {cfg['variant_source']}): arm "
                    f"{run.arm!r} retrains into {out}; to keep the old result instead, "
                    f'pin it with `source: "{old["variant_source"]}"` under variants.{run.arm}'
                )
                break
    return messages
