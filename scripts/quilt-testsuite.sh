#!/bin/bash
# quilt-testsuite.sh - run GNU quilt's own test suite (its test/*.test transcripts,
# with its own test/run driver) with f5quilt standing in as `quilt`.
#
# Usage:
#   quilt-testsuite.sh [--reference] OUT_TSV [TEST ...]
#
#   OUT_TSV      one line per test file: name, commands passed, commands run, ok|failed
#                (the driver's transcript of each file goes to OUT_TSV.d/NAME.log)
#   TEST         test names (like "push" for test/push.test); default: all of them
#   --reference  run the real GNU quilt instead (the installed /usr/bin/quilt)
#   $F5QUILT_SUITE_JOBS  test files run at once (default 1)
#
# The source is fetched once into $F5QUILT_QUILT_SRC (default .cache/quilt-src in
# the repository; never committed): `apt-get source quilt` when the archive still
# serves the installed version's source, else quilt 0.68's upstream tarball from
# the pool of the Debian mirror apt is configured with (sha256 checked).
# Like quilt's `make check`, the tests run as a user who is not root: as root,
# the script creates one (f5quilt-check) and runs the driver as that user.
set -euo pipefail

REFERENCE=0
if [ "${1:-}" = --reference ]; then REFERENCE=1; shift; fi
[ $# -ge 1 ] || { sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
OUT=$(realpath -m "$1"); shift

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SRC_CACHE=${F5QUILT_QUILT_SRC:-$ROOT/.cache/quilt-src}
FALLBACK_VERSION=0.68
FALLBACK_SHA256=fe8c09de03c106e85b3737c8f03ade147c956b79ed7af485a1c8a3858db38426
CHECK_USER=f5quilt-check

log() { echo "quilt-testsuite: $*" >&2; }
die() { log "error: $*"; exit 1; }

fetch_source() {
    mkdir -p "$SRC_CACHE"
    local dir
    dir=$(find "$SRC_CACHE" -maxdepth 1 -type d -name 'quilt-0.*' | sort | head -1)
    if [ -n "$dir" ] && [ -x "$dir/test/run" ]; then echo "$dir"; return; fi
    (cd "$SRC_CACHE" && apt-get source -q -o APT::Sandbox::User=root --download-only quilt \
        >/dev/null 2>&1) || true
    local tarball
    tarball=$(find "$SRC_CACHE" -maxdepth 1 -name 'quilt_*.orig.tar.*' | head -1)
    if [ -z "$tarball" ]; then
        local mirror
        mirror=$(apt-get indextargets --format '$(REPO_URI)' 2>/dev/null \
                 | grep -v security | head -1)
        [ -n "$mirror" ] || die "no Debian mirror configured for apt"
        tarball=$SRC_CACHE/quilt_$FALLBACK_VERSION.orig.tar.gz
        curl -sfL -o "$tarball.part" \
            "${mirror%/}/pool/main/q/quilt/quilt_$FALLBACK_VERSION.orig.tar.gz" \
            || die "could not download quilt's source"
        echo "$FALLBACK_SHA256  $tarball.part" | sha256sum -c --quiet - \
            || die "quilt's source tarball: wrong sha256"
        mv "$tarball.part" "$tarball"
    fi
    tar -xf "$tarball" -C "$SRC_CACHE"
    dir=$(find "$SRC_CACHE" -maxdepth 1 -type d -name 'quilt-0.*' | sort | head -1)
    [ -n "$dir" ] && [ -x "$dir/test/run" ] || die "no test/run in $tarball"
    echo "$dir"
}

SRC=$(fetch_source)
log "quilt source: $SRC"

WORK=$(mktemp -d /tmp/f5quilt-quiltsuite.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/bin"
cp -r "$SRC/test" "$WORK/test"
if [ "$REFERENCE" = 1 ]; then
    ln -s /usr/bin/quilt "$WORK/bin/quilt"
else
    # the user running the tests may not read root's home, where a pyenv or a
    # virtualenv may live: f5quilt and its dependencies are copied beside the tests,
    # and run by the first interpreter of the same version that user can start
    PY=${PYTHON:-python3}
    mkdir -p "$WORK/pylib"
    cp -r "$ROOT/f5quilt" "$WORK/pylib/"
    "$PY" - "$WORK/pylib" <<'PYEOF'
import importlib, os, shutil, sys
for name in ("click", "unidiff", "git", "gitdb", "smmap", "yaml", "_yaml"):
    try:
        mod = importlib.import_module(name)
    except ImportError:
        continue
    path = mod.__file__ or ""
    src = os.path.dirname(path) if os.path.basename(path).startswith("__init__.") else path
    dst = os.path.join(sys.argv[1], os.path.basename(src))
    (shutil.copytree if os.path.isdir(src) else shutil.copy)(src, dst)
PYEOF
    find "$WORK/pylib" -name __pycache__ -prune -exec rm -rf {} +
    version=$("$PY" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
    RUNPY=
    for cand in "$(readlink -f "$(command -v "$PY")")" "/usr/bin/python$version" /usr/bin/python3; do
        [ -x "$cand" ] || continue
        if [ "$(id -u)" != 0 ] || /usr/sbin/runuser -u nobody -- "$cand" -c 1 2>/dev/null; then
            RUNPY=$cand; break
        fi
    done
    [ -n "$RUNPY" ] || die "no python $version that a user other than root can run"
    cat > "$WORK/bin/quilt" <<EOF
#!/bin/sh
PYTHONPATH="$WORK/pylib" PYTHONDONTWRITEBYTECODE=1 exec $RUNPY -m f5quilt "\$@"
EOF
    chmod 755 "$WORK/bin/quilt"
fi
chmod -R a+rX "$WORK"
chmod a+w "$WORK/test"

TESTS=("$@")
if [ ${#TESTS[@]} -eq 0 ]; then
    for t in "$WORK"/test/*.test; do TESTS+=("$(basename "$t" .test)"); done
fi

AS=()
if [ "$(id -u)" = 0 ]; then
    id "$CHECK_USER" >/dev/null 2>&1 || useradd --system --no-create-home \
        --home-dir /nonexistent --shell /usr/sbin/nologin "$CHECK_USER"
    AS=(/usr/sbin/runuser -u "$CHECK_USER" --)
fi

mkdir -p "$OUT.d"
: > "$OUT"
run_one() {
    local t=$1 summary total passed failed status
    # the environment quilt's Makefile gives each test (CHECK_ENV, QUILTRC, QUILT_DIR)
    (cd "$WORK/test" && env -i PATH="$WORK/bin:/usr/local/bin:/usr/bin:/bin" \
        HOME=/nonexistent LANG=C LC_ALL=C QUILT_DIR=/usr/share/quilt \
        QUILTRC="$WORK/test/test.quiltrc" P=patches/ _P=../patches/ QUILT_PC=.pc \
        TMPDIR=/tmp "${AS[@]}" timeout 300 ./run -q "$t.test") > "$OUT.d/$t.log" 2>&1 || true
    summary=$(grep -aEo '^[0-9]+ commands \([0-9]+ passed, [0-9]+ failed\)' "$OUT.d/$t.log" | tail -1 || true)
    if [ -z "$summary" ]; then
        printf '%s\t0\t0\tfailed\n' "$t" > "$OUT.d/$t.row"
        return
    fi
    total=${summary%% commands*}
    passed=$(echo "$summary" | sed -E 's/.*\(([0-9]+) passed.*/\1/')
    failed=$(echo "$summary" | sed -E 's/.*, ([0-9]+) failed.*/\1/')
    status=ok; [ "$failed" = 0 ] || status=failed
    printf '%s\t%s\t%s\t%s\n' "$t" "$passed" "$total" "$status" > "$OUT.d/$t.row"
}
# test files run $JOBS at a time (quilt's own `make -j check` does the same: its driver
# works in a folder of its own per process, d.PID); the rows are put back in order
JOBS=${F5QUILT_SUITE_JOBS:-1}
running=0
for t in "${TESTS[@]}"; do
    [ -f "$WORK/test/$t.test" ] || die "no test $t"
    rm -f "$OUT.d/$t.row"
    if [ "$JOBS" -le 1 ]; then run_one "$t"; continue; fi
    if [ "$running" -ge "$JOBS" ]; then wait -n; running=$((running - 1)); fi
    run_one "$t" &
    running=$((running + 1))
done
wait
for t in "${TESTS[@]}"; do cat "$OUT.d/$t.row" >> "$OUT"; done
files_ok=$(awk -F'\t' '$4 == "ok"' "$OUT" | wc -l)
cmds_ok=$(awk -F'\t' '{ s += $2 } END { print s + 0 }' "$OUT")
cmds=$(awk -F'\t' '{ s += $3 } END { print s + 0 }' "$OUT")
echo "$files_ok of ${#TESTS[@]} test files pass; $cmds_ok of $cmds commands"
