#!/usr/bin/env bash
# The one command that runs every test: sets up the machine (see
# setup-test-env.sh), builds, and runs the whole workspace's tests, the
# differential ones against the reference ansible-core 2.18 included.
set -euo pipefail
cd "$(dirname "$0")/.."

eval "$(bash scripts/setup-test-env.sh)"
export RSIBLE_REF_BIN RSIBLE_REF_PYTHON

cargo fmt --all -- --check
cargo build --workspace --all-targets
cargo test --workspace --no-fail-fast
