#!/usr/bin/env bash
# Core figures of the daemon, printed to stdout:
#   - release binary size
#   - idle RSS with the bundled config.yaml
#   - idle RSS and /metrics latency (p50/p99 of sequential scrapes) with 1,000
#     configured checks, 10% of them pointing at a listener that never answers.
# Usage: bench/core.sh [scrapes]   (needs curl and python3; loopback only)
set -euo pipefail
cd "$(dirname "$0")/.."
SCRAPES=${1:-500}

cargo build --release --locked -q
BIN=target/release/prodready-exporter
tmp=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$tmp"; }
trap cleanup EXIT

rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
wait_ready() {
  for _ in $(seq 1 200); do
    curl -fs "http://$1/-/ready" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "exporter at $1 never became ready" >&2; return 1
}
percentiles() { sort -n | awk '{a[NR]=$1} END {printf "p50=%.2fms p99=%.2fms max=%.2fms (n=%d)\n", a[int(NR*0.5)]*1000, a[int(NR*0.99)]*1000, a[NR]*1000, NR}'; }

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "version: $($BIN --version)"
echo "binary size: $(stat -c %s $BIN) bytes"

# Idle RSS with the default config (its self-check expects port 9718).
$BIN --config.file=config.yaml --web.listen-address=127.0.0.1:9718 2>"$tmp/default.log" &
pids+=($!)
wait_ready 127.0.0.1:9718
sleep 2
echo "idle RSS, default config ($($BIN validate --config.file=config.yaml | sed -n 's/.*OK (\([0-9]*\) checks.*/\1/p') checks): $(rss_kib "${pids[-1]}") KiB"
kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true

# A listener that accepts at the TCP level (kernel backlog) and never answers.
python3 -c '
import socket, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(1024)
print(s.getsockname()[1], flush=True)
time.sleep(3600)' > "$tmp/hang.port" &
pids+=($!)
for _ in $(seq 1 50); do [ -s "$tmp/hang.port" ] && break; sleep 0.1; done
HANG_PORT=$(cat "$tmp/hang.port")

for n in 0 1000; do
  {
    echo "global: { interval: 30s, timeout: 10s, concurrency: 64 }"
    echo "checks:"
    [ "$n" = 0 ] && echo "  []"
    for i in $(seq 1 "$n"); do
      if [ $((i % 10)) = 0 ]; then
        echo "  - { name: hang_$i, kind: http, params: { url: \"http://127.0.0.1:$HANG_PORT/\" } }"
      else
        echo "  - { name: secret_$i, kind: env_secret, params: { variable: BENCH_SECRET_$i } }"
      fi
    done
  } > "$tmp/bench-$n.yaml"
  $BIN --config.file="$tmp/bench-$n.yaml" --web.listen-address=127.0.0.1:0 2>"$tmp/bench-$n.log" &
  pid=$!; pids+=($pid)
  addr=""
  for _ in $(seq 1 100); do
    addr=$(grep -o 'address=[0-9.:]*' "$tmp/bench-$n.log" | head -1 | cut -d= -f2 || true)
    [ -n "$addr" ] && break; sleep 0.1
  done
  # Readiness needs every check once; hanging ones end at their 10s timeout.
  wait_ready "$addr" || true
  sleep 2
  echo "idle RSS with $n checks: $(rss_kib $pid) KiB"
  if [ "$n" != 0 ]; then
    curl -s "http://$addr/metrics" > "$tmp/metrics.txt"
    echo "/metrics size with $n checks: $(wc -c < "$tmp/metrics.txt") bytes, $(grep -vc '^#' "$tmp/metrics.txt") samples"
    for _ in $(seq 1 "$SCRAPES"); do
      curl -s -o /dev/null -w '%{time_total}\n' "http://$addr/metrics"
    done | percentiles | sed "s/^/\/metrics latency with $n checks (sequential curl): /"
  fi
  kill $pid; wait $pid 2>/dev/null || true
done
