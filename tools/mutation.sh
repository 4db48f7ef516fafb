#!/usr/bin/env bash
# Mutation testing with mutmut, module by module (too slow for CI: run it by hand).
#
#   tools/mutation.sh                 every target in tools/mutation_targets.txt
#   tools/mutation.sh losses claims   the targets whose module path contains a name
#
# A target written MODULE:f,g mutates only those top-level functions of MODULE (for a module
# whose full run would take hours on 2 cores, such as the training loop).
#
# Each target runs in a scratch copy of the committed tree (git archive HEAD), so the work
# tree is never mutated and uncommitted edits are not measured. Prints, per module, mutants
# killed / survived / other (timeouts, suspicious), the score killed / (killed + survived),
# and appends it to mutation-scores.tsv in the scratch root; `mutmut show NAME` inside the
# module's scratch folder shows a survivor.
set -euo pipefail
repo=$(git rev-parse --show-toplevel)
scratch=${MUTATION_SCRATCH:-${TMPDIR:-/tmp}/sagan-mutation}
mkdir -p "$scratch"
scores="$scratch/mutation-scores.tsv"
mapfile -t targets < <(grep -v '^#' "$repo/tools/mutation_targets.txt" | grep -v '^$')
for line in "${targets[@]}"; do
    read -r spec tests <<<"$line"
    module=${spec%%:*}
    only=()  # mutmut name patterns of the chosen functions; none: the whole module
    if [[ $spec == *:* ]]; then
        dotted=${module%.py}
        IFS=, read -ra functions <<<"${spec#*:}"
        for f in "${functions[@]}"; do only+=("${dotted//\//.}.x_${f}__mutmut_*"); done
    fi
    if (($#)); then
        hit=0
        for name in "$@"; do [[ $module == *"$name"* ]] && hit=1; done
        ((hit)) || continue
    fi
    work="$scratch/$(basename "$module" .py)"
    rm -rf "$work" && mkdir -p "$work"
    git -C "$repo" archive HEAD | tar -x -C "$work"
    {
        echo "[mutmut]"
        echo "source_paths=$module"
        echo "also_copy="  # the rest of the package and its data files, which tests import
        echo "    sagan"
        echo "    config"
        echo "    tests"
        echo "pytest_add_cli_args_test_selection="
        for t in $tests; do echo "    $t"; done
    } >"$work/setup.cfg"
    (cd "$work" && PYTHONPATH= mutmut run "${only[@]}" >/dev/null 2>&1 || true)
    results=$(cd "$work" && PYTHONPATH= mutmut results --all true 2>/dev/null || true)
    if ((${#only[@]})); then
        results=$(grep -E "\.x_($(IFS='|'; echo "${functions[*]}"))__mutmut_" <<<"$results" || true)
    fi
    killed=$(grep -c ': killed$' <<<"$results" || true)
    survived=$(grep -c ': survived$' <<<"$results" || true)
    total=$(grep -c ': ' <<<"$results" || true)
    other=$((total - killed - survived))
    score=$(python3 -c "k, s = $killed, $survived; print(f'{100 * k / (k + s):.1f}' if k + s else 'nan')")
    printf '%s\tkilled %s\tsurvived %s\tother %s\tscore %s%%\n' \
        "$spec" "$killed" "$survived" "$other" "$score" | tee -a "$scores"
    grep ': survived$' <<<"$results" | sed 's/^ */    survivor: /' || true
done
