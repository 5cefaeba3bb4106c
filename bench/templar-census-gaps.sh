#!/usr/bin/env bash
# Lists every filter, test, lookup, global function and method in the Kubespray
# census that rsible's templar does not implement (exit 1 if any).
# Usage: bench/templar-census-gaps.sh [CENSUS_DIR]   (default: ../shared/kubespray-census)
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
census="${1:-$here/../shared/kubespray-census}"
exec cargo run -q --manifest-path "$here/Cargo.toml" -p rsible-templar --example census_gaps -- "$census"
