#!/usr/bin/env bash
# Side by side with blackbox_exporter, on loopback only:
#   1. nginx with an HTTP vhost and an HTTPS vhost (RSA-2048 certificate);
#   2. blackbox_exporter (Debian's prometheus-blackbox-exporter) with http_2xx
#      modules, and prodready-exporter with equivalent `http` checks;
#   3. the same wrk load (-c16, fixed duration) through each one's /probe;
#      probes/s, share of successful probes, CPU ms per successful probe
#      (utime+stime from /proc), peak RSS (VmHWM), and the ratios ours/blackbox;
#      `http` rows reuse the target's pooled connection; `http_fresh` rows set
#      `fresh_connection: true` (a new connection and handshake per probe, as
#      blackbox does): the like-for-like comparison;
#   4. at 10,000 and 100,000 configured checks (60 s intervals, 10% of them
#      hanging on a listener that never answers): time to listen and to
#      ready (first full round), idle RSS and memory per check, /metrics
#      p50/p99 under wrk -c16 (plain and gzip), the scheduler's lateness p99
#      (from prodready_scheduler_lateness_seconds), the daemon's CPU per 1,000
#      checks at rest, and the time of a reload of the unchanged config;
#      the floor: nginx serving the same page as a static file (plain, and
#      pre-compressed with gzip_static) to the same wrk -c16, our p50/p99 as
#      ratios to its;
#   5. the cost of encoding the /metrics page per series (benches/metrics_encode.rs);
#   6. hardcoded_secrets against gitleaks on one real tree (bench/secrets.sh);
#   7. dependency_vulnerabilities' scanner on a generated monorepo (benches/deps_scan.rs).
# Figures are medians of RUNS runs. Usage: bench/compare.sh [SECONDS] [RUNS]
# SCALES="0 10000 100000" chooses the check counts of part 4 (concurrency 2048:
# 10% hanging checks at 10 s each need about 1,700 slots at 100,000 checks).
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_RUN=${1:-10}
RUNS=${2:-3}
OUT=${BENCH_OUT:-docs/benchmarks.md}

missing=()
command -v wrk >/dev/null || missing+=(wrk)
[ -x /usr/bin/prometheus-blackbox-exporter ] || missing+=(prometheus-blackbox-exporter)
[ -x /usr/sbin/nginx ] || missing+=(nginx)
command -v openssl >/dev/null || missing+=(openssl)
if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
cargo build --release --locked -q
OURS=$PWD/target/release/prodready-exporter
LUA=$PWD/bench/probe-success.lua

tmp=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$tmp"; }
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_http() { for _ in $(seq 1 100); do curl -fs "$1" >/dev/null 2>&1 && return 0; sleep 0.1; done; echo "no answer from $1" >&2; return 1; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
peak_kib() { awk '/^VmHWM/ {print $2}' "/proc/$1/status"; }
rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
TICK=$(getconf CLK_TCK)

# --- certificates (RSA-2048, private CA) ---
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$tmp/ca.key" -out "$tmp/ca.crt" -days 30 -subj /CN=bench-ca 2>/dev/null
openssl req -newkey rsa:2048 -nodes -keyout "$tmp/leaf.key" -out "$tmp/leaf.csr" -subj /CN=127.0.0.1 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1\n' > "$tmp/ext"
openssl x509 -req -in "$tmp/leaf.csr" -CA "$tmp/ca.crt" -CAkey "$tmp/ca.key" -CAcreateserial -out "$tmp/leaf.crt" -days 30 -extfile "$tmp/ext" 2>/dev/null

# --- nginx ---
HTTP=$(free_port); HTTPS=$(free_port)
mkdir -p "$tmp/nginx/logs"
cat > "$tmp/nginx/nginx.conf" <<NGINX
daemon off; master_process off; worker_processes 1; error_log $tmp/nginx/logs/error.log error; pid $tmp/nginx/nginx.pid;
events { worker_connections 1024; }
http {
  access_log off; client_body_temp_path $tmp/nginx/cb; proxy_temp_path $tmp/nginx/p; fastcgi_temp_path $tmp/nginx/f; uwsgi_temp_path $tmp/nginx/u; scgi_temp_path $tmp/nginx/s;
  server { listen 127.0.0.1:$HTTP; location / { return 200 "ok\n"; } }
  server { listen 127.0.0.1:$HTTPS ssl; ssl_certificate $tmp/leaf.crt; ssl_certificate_key $tmp/leaf.key; location / { return 200 "ok\n"; } }
}
NGINX
/usr/sbin/nginx -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf" & pids+=($!)
wait_http "http://127.0.0.1:$HTTP/"

# --- blackbox_exporter ---
BB=$(free_port)
cat > "$tmp/blackbox.yml" <<BBX
modules:
  http_2xx:
    prober: http
    timeout: 5s
    http: { preferred_ip_protocol: ip4 }
  https_2xx:
    prober: http
    timeout: 5s
    http: { preferred_ip_protocol: ip4, tls_config: { ca_file: $tmp/ca.crt } }
BBX
/usr/bin/prometheus-blackbox-exporter --config.file="$tmp/blackbox.yml" --web.listen-address="127.0.0.1:$BB" --log.level=error >/dev/null 2>&1 & BB_PID=$!; pids+=($BB_PID)
wait_http "http://127.0.0.1:$BB/metrics"

# --- prodready-exporter ---
PR=$(free_port)
cat > "$tmp/prodready.yaml" <<PRC
global: { interval: 1h, timeout: 5s, concurrency: 64 }
targets:
  web_http: { http: { url: "http://127.0.0.1:$HTTP" } }
  web_https: { http: { url: "https://127.0.0.1:$HTTPS", tls: { ca_file: "$tmp/ca.crt" } } }
checks:
PRC
# 32 copies of each check: the load rotates over them (bench/probe-success.lua).
for i in $(seq 1 32); do
  cat >> "$tmp/prodready.yaml" <<PRC
  - { name: web_http_$i, kind: http, target: web_http }
  - { name: web_https_$i, kind: http, target: web_https }
  - { name: web_http_fresh_$i, kind: http, target: web_http, params: { fresh_connection: true } }
  - { name: web_https_fresh_$i, kind: http, target: web_https, params: { fresh_connection: true } }
  - { name: web_tls_$i, kind: tls_certificate, target: web_https, params: { min_days_left: 1 } }
PRC
done
"$OURS" --config.file="$tmp/prodready.yaml" --web.listen-address="127.0.0.1:$PR" --web.max-probes=64 --log.level=error 2>/dev/null & PR_PID=$!; pids+=($PR_PID)
wait_http "http://127.0.0.1:$PR/-/ready"

# run_load PID URL PATTERN [COPIES] -> "probes_per_s ok_share cpu_ms_per_ok"
run_load() {
  local pid=$1 url=$2 pattern=$3 copies=${4:-1}
  local c0 c1 out ok bad
  c0=$(cpu_ticks "$pid")
  out=$(OK_PATTERN="$pattern" COPIES="$copies" wrk -t2 -c16 -d"${SECONDS_PER_RUN}s" -s "$LUA" "$url" 2>&1)
  c1=$(cpu_ticks "$pid")
  ok=$(echo "$out" | sed -n 's/^RESULT ok=\([0-9]*\) bad=.*/\1/p')
  bad=$(echo "$out" | sed -n 's/^RESULT ok=[0-9]* bad=\([0-9]*\)/\1/p')
  awk -v ok="$ok" -v bad="$bad" -v c="$((c1 - c0))" -v t="$TICK" -v s="$SECONDS_PER_RUN" \
    'BEGIN { total = ok + bad; printf "%.1f %.4f %.4f\n", ok / s, (total ? ok / total : 0), (ok ? c * 1000 / t / ok : 0) }'
}

declare -A R
# "tls": blackbox's HTTPS probe (a fresh TCP + TLS handshake each time)
# against our tls_certificate check, which also handshakes every time.
ROWS="http_fresh https_fresh http https tls"
for proto in $ROWS; do
  for tool in blackbox ours; do
    for run in $(seq 1 "$RUNS"); do
      if [ $tool = blackbox ]; then
        port=$HTTP; scheme=http; module=http_2xx
        case $proto in http|http_fresh) ;; *) port=$HTTPS; scheme=https; module=https_2xx ;; esac
        line=$(run_load "$BB_PID" "http://127.0.0.1:$BB/probe?module=$module&target=$scheme://127.0.0.1:$port/" 'probe_success 1')
      else
        line=$(run_load "$PR_PID" "http://127.0.0.1:$PR/probe?check=web_$proto" 'prodready_check_success%b{} 1' 32)
      fi
      R[$proto,$tool,rate]+="$(echo "$line" | cut -d' ' -f1) "
      R[$proto,$tool,ok]+="$(echo "$line" | cut -d' ' -f2) "
      R[$proto,$tool,cpu]+="$(echo "$line" | cut -d' ' -f3) "
      echo "$proto $tool run $run: probes/s, success share, CPU ms/probe = $line" >&2
    done
  done
done
BB_PEAK=$(peak_kib "$BB_PID"); PR_PEAK=$(peak_kib "$PR_PID")
med() { echo "$1" | tr ' ' '\n' | grep -v '^$' | median; }

# --- /metrics at scale, idle RSS per check ---
python3 -c '
import socket, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(4096)
print(s.getsockname()[1], flush=True)
time.sleep(3600)' > "$tmp/hang.port" & pids+=($!)
for _ in $(seq 1 50); do [ -s "$tmp/hang.port" ] && break; sleep 0.1; done
HANG=$(cat "$tmp/hang.port")
declare -A IDLE FIRST GFIRST P50 P99 G50 G99 LISTEN READY LATE CPU RELOAD RELOADCPU N50 N99 NG50 NG99 R50 R99 RG50 RG99 PAGE GZPAGE
# The floor for /metrics: nginx serving the same bytes from a file.
FLOOR=$(free_port)
mkdir -p "$tmp/floor/logs" "$tmp/floor/www"
cat > "$tmp/floor/nginx.conf" <<NGINX
daemon off; master_process off; worker_processes 1; error_log $tmp/floor/logs/error.log error; pid $tmp/floor/nginx.pid;
events { worker_connections 1024; }
http {
  access_log off; client_body_temp_path $tmp/floor/cb; proxy_temp_path $tmp/floor/p; fastcgi_temp_path $tmp/floor/f; uwsgi_temp_path $tmp/floor/u; scgi_temp_path $tmp/floor/s;
  sendfile on; tcp_nopush on;
  server { listen 127.0.0.1:$FLOOR; root $tmp/floor/www; location = /metrics { default_type text/plain; gzip_static on; } }
}
NGINX
/usr/sbin/nginx -p "$tmp/floor" -c "$tmp/floor/nginx.conf" & pids+=($!)
# A wrk latency ("850.12us", "12.34ms", "1.02s") in ms.
ms() { echo "$1" | awk '{ v = $1; u = v; sub(/^[0-9.]+/, "", u); v += 0; print (u == "us" ? v / 1000 : (u == "s" ? v * 1000 : (u == "m" ? v * 60000 : v))) }'; }
# One scrape's wall time in ms (curl's time_total), extra curl arguments after the URL.
first_scrape() { curl -fs -o /dev/null -w '%{time_total}' "$@" | awk '{ printf "%.0fms", $1 * 1000 }'; }
SCALES=${SCALES:-"0 10000 100000"}
# p99 of a Prometheus histogram: the smallest bucket bound holding 99%.
hist_p99() {
  awk -v name="$1" '
    index($0, name "_bucket{le=\"") == 1 { split($0, a, "\""); le[++n] = a[2]; c[n] = $NF }
    index($0, name "_count ") == 1 { total = $NF }
    END { for (i = 1; i <= n; i++) if (total > 0 && c[i] >= 0.99 * total) { print le[i] "s"; exit } print "-" }'
}
for n in $SCALES; do
  {
    echo "global: { interval: 60s, timeout: 10s, concurrency: 2048 }"
    echo "checks:"
    [ "$n" = 0 ] && echo "  []"
    awk -v n="$n" -v hang="$HANG" 'BEGIN { for (i = 1; i <= n; i++)
      if (i % 10 == 0) printf "  - { name: hang_%d, kind: http, params: { url: \"http://127.0.0.1:%s/\" } }\n", i, hang
      else printf "  - { name: secret_%d, kind: env_secret, params: { variable: BENCH_SECRET_%d } }\n", i, i }'
  } > "$tmp/scale-$n.yaml"
  port=$(free_port)
  t0=$(date +%s.%N)
  "$OURS" --config.file="$tmp/scale-$n.yaml" --web.listen-address="127.0.0.1:$port" --web.enable-lifecycle --log.level=error 2>/dev/null & pid=$!; pids+=($pid)
  until curl -fs "http://127.0.0.1:$port/-/healthy" >/dev/null 2>&1; do sleep 0.05; done
  LISTEN[$n]=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2fs", b - a }')
  until curl -fs "http://127.0.0.1:$port/-/ready" >/dev/null 2>&1; do sleep 0.1; done
  READY[$n]=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2fs", b - a }')
  sleep 3
  IDLE[$n]=$(rss_kib $pid)
  if [ "$n" != 0 ]; then
    # At rest: CPU over 20 s of 60 s intervals (about a third of the checks
    # evaluate), no scrapes.
    c0=$(cpu_ticks $pid); sleep 20; c1=$(cpu_ticks $pid)
    CPU[$n]=$(awk -v c="$((c1 - c0))" -v t="$TICK" -v n="$n" 'BEGIN { printf "%.2f", c * 1000 / t / 20 / (n / 1000) }')
    # Hanging checks are in flight (10 s timeout) while this runs. Each wrk
    # run measures scrapes of a page already rendered once (as nginx's file
    # is in the page cache): the first scrape of each variant, which renders
    # it from nothing while later ones wait, is timed on its own.
    FIRST[$n]=$(first_scrape "http://127.0.0.1:$port/metrics")
    lat=$(wrk -t2 -c16 -d"${SECONDS_PER_RUN}s" --latency "http://127.0.0.1:$port/metrics" 2>&1)
    P50[$n]=$(echo "$lat" | awk '$1 == "50%" {print $2}')
    P99[$n]=$(echo "$lat" | awk '$1 == "99%" {print $2}')
    # As Prometheus scrapes: asking for gzip.
    GFIRST[$n]=$(first_scrape "http://127.0.0.1:$port/metrics" -H "Accept-Encoding: gzip")
    lat=$(wrk -t2 -c16 -d"${SECONDS_PER_RUN}s" --latency -H "Accept-Encoding: gzip" "http://127.0.0.1:$port/metrics" 2>&1)
    G50[$n]=$(echo "$lat" | awk '$1 == "50%" {print $2}')
    G99[$n]=$(echo "$lat" | awk '$1 == "99%" {print $2}')
    LATE[$n]=$(curl -fs "http://127.0.0.1:$port/metrics" | hist_p99 prodready_scheduler_lateness_seconds)
    # The same page from nginx, plain and pre-compressed, same load.
    curl -fs "http://127.0.0.1:$port/metrics" > "$tmp/floor/www/metrics"
    gzip -1 -k -f "$tmp/floor/www/metrics"
    first_scrape "http://127.0.0.1:$FLOOR/metrics" >/dev/null
    lat=$(wrk -t2 -c16 -d"${SECONDS_PER_RUN}s" --latency "http://127.0.0.1:$FLOOR/metrics" 2>&1)
    N50[$n]=$(echo "$lat" | awk '$1 == "50%" {print $2}')
    N99[$n]=$(echo "$lat" | awk '$1 == "99%" {print $2}')
    R50[$n]=$(ratio "$(ms "${P50[$n]}")" "$(ms "${N50[$n]}")")
    R99[$n]=$(ratio "$(ms "${P99[$n]}")" "$(ms "${N99[$n]}")")
    first_scrape "http://127.0.0.1:$FLOOR/metrics" -H "Accept-Encoding: gzip" >/dev/null
    lat=$(wrk -t2 -c16 -d"${SECONDS_PER_RUN}s" --latency -H "Accept-Encoding: gzip" "http://127.0.0.1:$FLOOR/metrics" 2>&1)
    NG50[$n]=$(echo "$lat" | awk '$1 == "50%" {print $2}')
    NG99[$n]=$(echo "$lat" | awk '$1 == "99%" {print $2}')
    RG50[$n]=$(ratio "$(ms "${G50[$n]}")" "$(ms "${NG50[$n]}")")
    RG99[$n]=$(ratio "$(ms "${G99[$n]}")" "$(ms "${NG99[$n]}")")
    PAGE[$n]=$(stat -c %s "$tmp/floor/www/metrics"); GZPAGE[$n]=$(stat -c %s "$tmp/floor/www/metrics.gz")
    c0=$(cpu_ticks $pid)
    t1=$(date +%s.%N)
    curl -fs -X POST "http://127.0.0.1:$port/-/reload" >/dev/null
    RELOAD[$n]=$(awk -v a="$t1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.0fms", (b - a) * 1000 }')
    RELOADCPU[$n]=$(awk -v c="$(( $(cpu_ticks $pid) - c0 ))" -v t="$TICK" 'BEGIN { printf "%.0fms", c * 1000 / t }')
  fi
  kill $pid; wait $pid 2>/dev/null || true
done

# --- /metrics encoding cost, in process (no HTTP): benches/metrics_encode.rs ---
ENCODE_SIZES=$(echo $SCALES | tr ' ' '\n' | grep -vx 0 || true)
ENCODE=$(cargo bench --locked -q --bench metrics_encode -- $ENCODE_SIZES 2>/dev/null | grep -E '^\||^$' | cat -s || true)
# 6. Secret scanning side by side with gitleaks (bench/secrets.sh).
SECRETS=$(bench/secrets.sh "$RUNS" 2>&1 || echo "bench/secrets.sh failed: run scripts/test.sh first (it unpacks gitleaks)")
# 7. Dependency scanning of a generated monorepo (benches/deps_scan.rs).
DEPS=$(cargo bench --locked -q --bench deps_scan 2>/dev/null | grep -E '^(generated|run)' || true)

# Keep the hand-written analysis that follows the figures in the old file.
analysis=""
[ -f "$OUT" ] && analysis=$(sed -n '/^## Against the targets/,$p' "$OUT")
{
  echo "# Benchmarks"
  echo
  echo "Generated by \`bench/compare.sh $SECONDS_PER_RUN $RUNS\` on $(date -u +%Y-%m-%d): $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(free -g | awk '/^Mem/ {print $2}') GiB."
  echo "Versions: $("$OURS" --version), $(/usr/bin/prometheus-blackbox-exporter --version 2>&1 | head -1), nginx $(/usr/sbin/nginx -v 2>&1 | cut -d/ -f2), wrk $(wrk -v 2>&1 | head -1 | cut -d' ' -f2)."
  echo
  echo "## Probes through /probe (wrk -t2 -c16, ${SECONDS_PER_RUN}s, median of $RUNS runs)"
  echo
  echo "| | probes/s | successful | CPU ms per successful probe |"
  echo "|---|---|---|---|"
  for proto in $ROWS; do
    for tool in blackbox ours; do
      echo "| $proto, $tool | $(med "${R[$proto,$tool,rate]}") | $(med "${R[$proto,$tool,ok]}") | $(med "${R[$proto,$tool,cpu]}") |"
    done
    echo "| **$proto, ours / blackbox** | **$(ratio "$(med "${R[$proto,ours,rate]}")" "$(med "${R[$proto,blackbox,rate]}")")x** | | **$(ratio "$(med "${R[$proto,ours,cpu]}")" "$(med "${R[$proto,blackbox,cpu]}")")x** |"
  done
  echo
  echo "Rows: blackbox's \`http_2xx\` probe opens a new connection (and for HTTPS a new TLS handshake) per probe. \`http_fresh\` and \`https_fresh\` are our \`http\` check with \`fresh_connection: true\`, which does the same: **the like-for-like comparison**. \`http\` and \`https\` are our default, which reuses the target's pooled keep-alive connection. \`tls\` compares blackbox's HTTPS probe with our \`tls_certificate\` check, which does its own TCP connection, TLS handshake, chain verification and certificate parsing on every probe."
  echo
  echo "Peak RSS over all probe runs: blackbox_exporter $BB_PEAK KiB, prodready-exporter $PR_PEAK KiB (**$(ratio "$PR_PEAK" "$BB_PEAK")x**)."
  echo
  echo "## At scale (60 s intervals; 10% of checks hang on a listener that never answers, 10 s timeout)"
  echo
  echo "| checks | listening after | ready (first full round) after | idle RSS | memory per check | first scrape, plain / gzip | /metrics p50 | p99 | gzip p50 | gzip p99 | lateness p99 | CPU at rest per 1,000 checks | reload, unchanged config |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
  for n in $SCALES; do
    per="-"
    [ "$n" != 0 ] && per=$(awk -v a="${IDLE[$n]}" -v b="${IDLE[0]:-0}" -v n="$n" 'BEGIN { printf "%.2f KiB", (a - b) / n }')
    echo "| $n | ${LISTEN[$n]} | ${READY[$n]} | ${IDLE[$n]} KiB | $per | ${FIRST[$n]:--} / ${GFIRST[$n]:--} | ${P50[$n]:--} | ${P99[$n]:--} | ${G50[$n]:--} | ${G99[$n]:--} | ${LATE[$n]:--} | ${CPU[$n]:--} ms/s | ${RELOAD[$n]:--} (CPU ${RELOADCPU[$n]:--}) |"
  done
  echo
  echo "### /metrics against its floor: nginx serving the same page as a static file"
  echo
  echo "| checks | page | gzip page | ours p50 / nginx | ours p99 / nginx | **p99 ratio** | ours gzip p50 / nginx gzip_static | gzip p99 / nginx | **gzip p99 ratio** |"
  echo "|---|---|---|---|---|---|---|---|---|"
  for n in $SCALES; do
    [ "$n" = 0 ] && continue
    echo "| $n | ${PAGE[$n]:-0} B | ${GZPAGE[$n]:-0} B | ${P50[$n]:--} / ${N50[$n]:--} (${R50[$n]:--}x) | ${P99[$n]:--} / ${N99[$n]:--} | **${R99[$n]:--}x** | ${G50[$n]:--} / ${NG50[$n]:--} (${RG50[$n]:--}x) | ${G99[$n]:--} / ${NG99[$n]:--} | **${RG99[$n]:--}x** |"
  done
  echo
  echo "The floor: nginx 1 worker, \`sendfile\`, the page saved from our /metrics during the run (gzip: \`gzip -1\`, served by \`gzip_static\`), the same wrk -t2 -c16 for the same time. Goal: p99 within 1.5x of nginx's."
  echo
  echo "Memory per check: idle RSS after the first full round with N checks minus with none, / N. First scrape: the first plain, then the first gzip scrape after the CPU measurement (no scrape before), each rendering its page from nothing; the wrk runs that follow measure scrapes of a page rendered before (each wrk run, ours and nginx's, follows one scrape of the same variant). Lateness: how late evaluations began against their schedule (p99 bucket bound of \`prodready_scheduler_lateness_seconds\`). CPU at rest: the daemon's utime+stime over 20 s without scrapes, per second and per 1,000 checks. Reload: \`POST /-/reload\` of the unchanged file, wall time and the daemon's CPU."
  echo
  echo "## Encoding /metrics (\`cargo bench --bench metrics_encode\`: the page rendered from a store of N checks with results, in process, no HTTP)"
  echo
  echo "$ENCODE"
  echo
  echo "Per series: the median render time divided by the series on the page. gzip at the fast level, as the page cache compresses."
  echo
  echo "## Secret scanning (\`bench/secrets.sh\`: against gitleaks 8.30.1 on cargo's registry sources)"
  echo
  echo "$SECRETS"
  echo
  echo "## Dependency scanning (\`cargo bench --bench deps_scan\`: 200 npm lockfiles x 250 packages against 5,000 OSV advisories)"
  echo
  echo '```'
  echo "$DEPS"
  echo '```'
  if [ -n "$analysis" ]; then
    echo
    echo "$analysis"
  fi
} > "$OUT.new"
mv "$OUT.new" "$OUT"
cat "$OUT"
