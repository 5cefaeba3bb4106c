#!/usr/bin/env bash
# Renders every templated variable of Kubespray's role defaults and vars for
# the 3-node inventory under ansible-core 2.18 and under rsible, and compares
# the values exactly (types included).
#
# Usage: bench/kubespray-values.sh KUBESPRAY_DIR
#
# Both engines run the same generated playbook (bench/lib/ks_values_gen.py):
# per role, a play with kubespray_defaults and the role (its meta
# dependencies too) whose looped debug task prints each variable whose value
# holds `{{` or `{%`, as the role's tasks see it; vars files other than
# vars/main are loaded with include_vars in plays of their own at the end.
# Same inventory, facts fixture and fact cache as bench/kubespray-templates.sh.
# Prints each difference (variable, role, host, both values),
# `N identical, M different, K both-failed` over (variable, host) pairs, and
# the run times. Needs a build of rsible-playbook (release by default;
# RSIBLE_BIN overrides the directory). RSIBLE_BENCH_REUSE_REF=1 keeps the
# reference's output of the previous run and runs only rsible.
set -euo pipefail
KS="$(cd "${1:?usage: $0 KUBESPRAY_DIR}" && pwd)"
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/kubespray-common.sh"
ensure_reference_collections

generate_run_and_compare "${RSIBLE_BENCH_WORK:-$REPO_ROOT/.work/kubespray-values}" \
    ks_values_gen.py values.yml ks_values_compare.py
