"""A study: datasets x arms x sizes x seeds, expanded into run configs, checked up front.

- ``model``: the ``Study`` parsed once from its YAML document, its defaults stated once;
- ``plan``: its runs, run configs, folders and the files they read;
- ``checks``: ``validate_study``, every check of a whole study in one place;
- ``code_changes``: the warning for runs whose variant's code changed.

The workflow, the CLI, the forecast and the tests share this one definition of what a study
means and what is valid; the names below are the package's interface.
"""

from sagan.study.checks import (
    check_study_claims,
    check_study_files,
    check_study_fits,
    validate_study,
)
from sagan.study.code_changes import code_changes
from sagan.study.model import DatasetEntry, ProfileSettings, Study, parse_study
from sagan.study.plan import (
    TRAINED_EXTRACTORS,
    Run,
    arm_blocks,
    attention_map_runs,
    bench_arm,
    cost_part,
    data_key,
    dataset_frames,
    dataset_kind,
    dataset_source,
    dataset_study,
    dataset_variants,
    derived_paths,
    entry_extractor,
    extractor_epochs,
    extractor_key,
    kind,
    known_classes,
    run_config,
    run_dir,
    run_during,
    run_named,
    runs,
    shared_runs,
    study_arms,
    study_facts,
)

__all__ = [
    "TRAINED_EXTRACTORS",
    "DatasetEntry",
    "ProfileSettings",
    "Run",
    "Study",
    "arm_blocks",
    "attention_map_runs",
    "bench_arm",
    "check_study_claims",
    "check_study_files",
    "check_study_fits",
    "code_changes",
    "cost_part",
    "data_key",
    "dataset_frames",
    "dataset_kind",
    "dataset_source",
    "dataset_study",
    "dataset_variants",
    "derived_paths",
    "entry_extractor",
    "extractor_epochs",
    "extractor_key",
    "kind",
    "known_classes",
    "parse_study",
    "run_config",
    "run_dir",
    "run_during",
    "run_named",
    "runs",
    "shared_runs",
    "study_arms",
    "study_facts",
    "validate_study",
]
