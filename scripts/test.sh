#!/usr/bin/env bash
# The one command that runs every test: sets up the machine (see
# setup-test-env.sh), builds, and runs the whole workspace's tests, the
# differential ones against the reference ansible-core 2.18 included.
set -euo pipefail
cd "$(dirname "$0")/.."

# An assignment (unlike a bare eval) stops the script when the setup fails.
test_env="$(bash scripts/setup-test-env.sh)"
eval "$test_env"
export RSIBLE_REF_BIN RSIBLE_REF_PYTHON
: "${RSIBLE_REF_BIN:?setup-test-env.sh did not provide the reference}"

cargo fmt --all -- --check
cargo build --workspace --all-targets
cargo test --workspace --no-fail-fast
