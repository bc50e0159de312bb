#!/usr/bin/env bash
# Runs every check and test flotilla has, from a fresh machine: installs what the tests need
# (for now it checks the Rust toolchain), then formatting, lints and the whole test suite.
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

step() {
    echo "==> $*" >&2
    "$@"
}

need_rust
need_components

step cargo fmt --all --check
step cargo clippy --workspace --all-targets --all-features -- -D warnings
step cargo test --workspace --all-features
echo "test.sh: all checks passed" >&2
