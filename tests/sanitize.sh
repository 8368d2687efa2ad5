#!/bin/bash
# User-space hygiene of the xdpct CLI. Not part of `make test`: run
#   make sanitize         (installs valgrind / libasan8 / libubsan1 if
#                          missing, builds build/asan/xdpct, runs this)
# or, with the builds in place, tests/sanitize.sh.
#  1. build/asan/xdpct (user/*.c with -fsanitize=address,undefined) runs
#     tests/e2e/e2e_cli.sh unchanged: every one of its checks must pass
#     with the ASan binary too (each FAIL is one here). lib.sh takes its
#     binaries from ROOT/build, ROOT being where lib.sh is found; the test
#     runs from a shadow tree (symlinks) whose build/xdpct is the ASan
#     binary.
#  2. The ASan binary runs every command (attach, reload, stats, conns,
#     config, status, evict, states, run with metrics, key rotation and
#     eviction until SIGTERM, detach) on a lab interface with live and
#     closed connections.
#  3. valgrind --leak-check=full --error-exitcode=3 runs build/xdpct
#     stats, conns (text and JSON) and status on the attached interface,
#     with build/vgbpf.so preloaded: it tells memcheck what the kernel
#     writes for bpf(BPF_MAP_LOOKUP_BATCH), which valgrind 3.19 does not
#     model (tests/vgbpf.c).
# Any ASan/UBSan/LSan report is a failure; so is any valgrind error (exit
# status 3: leaks, invalid accesses, uninitialised values), and a run
# whose heap blocks are not all freed.
# SAN_KEEP=1 keeps the report directory.
TEST_NAME=sanitize
# shellcheck source=tests/lib.sh
source "$(dirname "$0")/lib.sh"

ASAN_XDPCT=$BUILD/asan/xdpct
PORT=8080
VGBPF=$BUILD/vgbpf.so
need_build "$XDPCT" "$ASAN_XDPCT" "$TCPPEER" "$VGBPF"
command -v valgrind >/dev/null || die "valgrind missing (make sanitize installs it)" setup

SANLOG=$(mktemp -d /tmp/xdpct-sanitize.XXXXXX) || die mktemp setup
chmod 1777 "$SANLOG" # e2e_cli runs xdpct as nobody too
SHADOW=
cleanup_san() {
	[[ -n "$SHADOW" ]] && rm -rf "$SHADOW"
	[[ -z "${SAN_KEEP:-}" ]] && rm -rf "$SANLOG"
}
trap cleanup_san EXIT
export ASAN_OPTIONS="log_path=$SANLOG/asan:detect_leaks=1:abort_on_error=0:print_summary=1"
export UBSAN_OPTIONS="log_path=$SANLOG/ubsan:print_stacktrace=1:halt_on_error=0"
export LSAN_OPTIONS="log_path=$SANLOG/lsan"

# san_reports: the report files written so far (one per process that
# found something)
san_reports() { find "$SANLOG" -type f -name '*san*' 2>/dev/null | sort; }
san_check() { # NAME: no new report since the last call
	local r new
	r=$(san_reports)
	new=$(comm -13 <(printf '%s\n' "$SAN_SEEN" | sort) <(printf '%s\n' "$r"))
	SAN_SEEN=$r
	if [[ -z "$new" ]]; then
		pass "$1"
	else
		fail "$1" "$(grep -c . <<<"$new") report(s): $(head -q -n 3 $new | tr '\n' ' ' | head -c 400)"
		local f
		for f in $new; do
			note "--- $f"
			sed 's/^/# /' "$f" | head -n 40
		done
	fi
}
SAN_SEEN=

# The binary is instrumented: a deliberate bug would be found.
if nm -an "$ASAN_XDPCT" 2>/dev/null | grep -q '__asan_init\|__asan_report'; then
	pass asan_binary_instrumented
else
	fail asan_binary_instrumented "no ASan symbols in $ASAN_XDPCT"
fi
if nm -an "$ASAN_XDPCT" 2>/dev/null | grep -q '__ubsan_handle'; then
	pass ubsan_binary_instrumented
else
	fail ubsan_binary_instrumented "no UBSan symbols in $ASAN_XDPCT"
fi

# ---- 1. e2e_cli.sh with the ASan binary ----
need_xdp_pass
SHADOW=$(mktemp -d /tmp/xdpct-sanitize-tree.XXXXXX) || die mktemp setup
# e2e_cli runs some commands as nobody: the tree and the logs must let it
chmod 755 "$SHADOW" && chmod 1777 "$SANLOG" || die "chmod $SHADOW $SANLOG" setup
mkdir -p "$SHADOW/tests/e2e" "$SHADOW/build"
ln -s "$ROOT/tests/lib.sh" "$SHADOW/tests/lib.sh"
ln -s "$ROOT/tests/e2e/e2e_cli.sh" "$SHADOW/tests/e2e/e2e_cli.sh"
for f in "$BUILD"/*; do
	[[ "$(basename "$f")" == asan ]] && continue
	ln -s "$f" "$SHADOW/build/$(basename "$f")"
done
rm -f "$SHADOW/build/xdpct"
# a wrapper that leaves one file per call: proof the ASan binary ran
printf '#!/bin/sh\n: >"%s/call.$$" 2>/dev/null\nexec "%s" "$@"\n' "$SANLOG" "$ASAN_XDPCT" \
	>"$SHADOW/build/xdpct"
chmod 755 "$SHADOW/build/xdpct"
timeout -k 20 300 "$SHADOW/tests/e2e/e2e_cli.sh" </dev/null >"$SANLOG/e2e_cli.out" 2>&1
rc=$?
n_ok=$(grep -c '^ok ' "$SANLOG/e2e_cli.out")
n_bad=$(grep -c '^FAIL' "$SANLOG/e2e_cli.out")
n_calls=$(find "$SANLOG" -name 'call.*' | wc -l)
note "e2e_cli.sh with the ASan binary: exit $rc, $n_ok ok, $n_bad failed, $n_calls xdpct runs"
# the CLI built with the sanitizers must behave as the plain one: each
# failure of e2e_cli here is one of this test
while IFS= read -r line; do
	line=${line#FAIL }
	fail "e2e_cli.${line%%:*}" "with the ASan binary:${line#*:}"
done < <(grep '^FAIL' "$SANLOG/e2e_cli.out")
check_rc e2e_cli_exit_0 "$rc" "e2e_cli.sh with the ASan binary: $(tail -n 3 "$SANLOG/e2e_cli.out" | tr '\n' '|')"
assert_ge e2e_cli_ran_asan_binary "$n_calls" 10
if grep -q '^# cli: ' "$SANLOG/e2e_cli.out" && ((n_ok > 0)); then pass e2e_cli_ran_to_the_end; else
	fail e2e_cli_ran_to_the_end "exit $rc: $(tail -n 3 "$SANLOG/e2e_cli.out" | tr '\n' '|')"
fi
san_check e2e_cli_no_sanitizer_reports
rm -rf "$SHADOW"
SHADOW=

# ---- the lab for 2 and 3 ----
lab_up
trap 'lab_down; cleanup_san' EXIT
bg_ns "$NS_SRV" "$LAB_TMP/server.log" "$TCPPEER" serve --port $PORT --backlog 4096
wait_port "$NS_SRV" $PORT 30 || die "no listener on $PORT" server

# ---- 2. the ASan binary on a live attachment ----
A() { in_srv timeout 60 "$ASAN_XDPCT" "$@"; }
LAB_ATTACHED+=("$IF_SRV")
# slots of ~1 s (--cookie-slot 1): `run` below rotates, and is refused, within seconds
A attach "$IF_SRV" --ports $PORT --observe 9000 --cookie-slot 1 -v >"$LAB_TMP/out" 2>"$LAB_TMP/err"
check_rc asan_attach $? "$(head -c 300 "$LAB_TMP/err")"
san_check asan_attach_no_sanitizer_reports
# closed connections (TIME_WAIT-like entries), and one held open
in_cli timeout 30 "$TCPPEER" connect --addr "$SRV4" --port $PORT --up 16k --down 16k \
	--count 4 --timeout 5 >/dev/null 2>&1
in_cli timeout 30 "$TCPPEER" connect --addr "$SRV6" --port $PORT --up 16k --down 16k \
	--count 2 --timeout 5 >/dev/null 2>&1
bg_ns "$NS_CLI" "$LAB_TMP/hold.j" "$TCPPEER" connect --addr "$SRV4" --port $PORT \
	--up 8k --down 8k --header-pause 20 --timeout 30
sleep 0.5
for args in "stats $IF_SRV" "stats $IF_SRV -j" "stats $IF_SRV -v" "conns $IF_SRV" \
	"conns $IF_SRV -j" "conns $IF_SRV --state established" "conns $IF_SRV --port $PORT -j" \
	"config --ifname $IF_SRV --ports $PORT,8443 -v" "states" "states --dot" "states --dot --split" \
	"stats nosuchif0" "conns nosuchif0" "attach $IF_SRV --ports $PORT" \
	"attach $IF_SRV --ports $PORT --max-conns 1000" "reload $IF_SRV" "reload $IF_SRV --ports $PORT -v" \
	"status" "status $IF_SRV -j" "status nosuchif0" "pin-dir $IF_SRV" "pin-dir $IF_SRV --lock" \
	"evict $IF_SRV --dry-run -j" "evict $IF_SRV" \
	"allow add $IF_SRV 10.9.0.0/16 2001:db8::/32" "deny add $IF_SRV 10.8.0.1,10.8.1.0/24" \
	"allow list $IF_SRV" "deny list $IF_SRV -j" "allow add $IF_SRV 10.8.0.1" \
	"deny del $IF_SRV 10.7.7.7" "allow add $IF_SRV 10.1.2.3/8" "status $IF_SRV" \
	"attach $IF_SRV --ports $PORT --allow 10.6.0.0/16 --deny 10.5.0.0/16" \
	"allow del $IF_SRV 10.9.0.0/16" "deny flush $IF_SRV" "stats $IF_SRV --prometheus" \
	"synlimit set $IF_SRV 100/50 --prefix 16,48" "synlimit show $IF_SRV" "synlimit show $IF_SRV -j" \
	"attach $IF_SRV --ports $PORT --syn-limit 20" "synlimit off $IF_SRV" "synlimit set nosuchif0 1" \
	"conns $IF_SRV --port 9 --delete" "events nosuchif0" "events $IF_SRV --count 0" \
	"nat add $IF_SRV --netns $NS_CLI" "nat list $IF_SRV" "nat list $IF_SRV -j" "status $IF_SRV -j" \
	"nat add $IF_SRV --netns nosuchns0" "nat del $IF_SRV --netns $NS_CLI" "nat del $IF_SRV --gone" \
	"--version" "--help"; do
	# shellcheck disable=SC2086
	A $args >"$LAB_TMP/out" 2>"$LAB_TMP/err"
	note "asan xdpct $args: exit $?"
done
# events until SIGINT, with a connection's events and a removal's
in_srv timeout -s INT 4 "$ASAN_XDPCT" events "$IF_SRV" -j >"$LAB_TMP/ev.out" 2>"$LAB_TMP/ev.err" &
EVP=$!
sleep 0.5
in_cli timeout 10 "$TCPPEER" connect --addr "$SRV4" --port $PORT --up 8k --down 8k \
	--count 2 --timeout 5 >/dev/null 2>&1
A evict "$IF_SRV" --timeout time_wait=1 >/dev/null 2>&1
wait "$EVP"
note "asan xdpct events, SIGINT after 4 s: exit $?, $(grep -c . "$LAB_TMP/ev.out") events"
# stats --watch until SIGINT
in_srv timeout -s INT 2 "$ASAN_XDPCT" stats "$IF_SRV" --watch >/dev/null 2>&1
note "asan xdpct stats --watch, SIGINT after 2 s: exit $?"
san_check asan_commands_no_sanitizer_reports

# `run` in the foreground over the attachment: reload, timers, key
# rotation, metrics; SIGTERM stops it and detaches
MPORT=$((20000 + LAB_ID % 20000))
bg_ns "$NS_SRV" "$LAB_TMP/run.log" "$ASAN_XDPCT" run "$IF_SRV" --ports $PORT --key-rotate 1 \
	--cookie-slot 1 --evict-interval 1 --metrics "127.0.0.1:$MPORT" --auto --auto-hold 1 \
	--profile $PORT:mss=1400,auto-rate=500
RUN_PID=$BG_PID
metrics_up() { in_srv curl -sf "http://127.0.0.1:$MPORT/metrics" >"$LAB_TMP/metrics" 2>/dev/null; }
wait_until 30 metrics_up
check_rc asan_run_metrics $? "no metrics from xdpct run: $(tail -c 300 "$LAB_TMP/run.log")"
in_cli timeout 30 "$TCPPEER" connect --addr "$SRV4" --port $PORT --up 16k --down 16k \
	--count 3 --timeout 5 >/dev/null 2>&1
check_rc asan_run_connections $? "connections failed while xdpct run held the interface"
sleep 2.5 # key rotations and eviction passes
metrics_up
kill -TERM "$RUN_PID"
wait_pid "$RUN_PID" 20
rc=$?
note "asan xdpct run: exit $rc after SIGTERM: $(tail -n 2 "$LAB_TMP/run.log" | tr '\n' '|' | head -c 300)"
check_rc asan_run_stops_on_sigterm $rc "$(tail -c 300 "$LAB_TMP/run.log")"
if nothing_attached "$NS_SRV" "$IF_SRV"; then pass asan_run_detached; else fail asan_run_detached "$WHY"; fi
A detach "$IF_SRV" >"$LAB_TMP/out" 2>"$LAB_TMP/err"
note "asan xdpct detach after run: exit $?: $(head -c 200 "$LAB_TMP/err")"
san_check asan_run_no_sanitizer_reports

# ---- 3. valgrind on stats and conns ----
xdpct_attach "$IF_SRV" $PORT --allow 10.9.0.0/16,2001:db8::/32 --deny 10.8.0.1 \
	>"$LAB_TMP/out" 2>"$LAB_TMP/err" ||
	die "attach: $(head -c 300 "$LAB_TMP/err")" attach
in_cli timeout 30 "$TCPPEER" connect --addr "$SRV4" --port $PORT --up 16k --down 16k \
	--count 3 --timeout 5 >/dev/null 2>&1
in_cli timeout 30 "$TCPPEER" connect --addr "$SRV6" --port $PORT --up 16k --down 16k \
	--count 2 --timeout 5 >/dev/null 2>&1
bg_ns "$NS_CLI" "$LAB_TMP/hold2.j" "$TCPPEER" connect --addr "$SRV4" --port $PORT \
	--up 8k --down 8k --header-pause 20 --timeout 30
sleep 0.5
n_conns=$(in_srv "$XDPCT" conns "$IF_SRV" 2>/dev/null | grep -c '^tcp')
note "conns lists $n_conns connections"
assert_ge conns_has_entries "$n_conns" 2
# vg_judge LOG: VG_BAD (empty: clean) and VG_NOTE: every error valgrind
# reports counts (vgbpf.so models the batch lookups valgrind does not)
vg_judge() {
	local log=$1 leaks hard uninit errs
	VG_BAD=
	leaks=$(sed -n 's/.*\(definitely\|indirectly\|possibly\) lost: \([0-9,]*\) bytes.*/\2/p' "$log" |
		tr -d , | awk '{s += $1} END {print s + 0}')
	hard=$(grep -cE 'Invalid (read|write|free)|Mismatched free|unaddressable|Source and destination overlap|fishy' "$log")
	uninit=$(grep -c 'uninitialised' "$log")
	errs=$(sed -n 's/.*ERROR SUMMARY: \([0-9,]*\) errors.*/\1/p' "$log" | tr -d , | tail -n 1)
	((leaks > 0)) && VG_BAD+="$leaks bytes leaked; "
	((hard > 0)) && VG_BAD+="$hard invalid accesses; "
	((uninit > 0)) && VG_BAD+="$uninit uninitialised-value reports; "
	[[ "$errs" == 0 ]] || VG_BAD+="ERROR SUMMARY: ${errs:-none} errors; "
	grep -q 'All heap blocks were freed' "$log" || VG_BAD+="not all heap blocks freed; "
	VG_NOTE="leaked $leaks bytes, $hard invalid accesses, $uninit uninitialised-value reports, ${errs:-?} errors"
	grep -q 'All heap blocks were freed' "$log" && VG_NOTE+=", all heap blocks freed"
	grep -q 'unhandled eBPF command' "$log" &&
		VG_NOTE+=" (bpf commands valgrind warns about: $(grep -o 'unhandled eBPF command [0-9]*' "$log" | sort -u | grep -o '[0-9]*$' | tr '\n' ' ')modelled by vgbpf.so)"
}
i=0
for args in "stats $IF_SRV" "stats $IF_SRV -j" "conns $IF_SRV" "conns $IF_SRV -j" "status $IF_SRV" \
	"allow list $IF_SRV -j" "stats $IF_SRV --prometheus" "synlimit show $IF_SRV -j" \
	"nat list $IF_SRV -j"; do
	i=$((i + 1))
	log=$SANLOG/valgrind.$i.log
	# shellcheck disable=SC2086
	in_srv timeout 120 env LD_PRELOAD="$VGBPF" valgrind --leak-check=full \
		--show-leak-kinds=definite,indirect,possible \
		--errors-for-leak-kinds=definite,indirect,possible --error-exitcode=3 \
		--track-origins=yes --log-file="$log" "$XDPCT" $args >"$LAB_TMP/vg.out" 2>"$LAB_TMP/vg.err"
	rc=$?
	name="valgrind_${args// /_}"
	name=${name//$IF_SRV/IFACE}
	vg_judge "$log"
	note "valgrind xdpct $args: exit $rc, $VG_NOTE"
	if [[ -z "$VG_BAD" ]] && ((rc == 0)) && [[ -s "$LAB_TMP/vg.out" ]]; then
		pass "$name"
	else
		fail "$name" "exit $rc: ${VG_BAD:-no output}: $(grep -E 'Invalid|uninitialised|lost|Syscall param' "$log" | head -n 3 | tr '\n' '|')"
	fi
done
in_srv "$XDPCT" detach "$IF_SRV" >/dev/null 2>&1

[[ -n "${SAN_KEEP:-}" ]] && note "reports kept in $SANLOG"
lab_finish
