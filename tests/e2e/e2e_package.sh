#!/bin/bash
# The Debian package and make install. `make deb` builds it (lintian clean);
# mmdebstrap makes a fresh minimal Debian 12 root from this machine's
# Debian mirror (its temporary directory, mounts included, removed by
# mmdebstrap itself, under build/pkgtest/); there the package is installed
# with its dependencies, checked (version, conffile, files) and purged,
# and the root's file list must be what it was before the install. The
# unit in it passes systemd-analyze verify and security (exposure <= 3.0).
# make install / uninstall with DESTDIR and PREFIX, and the build flags,
# on a scratch copy of the install tree.
# shellcheck source=tests/lib.sh
source "$(dirname "$0")/../lib.sh"

require_root
WORK=$ROOT/build/pkgtest
MAX_EXPOSURE=3.0
rm -rf "$WORK"
mkdir -p "$WORK" || die "mkdir $WORK"
# mmdebstrap's chroot lives in TMPDIR (cleaned by it, also when a hook
# fails); should it be killed, what it left under $WORK goes here
cleanup() {
	local m
	for m in $(awk -v w="$WORK/" 'index($2, w) == 1 {print $2}' /proc/mounts | sort -r); do
		umount -l "$m" 2>/dev/null
	done
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 143' TERM INT HUP

# ---- make install / uninstall ----
DEST=$WORK/dest
if make -s -C "$ROOT" install DESTDIR="$DEST" PREFIX=/opt/x >"$WORK/install.log" 2>&1; then
	want="/etc/xdpct/default.conf
/opt/x/lib/systemd/system/xdpct@.service
/opt/x/lib/xdpct/xdpct.bpf.o
/opt/x/sbin/xdpct
/opt/x/share/bash-completion/completions/xdpct
/opt/x/share/man/man8/xdpct.8"
	assert_eq install_destdir_prefix "$(cd "$DEST" && find . -type f | sed 's/^\.//' | sort)" "$want"
	assert_eq install_unit_paths \
		"$(grep -E '^(ExecStart|EnvironmentFile)=' "$DEST/opt/x/lib/systemd/system/xdpct@.service" | tr '\n' ' ')" \
		'EnvironmentFile=-/etc/xdpct/default.conf EnvironmentFile=-/etc/xdpct/%I.conf ExecStart=/opt/x/sbin/xdpct run %I --ports ${PORTS} $OPTIONS '
	make -s -C "$ROOT" uninstall DESTDIR="$DEST" PREFIX=/opt/x >>"$WORK/install.log" 2>&1
	assert_empty uninstall_removes_all "$(cd "$DEST" && find . -type f | tr '\n' ' ')"
else
	fail install_destdir_prefix "make install failed: $(tail -3 "$WORK/install.log" | tr '\n' '|')"
fi

# the distribution's flags reach the compile and link lines; -Werror only
# with WERROR=1
lines=$(make -s -C "$ROOT" -B -n build/xdpct CPPFLAGS=-DXCPP CFLAGS='-O2 -DXC' LDFLAGS=-Wl,-zXL 2>&1 |
	grep -- ' -o build/xdpct')
check build_flags "CPPFLAGS/CFLAGS/LDFLAGS missing from: $lines" \
	grep -q -- '-DXCPP .*-DXC .*-o build/xdpct -Wl,-zXL' <<<"$lines"
check werror_off_by_default "-Werror without WERROR=1: $lines" eval '! grep -q -- -Werror <<<"$lines"'
check werror_on_request "no -Werror with WERROR=1" \
	eval "make -s -C '$ROOT' -B -n build/xdpct WERROR=1 | grep -q -- -Werror"

# ---- the package ----
VERSION=$(make -s -C "$ROOT" version)
[[ -n "$VERSION" ]] || die "make version printed nothing" version
if ! make -C "$ROOT" deb >"$WORK/deb.log" 2>&1; then
	die "make deb failed: $(grep -v 'root privileges' "$WORK/deb.log" | tail -5 | tr '\n' '|')" deb_builds
fi
DEB=$(ls "$ROOT"/build/deb/xdpct_"$VERSION"_*.deb 2>/dev/null)
[[ -f "$DEB" ]] || die "no build/deb/xdpct_${VERSION}_*.deb: $(ls "$ROOT/build/deb")" deb_builds
pass deb_builds
# make deb ends with lintian --fail-on error,warning; here nothing at all
# may be left but its note about root
lint=$(lintian --display-level '>=info' "$ROOT"/build/deb/*.changes 2>&1 | grep -v 'running with root privileges')
assert_empty lintian_clean "$lint"

# the host's Debian mirror (deb822 or one-line format), else the default
MIRROR=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null |
	awk '/^URIs:/ {u=$2} /^Suites:/ && / bookworm( |$)/ && u != "" {print u; exit}')
[[ -n "$MIRROR" ]] || MIRROR=$(awk '$1 == "deb" && $3 == "bookworm" {print $2; exit}' \
	/etc/apt/sources.list 2>/dev/null)
MIRROR=${MIRROR:-http://deb.debian.org/debian}
# the package's dependencies, installed with the root (apt resolves them),
# and systemd: the unit is verified against the root's own units
deps=systemd,$(dpkg-deb -f "$DEB" Depends | sed 's/([^)]*)//g; s/ //g')
note "mirror $MIRROR; dependencies $deps"

OUT=$WORK/out
mkdir -p "$OUT"
cat >"$WORK/inroot.sh" <<'INROOT'
#!/bin/sh
# runs as mmdebstrap's customize hook: $1 the root, $2 the output directory
r=$1 out=$2
list() { (cd "$r" && find . -xdev \( -path ./proc -o -path ./sys -o -path ./dev -o -path ./tmp \
	-o -path ./run -o -path ./var/lib/dpkg -o -path ./var/log -o -path ./var/cache/debconf \) \
	-prune -o -print | sort); }
list >"$out/before"
cp "$out/xdpct.deb" "$r/tmp/" || exit 1
chroot "$r" dpkg -i /tmp/xdpct.deb >"$out/install.log" 2>&1; echo $? >"$out/install.rc"
chroot "$r" dpkg -L xdpct >"$out/files" 2>&1
chroot "$r" xdpct --version >"$out/version" 2>&1
chroot "$r" dpkg-query -W -f='${Conffiles}' xdpct >"$out/conffiles" 2>&1
cp "$r/lib/systemd/system/xdpct@.service" "$out/" 2>/dev/null
# verify with the root's paths (ExecStart's binary, the man page's file)
systemd-analyze verify --root="$r" --man=no xdpct@eth0.service >"$out/verify" 2>&1
echo $? >"$out/verify.rc"
chroot "$r" dpkg --purge xdpct >"$out/purge.log" 2>&1; echo $? >"$out/purge.rc"
rm -f "$r/tmp/xdpct.deb"
list >"$out/after"
INROOT
chmod +x "$WORK/inroot.sh"
cp "$DEB" "$OUT/xdpct.deb"

start=$(date +%s)
TMPDIR=$WORK timeout 240 mmdebstrap --mode=root --variant=minbase --include="$deps" \
	--customize-hook="$WORK/inroot.sh \"\$1\" $OUT" \
	bookworm /dev/null "$MIRROR" >"$WORK/mmdebstrap.log" 2>&1
rc=$?
note "mmdebstrap: exit $rc in $(($(date +%s) - start)) s"
if ((rc != 0)) || [[ ! -s "$OUT/after" ]]; then
	die "mmdebstrap failed (exit $rc): $(tail -5 "$WORK/mmdebstrap.log" | tr '\n' '|')" root_built
fi
pass root_built

assert_eq installs "$(cat "$OUT/install.rc")" 0
for f in /usr/sbin/xdpct /usr/lib/xdpct/xdpct.bpf.o /usr/share/man/man8/xdpct.8.gz \
	/usr/share/bash-completion/completions/xdpct /lib/systemd/system/xdpct@.service \
	/etc/xdpct/default.conf /usr/share/doc/xdpct/copyright; do
	check "ships_${f##*/}" "not in dpkg -L xdpct" grep -qxF "$f" "$OUT/files"
done
assert_eq version "$(cat "$OUT/version")" "xdpct $VERSION"
check conffile "dpkg-query Conffiles: $(cat "$OUT/conffiles")" \
	grep -Eq '^ /etc/xdpct/default.conf [0-9a-f]{32}$' "$OUT/conffiles"
assert_eq unit_verify "$(cat "$OUT/verify.rc") $(cat "$OUT/verify")" "0 "
exposure=$(systemd-analyze security --offline=yes "$OUT/xdpct@.service" 2>/dev/null |
	sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\) .*/\1/p')
note "systemd-analyze security: exposure $exposure"
check unit_exposure "exposure '$exposure', want <= $MAX_EXPOSURE" \
	awk -v e="$exposure" -v m="$MAX_EXPOSURE" 'BEGIN {exit !(e != "" && e + 0 <= m + 0)}'
assert_eq purges "$(cat "$OUT/purge.rc")" 0
left=$(diff "$OUT/before" "$OUT/after" | grep '^[<>]' | head -20 | tr '\n' ' ')
assert_empty purge_leaves_nothing "$left"
# the lists are real: the install's files were not among them before
check file_lists_read "before-list empty or already had xdpct" \
	eval "[ -s '$OUT/before' ] && ! grep -q xdpct '$OUT/before'"

lab_finish
