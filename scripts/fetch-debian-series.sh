#!/bin/bash
# fetch-debian-series.sh - download Debian bookworm source packages with quilt series
# ("3.0 (quilt)", or "1.0" with a debian/patches/series that debian/rules
# applies with quilt) and extract them UNPATCHED (dpkg-source --skip-patches),
# as a real-world corpus for testing f5quilt against GNU quilt.
#
# Usage (as root, Debian bookworm):
#   fetch-debian-series.sh CACHE_DIR OUT_DIR [PKG[=VERSION] ...]
#
#   CACHE_DIR  where .dsc/.orig/.debian tarballs are kept (reused if present)
#   OUT_DIR    each package is extracted to OUT_DIR/PKG (replaced if present),
#              patches NOT applied; OUT_DIR/MANIFEST lists what was extracted
#              (lines of packages not named this time are kept).
#   PKG        defaults to the list below.  "PKG=VERSION" pins a version;
#              if that version is no longer in the archive the current
#              candidate is used instead (set STRICT=1 to fail instead).
#
# Environment:
#   STRICT=1         fail if a pinned version cannot be fetched
#   INSTALL_QUILT=1  also apt-get install GNU quilt (reference implementation)
#
# In each OUT_DIR/PKG:  QUILT_PATCHES=debian/patches quilt push -a
set -euo pipefail

DEFAULT_PKGS=(
    "grub2=2.06-13+deb12u2"        # 206 patches (96 in subdirs), git-style a/ b/
    "cron=3.0pl1-162"              # 76 patches, cron.orig/ cron/ prefixes, Index: lines
    "openssh=1:9.2p1-2+deb12u10"   # 53 patches, git format-patch style
    "procmail=3.22-27"             # 32 patches, plain a/ b/ diffs named 00..31
    # the odd cases (docs/quilt-compat.md, "Real Debian series"):
    "clamsmtp=1.10-17.2"           # 5 patches, format 1.0: timestamps after spaces, fuzz 2, offsets
    "python3.11=3.11.2-6+deb12u8"  # 83 patches: file names with spaces (Misc/NEWS.d/next/Core and Builtins/)
    "glibc=2.36-9+deb12u14"        # 109 patches: "Binary files /dev/null and b/X differ" under
                                   # new file mode, a hunk longer than its header counts
)

die() { echo "fetch.sh: error: $*" >&2; exit 1; }
log() { echo "fetch.sh: $*" >&2; }

[ $# -ge 2 ] || { sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
[ "$(id -u)" = 0 ] || die "must run as root (needs apt-get)"

CACHE=$1; OUT=$2; shift 2
PKGS=("$@"); [ ${#PKGS[@]} -gt 0 ] || PKGS=("${DEFAULT_PKGS[@]}")
mkdir -p "$CACHE" "$OUT"
CACHE=$(cd "$CACHE" && pwd); OUT=$(cd "$OUT" && pwd)
export DEBIAN_FRONTEND=noninteractive
APT_OPTS=(-o APT::Sandbox::User=root -q)   # cache dir need not be _apt-writable

# ---------------------------------------------------------------- deb-src ---
have_sources_index() {
    compgen -G '/var/lib/apt/lists/*_source_Sources*' >/dev/null
}

enable_deb_src() {
    local changed=0 f
    # deb822 files: "Types: deb" -> "Types: deb deb-src"
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] || continue
        if grep -qE '^Types:([[:space:]]+deb)+[[:space:]]*$' "$f"; then
            sed -i -E 's/^Types:[[:space:]]+deb[[:space:]]*$/Types: deb deb-src/' "$f"
            log "enabled deb-src in $f"; changed=1
        fi
    done
    # one-line format: add a deb-src twin for each active "deb" line
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [ -f "$f" ] || continue
        if grep -qE '^[[:space:]]*deb[[:space:]]' "$f" &&
           ! grep -qE '^[[:space:]]*deb-src[[:space:]]' "$f"; then
            grep -E '^[[:space:]]*deb[[:space:]]' "$f" |
                sed -E 's/^([[:space:]]*)deb([[:space:]])/\1deb-src\2/' >> "$f"
            log "added deb-src lines to $f"; changed=1
        fi
    done
    # nothing to derive from: add Debian's own archive
    if [ $changed = 0 ] && ! grep -rqsE '^(Types:.*deb-src|[[:space:]]*deb-src[[:space:]])' \
            /etc/apt/sources.list /etc/apt/sources.list.d/; then
        cat > /etc/apt/sources.list.d/f5quilt-deb-src.sources <<'EOF'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb-src
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
        log "created /etc/apt/sources.list.d/f5quilt-deb-src.sources"
    fi
}

UPDATED=0
apt_update() { [ $UPDATED = 1 ] || { apt-get "${APT_OPTS[@]}" update >&2; UPDATED=1; }; }

if ! have_sources_index; then
    enable_deb_src
    apt_update
    have_sources_index || die "no Sources index after enabling deb-src"
fi

need_pkgs=()
command -v dpkg-source >/dev/null || need_pkgs+=(dpkg-dev)
command -v xz >/dev/null || need_pkgs+=(xz-utils)
[ "${INSTALL_QUILT:-0}" = 1 ] && ! command -v quilt >/dev/null && need_pkgs+=(quilt)
if [ ${#need_pkgs[@]} -gt 0 ]; then
    apt_update
    apt-get "${APT_OPTS[@]}" install -y --no-install-recommends "${need_pkgs[@]}" >&2
fi

# --------------------------------------------------------------- download ---
# Name of the .dsc apt would fetch for SPEC ("pkg" or "pkg=version"), or fail.
dsc_for() {
    apt-get "${APT_OPTS[@]}" source --print-uris "$1" 2>/dev/null |
        awk -F"'" 'NF>=3 && $2 ~ /\.dsc$/ {split($3, a, " "); print a[1]; found=1}
                   END {exit !found}'
}

# all files a .dsc references are present with the right size?
dsc_complete() {
    local dsc=$1 dir
    [ -f "$dsc" ] || return 1
    dir=$(dirname "$dsc")
    awk '/^Files:/{f=1;next} /^[^ ]/{f=0} f&&NF==3{print $2, $3}' "$dsc" |
    while read -r size name; do
        [ -f "$dir/$name" ] && [ "$(stat -c %s "$dir/$name")" = "$size" ] || exit 1
    done
}

fetch_one() {   # SPEC -> prints path of the .dsc in $CACHE
    local spec=$1 pkg=${1%%=*} name
    if ! name=$(dsc_for "$spec"); then
        [ "$spec" != "$pkg" ] || die "no source package $pkg"
        [ "${STRICT:-0}" = 1 ] && die "$spec not in the archive (STRICT=1)"
        log "WARNING: $spec not in the archive; using the current candidate"
        spec=$pkg
        name=$(dsc_for "$spec") || die "no source package $pkg"
    fi
    if dsc_complete "$CACHE/$name"; then log "$name: cached"; echo "$CACHE/$name"; return; fi
    log "$name: downloading"
    (cd "$CACHE" && apt-get "${APT_OPTS[@]}" source --download-only "$spec" >&2) ||
        die "apt-get source --download-only $spec failed"
    dsc_complete "$CACHE/$name" || die "$name: incomplete download"
    echo "$CACHE/$name"
}

# ---------------------------------------------------------------- extract ---
MANIFEST="$OUT/MANIFEST"
kept=$(mktemp)
if [ -f "$MANIFEST" ]; then
    names=" ${PKGS[*]%%=*} "
    awk -v names="$names" '!/^#/ && index(names, " " $1 " ") == 0' "$MANIFEST" > "$kept"
fi
{ printf '# package\tversion\tpatches\tdsc-sha256\n'; cat "$kept"; } > "$MANIFEST"
rm -f "$kept"
for spec in "${PKGS[@]}"; do
    pkg=${spec%%=*}
    dsc=$(fetch_one "$spec")
    grep -qE '^Format: (3\.0 \(quilt\)|1\.0)$' "$dsc" || die "$dsc is neither 3.0 (quilt) nor 1.0"
    realver=$(awk '/^Version:/{print $2; exit}' "$dsc")
    tmp=$(mktemp -d "$OUT/.extract.XXXXXX")
    # dpkg-source leaves orig-tarball symlinks next to the target: use a tmp dir
    (cd "$tmp" && dpkg-source -x --skip-patches "$dsc" "$pkg" >&2) ||
        { rm -rf "$tmp"; die "dpkg-source -x failed for $dsc"; }
    rm -rf "${OUT:?}/$pkg"
    mv "$tmp/$pkg" "$OUT/$pkg"
    rm -rf "$tmp"
    [ -f "$OUT/$pkg/debian/patches/series" ] || die "$pkg: no debian/patches/series"
    n=$(grep -cvE '^[[:space:]]*(#|$)' "$OUT/$pkg/debian/patches/series" || true)
    printf '%s\t%s\t%s\t%s\n' "$pkg" "$realver" "$n" \
        "$(sha256sum "$dsc" | cut -d' ' -f1)" >> "$MANIFEST"
    log "$pkg $realver: extracted to $OUT/$pkg ($n patches, unapplied)"
done
cat "$MANIFEST"
