#!/usr/bin/env bash
# Renders every .j2 template of Kubespray's roles for the 3-node inventory
# under ansible-core 2.18 and under rsible, and compares the files.
#
# Usage: bench/kubespray-templates.sh KUBESPRAY_DIR
#
# Both engines run the same generated playbook (bench/lib/ks_templates_gen.py):
# one play per role, kubespray_defaults' and the role's defaults/vars (and its
# meta dependencies' defaults), one task per .j2 file printing what the
# template lookup renders (as the template module would), ignore_errors, connection local, facts from a fixed fixture
# (bench/data/kubespray-facts.json, a real `setup` result) through a jsonfile
# fact cache. Prints each difference, `N same, M different, K failed in both`
# over (template, host) pairs, and the run times. Needs a release build
# (`cargo build --release`); RSIBLE_BIN overrides where rsible-playbook is.
# RSIBLE_BENCH_REUSE_REF=1 keeps the reference's output of the previous run
# (same Kubespray, same fixture) and runs only rsible.
set -euo pipefail
KS="$(cd "${1:?usage: $0 KUBESPRAY_DIR}" && pwd)"
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/kubespray-common.sh"
ensure_reference_collections

generate_run_and_compare "${RSIBLE_BENCH_WORK:-$REPO_ROOT/.work/kubespray-templates}" \
    ks_templates_gen.py render.yml ks_templates_compare.py
