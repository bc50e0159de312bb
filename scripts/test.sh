#!/usr/bin/env bash
# Runs every check and test flotilla has, from a fresh machine: installs what the tests need
# (the Rust toolchain is checked; chromium and chromium-driver are installed for the browser
# tests, and iproute2 for the network-namespace tests, when we are root), then formatting,
# lints and the whole test suite.
#
# Usage: bash scripts/test.sh      (from anywhere; it works from the repository root)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

need_rust() {
    if command -v cargo >/dev/null 2>&1; then
        return
    fi
    if [ -x "$HOME/.cargo/bin/cargo" ]; then
        export PATH="$HOME/.cargo/bin:$PATH"
        return
    fi
    # Machines of this kind ship the Rust toolchain; there is no network to fetch one.
    echo "test.sh: cargo not found: install a Rust toolchain (rustup, 1.88 or newer) first" >&2
    exit 1
}

need_components() {
    cargo fmt --version >/dev/null 2>&1 || rustup component add rustfmt
    cargo clippy --version >/dev/null 2>&1 || rustup component add clippy
}

# Installs Debian packages as root: `apt-get install`, and when that fails (stale or empty
# package lists on a fresh machine) `apt-get update` then the install again.
apt_install() {
    DEBIAN_FRONTEND=noninteractive apt-get install -y "$@" >/dev/null 2>&1 \
        || { apt-get update >/dev/null 2>&1 \
             && DEBIAN_FRONTEND=noninteractive apt-get install -y "$@" >/dev/null; }
}

# The browser tests (tests/integration/browser/) need Debian's headless chromium and its
# chromedriver: install them when missing (root), else stop with a clear message.
need_chromium() {
    if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then
        return
    fi
    if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
        echo "test.sh: the browser tests need /usr/bin/chromium and /usr/bin/chromedriver:" \
            "run 'apt-get install chromium chromium-driver' as root, then again" >&2
        exit 1
    fi
    echo "test.sh: installing chromium and chromium-driver for the browser tests" >&2
    apt_install chromium chromium-driver || {
        echo "test.sh: cannot install chromium and chromium-driver" >&2
        exit 1
    }
}

# The network-namespace tests (tests/integration/netns.rs) need root and the `ip`/`tc`
# commands. Install iproute2 only when `ip` is missing and we are root; otherwise say why
# those tests will print SKIPPED.
need_iproute2() {
    if command -v ip >/dev/null 2>&1 && command -v tc >/dev/null 2>&1; then
        return
    fi
    if [ "$(id -u)" != 0 ]; then
        echo "test.sh: no ip/tc and not root: the network-namespace tests will be skipped" >&2
        return
    fi
    if command -v apt-get >/dev/null 2>&1; then
        echo "test.sh: installing iproute2 for the network-namespace tests" >&2
        apt_install iproute2 \
            || echo "test.sh: cannot install iproute2: the network-namespace tests will be skipped" >&2
    else
        echo "test.sh: no ip/tc and no apt-get: the network-namespace tests will be skipped" >&2
    fi
}

# The GRIB parity test (tests/integration/grib.rs) compares our weather previews with
# ecCodes' grib_ls on ecCodes' own samples: install Debian's libeccodes-tools and
# libeccodes-data when missing (root); otherwise that test prints "skipped".
need_eccodes() {
    if command -v grib_ls >/dev/null 2>&1 && [ -d /usr/share/eccodes/samples ]; then
        return
    fi
    if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
        echo "test.sh: no ecCodes tools and not root: the GRIB parity test will be skipped" >&2
        return
    fi
    echo "test.sh: installing libeccodes-tools and libeccodes-data for the GRIB parity test" >&2
    apt_install libeccodes-tools libeccodes-data \
        || echo "test.sh: cannot install ecCodes: the GRIB parity test will be skipped" >&2
}

# The LoRa interop test (tests/integration/lora/meshtastic.rs) checks our Meshtastic frames
# against the Meshtastic project's own Python package: a venv with `meshtastic` from PyPI in
# ~/.cache/flotilla/venv (python3-venv from Debian when missing, as root). Without it the test
# prints SKIPPED.
need_meshtastic_py() {
    local venv="${HOME}/.cache/flotilla/venv"
    export FLOTILLA_PYTHON="$venv/bin/python"
    if "$FLOTILLA_PYTHON" -c 'import meshtastic' >/dev/null 2>&1; then
        return
    fi
    if ! python3 -m venv --help >/dev/null 2>&1 || ! python3 -c 'import ensurepip' >/dev/null 2>&1; then
        if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
            apt_install python3 python3-venv || true
        fi
    fi
    echo "test.sh: installing the meshtastic Python package for the LoRa interop test" >&2
    { python3 -m venv "$venv" && "$venv/bin/pip" install -q meshtastic; } >/dev/null 2>&1 \
        || echo "test.sh: cannot install meshtastic from PyPI: the Meshtastic interop test will be skipped" >&2
}

# The API's property-based test (tests/integration/faults/schemathesis.rs) runs schemathesis
# from PyPI against the node's own OpenAPI: a venv in ~/.cache/flotilla/schemathesis. Without
# it the test prints SKIPPED.
need_schemathesis() {
    local venv="${HOME}/.cache/flotilla/schemathesis"
    export FLOTILLA_SCHEMATHESIS="$venv/bin/st"
    if "$FLOTILLA_SCHEMATHESIS" --version >/dev/null 2>&1; then
        return
    fi
    echo "test.sh: installing schemathesis for the API's property-based test" >&2
    { python3 -m venv "$venv" && "$venv/bin/pip" install -q schemathesis; } >/dev/null 2>&1 \
        || echo "test.sh: cannot install schemathesis from PyPI: the API property test will be skipped" >&2
}

step() {
    echo "==> $*" >&2
    "$@"
}

need_rust
need_components
need_chromium
need_iproute2
need_eccodes
need_meshtastic_py
need_schemathesis

step cargo fmt --all --check
step cargo clippy --workspace --all-targets --all-features -- -D warnings
step cargo test --workspace --all-features
# Smoke runs of the ingest benchmarks (docs/performance.md): small N, figures printed, no
# timing asserted; the example is already built by the tests above.
for bench in "ingest --events 300" "post --stored 300 --clients 4 --posts 80" \
    "cold-sync --posts 300 --limit-s 60" "startup --posts 300" "first-page --posts 300"; do
    # shellcheck disable=SC2086 # the arguments are meant to split
    step cargo run -q -p flotilla-node --all-features --example bench -- $bench
done
# The web UI's pure modules (i18n, routes, formatting, keys) under Node.js's own test runner,
# when Node.js is there (it is on machines of this kind; nothing is fetched from npm).
if command -v node >/dev/null 2>&1; then
    step node --test web/tests/
else
    echo "test.sh: no node: the web UI's JavaScript unit tests are skipped" >&2
fi
echo "test.sh: all checks passed" >&2
