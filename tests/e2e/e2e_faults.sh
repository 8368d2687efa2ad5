#!/bin/bash
# Faults around attach and detach, each followed by a leak check (no XDP
# program, no TC filter, no clsact qdisc of ours, no pins, and every
# program and map id the attachment had is gone from the kernel):
#  - detach under traffic: the running transfer goes on through the kernel
#  - attach twice: the CLI reloads in place (new programs, pinned maps
#    kept, old programs freed, a running transfer survives); a conflicting
#    second attach (other --max-conns / --mode) fails in one line and the
#    first keeps working
#  - detach twice: the second says "not attached", exit 1
#  - attach to a down interface: xdpct attaches (XDP and TC need no
#    carrier); once the link is up, connections go through the shield
#  - the interface deleted while attached: the pins outlive it, detach
#    removes them (exit 0, "IFACE is gone"), nothing stays in the kernel
# shellcheck source=tests/lib.sh
source "$(dirname "$0")/../lib.sh"

PORT=8080
BYTES=12000000
RATE=2m    # the server paces the downloads while they are held (below)
SPORT=40322

need_build "$XDPCT" "$TCPPEER" "$BUILD/mapfill"
command -v curl >/dev/null || die "curl missing (make deps)" setup
lab_up

X() { in_srv timeout 30 "$XDPCT" "$@"; }
size_of() { stat -c %s "$1" 2>/dev/null || echo 0; }
over() { (($(size_of "$1") > $2)); }
one_line() { # FILE: exactly one line (a last line without newline counts)
	local n
	n=$(wc -l <"$1")
	[[ -s "$1" && "$n" == 0 ]] && n=1
	[[ "$n" == 1 ]]
}
xdp_id() { in_srv ip -d link show dev "$1" 2>/dev/null | sed -n 's/.*prog\/xdp id \([0-9]*\).*/\1/p'; }
has_clsact() { in_srv tc qdisc show dev "$1" 2>/dev/null | grep -q clsact; }

# check_clean NAME IFACE IDS: nothing of the attachment is left
check_clean() {
	local name=$1 ifc=$2 ids=$3 why=
	if in_srv ip link show dev "$ifc" >/dev/null 2>&1; then
		nothing_attached "$NS_SRV" "$ifc" || why+="$WHY"
		has_clsact "$ifc" && why+="clsact qdisc left; "
	elif [[ -e "$(pin_of "$ifc")" ]]; then
		why+="$(pin_of "$ifc") exists; "
	fi
	wait_until 30 ids_gone "$ids" || why+="still in the kernel: $(ids_alive_list "$ids"); "
	if [[ -z "$why" ]]; then pass "$name"; else fail "$name" "$why"; fi
}
# ids_check NAME IDS: a sane id list (programs and maps, all alive)
ids_check() {
	local n_prog n_map
	n_prog=$(grep -c '^prog:' <<<"$2")
	n_map=$(grep -c '^map:' <<<"$2")
	if ((n_prog >= 2 && n_map >= 6)) && [[ -z "$(for x in $2; do id_alive "$x" || echo "$x"; done)" ]]; then
		pass "$1"
	else
		fail "$1" "$n_prog programs, $n_map maps: $(tr '\n' ' ' <<<"$2")"
	fi
}

bg_ns "$NS_SRV" "$LAB_TMP/server.log" "$TCPPEER" serve --port $PORT --backlog 4096 --timeout 120
wait_port "$NS_SRV" $PORT 30 || die "no listener on $PORT" server
in_cli timeout 10 "$TCPPEER" connect --addr "$SRV4" --port $PORT --up 1k --down 1k \
	--timeout 5 >/dev/null 2>&1 || die "warm-up connection failed" warmup
# download NAME SPORT: a paced download whose last 64 KiB wait for
# LAB_TMP/NAME.release: it spans the test's events by construction; DL
download() {
	rm -f "$LAB_TMP/$1.bin" "$LAB_TMP/$1.release"
	bg_ns "$NS_CLI" "$LAB_TMP/$1.err" curl -sS --max-time 120 --local-port "$2" \
		-o "$LAB_TMP/$1.bin" "http://$SRV4:$PORT/$BYTES?rate=$RATE&hold=$LAB_TMP/$1.release"
	DL=$BG_PID
}
release() { touch "$LAB_TMP/$1.release"; }
connect_ok() { # a fresh connection to the server through IF_SRV
	in_cli timeout 20 "$TCPPEER" connect --addr "$SRV4" --port $PORT --up 32k --down 32k \
		--timeout 5 --json >"$LAB_TMP/c.j" 2>&1
}

# ---- detach under traffic ----
xdpct_attach "$IF_SRV" $PORT >"$LAB_TMP/out" 2>"$LAB_TMP/err" ||
	die "attach: $(head -c 300 "$LAB_TMP/err")" attach
IDS=$(attachment_ids "$IF_SRV")
ids_check attach_ids "$IDS"
download dl $SPORT
wait_until 30 over "$LAB_TMP/dl.bin" 2000000 || die "download did not start: $(head -c 200 "$LAB_TMP/dl.err")" transfer_started
stats_snap "$IF_SRV"
assert_gt transfer_tracked_before_detach "$(xstat pass_flow)" 100
X detach "$IF_SRV" >"$LAB_TMP/out" 2>"$LAB_TMP/err"
rc=$?
s1=$(size_of "$LAB_TMP/dl.bin")
check_rc detach_under_traffic $rc "$(head -c 300 "$LAB_TMP/err")"
grep -q "detached from $IF_SRV" "$LAB_TMP/out" && pass detach_under_traffic_says_so ||
	fail detach_under_traffic_says_so "stdout: $(head -c 200 "$LAB_TMP/out")"
check_clean detach_under_traffic_clean "$IF_SRV" "$IDS"
# held by the server: still running unless detach broke the connection
if kill -0 "$DL" 2>/dev/null; then
	pass transfer_running_at_detach
else
	fail transfer_running_at_detach "curl ended at $s1 bytes: $(head -c 200 "$LAB_TMP/dl.err")"
fi
release dl
# the held bytes (at least 64 KiB) can only come after the detach
wait_until 60 over "$LAB_TMP/dl.bin" "$s1"
s2=$(size_of "$LAB_TMP/dl.bin")
note "download: $s1 bytes at detach, $s2 after the release"
if ((s2 > s1)); then pass transfer_continues_after_detach; else
	fail transfer_continues_after_detach "no progress after detach ($s1 bytes)"
fi
wait_pid "$DL" 60
rc=$?
want=$("$TCPPEER" gen --bytes $BYTES | sha256sum | cut -d' ' -f1)
got=$(sha256sum <"$LAB_TMP/dl.bin" | cut -d' ' -f1)
if ((rc == 0)) && [[ "$got" == "$want" ]]; then pass transfer_complete_after_detach; else
	fail transfer_complete_after_detach "curl rc $rc, $(size_of "$LAB_TMP/dl.bin") bytes: $(head -c 200 "$LAB_TMP/dl.err")"
fi
connect_ok
check_rc connect_after_detach $? "$(head -c 200 "$LAB_TMP/c.j")"

# ---- attach twice ----
# The CLI defines a second attach as a reload in place (`xdpct attach
# --help`): new programs over the pinned maps, no connection lost. One
# that conflicts with the attachment (other --max-conns, other --mode)
# fails in one line and leaves the first as it was.
xdpct_attach "$IF_SRV" $PORT >"$LAB_TMP/out" 2>"$LAB_TMP/err" ||
	die "attach: $(head -c 300 "$LAB_TMP/err")" attach_first
IDS=$(attachment_ids "$IF_SRV")
PMAPS=$(pinned_map_ids "$IF_SRV")
id1=$(xdp_id "$IF_SRV")
download dl2 $((SPORT + 1))
wait_until 30 over "$LAB_TMP/dl2.bin" 1000000 || die "download did not start: $(head -c 200 "$LAB_TMP/dl2.err")" reload_transfer_started
# handshake counters do not move while only the download runs: a reload
# that reset the counters would show here, traffic or not
stats_snap "$IF_SRV"
hs0="$(xstat tx_synack):$(xstat cookie_good):$(xstat tc_handoff)"
X attach "$IF_SRV" --ports $PORT >"$LAB_TMP/out2" 2>"$LAB_TMP/err2"
rc=$?
note "second attach: exit $rc: $(head -c 250 "$LAB_TMP/out2")$(head -c 200 "$LAB_TMP/err2")"
why=
((rc == 0)) || why+="exit status $rc; "
grep -q "reloaded on $IF_SRV" "$LAB_TMP/out2" || why+="stdout does not say 'reloaded on $IF_SRV'; "
[[ -s "$LAB_TMP/err2" ]] && why+="stderr: $(head -c 200 "$LAB_TMP/err2"); "
if [[ -z "$why" ]]; then pass attach_twice_reloads; else fail attach_twice_reloads "$why"; fi
id2=$(xdp_id "$IF_SRV")
[[ -n "$id2" && "$id2" != "$id1" ]] && pass attach_twice_new_xdp_program ||
	fail attach_twice_new_xdp_program "XDP program id $id1 -> ${id2:-none}"
assert_eq attach_twice_keeps_pinned_maps "$(pinned_map_ids "$IF_SRV" | tr '\n' ' ')" "$(tr '\n' ' ' <<<"$PMAPS")"
# the replaced programs and their private maps are freed
check_freed attach_twice_frees_old_programs "$(replaced_ids "$IDS" "$PMAPS")"
IDS=$(attachment_ids "$IF_SRV")
ids_check attach_twice_ids "$IDS"
stats_snap "$IF_SRV"
if [[ "$hs0" =~ ^[1-9][0-9]*:[1-9][0-9]*:[1-9][0-9]*$ ]]; then
	assert_eq attach_twice_keeps_counters "$(xstat tx_synack):$(xstat cookie_good):$(xstat tc_handoff)" "$hs0"
else
	fail attach_twice_keeps_counters "counters before the reload unreadable or zero: '$hs0'"
fi
if "$BUILD/mapfill" has "$(pin_of "$IF_SRV")/xdpct_flows4" "$CLI4" $((SPORT + 1)) "$SRV4" $PORT >/dev/null 2>&1; then
	pass attach_twice_keeps_flow_entry
else
	fail attach_twice_keeps_flow_entry "the running download's entry is gone"
fi
kill -0 "$DL" 2>/dev/null && pass attach_twice_transfer_running ||
	fail attach_twice_transfer_running "curl ended: $(head -c 200 "$LAB_TMP/dl2.err")"
release dl2
wait_pid "$DL" 60
rc=$?
got=$(sha256sum <"$LAB_TMP/dl2.bin" | cut -d' ' -f1)
if ((rc == 0)) && [[ "$got" == "$want" ]]; then pass attach_twice_transfer_survives; else
	fail attach_twice_transfer_survives "curl rc $rc, $(size_of "$LAB_TMP/dl2.bin") bytes: $(head -c 200 "$LAB_TMP/dl2.err")"
fi
# conflicting second attaches: refused in one line, nothing changed
i=0
for args in "--max-conns 1000" "--mode skb"; do
	i=$((i + 1))
	# shellcheck disable=SC2086
	X attach "$IF_SRV" --ports $PORT $args >"$LAB_TMP/out3" 2>"$LAB_TMP/err3"
	rc=$?
	why=
	((rc == 1)) || why+="exit status $rc, want 1; "
	one_line "$LAB_TMP/err3" || why+="$(wc -l <"$LAB_TMP/err3") lines on stderr; "
	grep -qi "$IF_SRV" "$LAB_TMP/err3" || why+="stderr does not name $IF_SRV; "
	[[ "$(attachment_ids "$IF_SRV")" == "$IDS" ]] || why+="the attachment changed; "
	if [[ -z "$why" ]]; then pass "attach_twice_conflict_${i}_refused"; else
		fail "attach_twice_conflict_${i}_refused" "$args: ${why}stderr: $(head -c 300 "$LAB_TMP/err3" | tr '\n' '|')"
	fi
	note "attach $args on the attachment: $(head -c 200 "$LAB_TMP/err3")"
done
stats_snap "$IF_SRV"
tx0=$(xstat tx_synack)
connect_ok
check_rc attach_twice_first_works $? "$(head -c 200 "$LAB_TMP/c.j")"
stats_snap "$IF_SRV"
assert_gt attach_twice_first_shields "$(xstat tx_synack)" "$tx0"

# ---- detach twice ----
X detach "$IF_SRV" >"$LAB_TMP/out" 2>"$LAB_TMP/err"
check_rc detach_first $? "$(head -c 300 "$LAB_TMP/err")"
check_clean detach_first_clean "$IF_SRV" "$IDS"
X detach "$IF_SRV" >"$LAB_TMP/out" 2>"$LAB_TMP/err"
rc=$?
why=
((rc == 1)) || why+="exit status $rc, want 1; "
one_line "$LAB_TMP/err" || why+="$(wc -l <"$LAB_TMP/err") lines on stderr; "
grep -qi "not attached to $IF_SRV" "$LAB_TMP/err" || why+="stderr does not say 'not attached to $IF_SRV'; "
if [[ -z "$why" ]]; then pass detach_twice_not_attached; else
	fail detach_twice_not_attached "${why}stderr: $(head -c 300 "$LAB_TMP/err" | tr '\n' '|')"
fi
check_clean detach_twice_clean "$IF_SRV" ""

# ---- attach to a down interface ----
# docs/guarantees.md: attaching to a down interface works once it is up (XDP and
# TC need no carrier): attach succeeds on the down link, the programs are
# there, and the shield answers once the link comes up.
in_srv ip link set dev "$IF_SRV" down || die "link down" down_setup
xdpct_attach "$IF_SRV" $PORT >"$LAB_TMP/out" 2>"$LAB_TMP/err"
rc=$?
note "attach on a down link: exit $rc: $(head -c 200 "$LAB_TMP/out")$(head -c 200 "$LAB_TMP/err")"
check_rc attach_down_interface $rc "$(head -c 300 "$LAB_TMP/err")"
IDS=$(attachment_ids "$IF_SRV")
ids_check attach_down_ids "$IDS"
[[ -n "$(xdp_id "$IF_SRV")" ]] && pass attach_down_xdp_present ||
	fail attach_down_xdp_present "no XDP program on the down link"
in_srv ip link set dev "$IF_SRV" up || die "link up" down_up
# the IPv4 route comes back with the link; wait for a connection
stats_snap "$IF_SRV"
tx0=$(xstat tx_synack)
wait_until 30 connect_ok
check_rc attach_down_works_after_up $? "$(head -c 200 "$LAB_TMP/c.j")"
stats_snap "$IF_SRV"
assert_gt attach_down_shields_after_up "$(xstat tx_synack)" "$tx0"
X detach "$IF_SRV" >"$LAB_TMP/out" 2>"$LAB_TMP/err"
check_rc attach_down_detach $? "$(head -c 300 "$LAB_TMP/err")"
check_clean attach_down_clean "$IF_SRV" "$IDS"

# ---- the interface deleted while attached ----
# the attacker link's names (no attacker here): tests/run's sweep knows
# their pins, should this test be killed before its trap runs
IF_DEL=$IF_SRVA
IF_DELP=$IF_ATK
ip link add "$IF_DEL" netns "$NS_SRV" type veth peer name "$IF_DELP" netns "$NS_CLI" ||
	die "veth $IF_DEL" del_setup
in_srv ip addr add 10.200.3.1/24 dev "$IF_DEL" && in_cli ip addr add 10.200.3.2/24 dev "$IF_DELP" &&
	in_srv ip link set dev "$IF_DEL" up && in_cli ip link set dev "$IF_DELP" up ||
	die "addresses on $IF_DEL" del_setup
ip -n "$NS_CLI" link set dev "$IF_DELP" xdp obj "$XDP_PASS_OBJ" sec xdp ||
	die "pass-through XDP on $IF_DELP" del_setup
xdpct_attach "$IF_DEL" $PORT >"$LAB_TMP/out" 2>"$LAB_TMP/err" ||
	die "attach $IF_DEL: $(head -c 300 "$LAB_TMP/err")" del_attach
IDS=$(attachment_ids "$IF_DEL")
ids_check del_attach_ids "$IDS"
wait_until 30 in_cli timeout 10 "$TCPPEER" connect --addr 10.200.3.1 --port $PORT --up 8k --down 8k \
	--timeout 5 >/dev/null 2>&1
check_rc del_connect_before $? "no connection through $IF_DEL"
in_srv ip link del dev "$IF_DEL" || die "ip link del $IF_DEL" del_link
if [[ -d "$(pin_of "$IF_DEL")" ]]; then pass del_pins_outlive_interface; else
	fail del_pins_outlive_interface "$(pin_of "$IF_DEL") vanished with the interface"
fi
X stats "$IF_DEL" -j >"$LAB_TMP/out" 2>"$LAB_TMP/err"
note "stats of the deleted interface: exit $? $(head -c 120 "$LAB_TMP/err")"
X detach "$IF_DEL" >"$LAB_TMP/out" 2>"$LAB_TMP/err"
rc=$?
check_rc del_detach $rc "$(head -c 300 "$LAB_TMP/err")"
note "detach of the deleted interface: $(head -c 200 "$LAB_TMP/out")$(head -c 200 "$LAB_TMP/err")"
grep -qi "$IF_DEL is gone" "$LAB_TMP/out" && pass del_detach_says_gone ||
	fail del_detach_says_gone "stdout: $(head -c 200 "$LAB_TMP/out")"
check_clean del_detach_clean "$IF_DEL" "$IDS"
if [[ ! -e "$(pin_of "$IF_DEL")" ]]; then pass del_no_pins; else fail del_no_pins "pins left"; fi
X detach "$IF_DEL" >"$LAB_TMP/out" 2>"$LAB_TMP/err"
rc=$?
if ((rc == 1)) && one_line "$LAB_TMP/err" && grep -qi 'not attached' "$LAB_TMP/err"; then
	pass del_detach_again_not_attached
else
	fail del_detach_again_not_attached "exit $rc: $(head -c 300 "$LAB_TMP/err")"
fi

# The lab's own interface is untouched by all this, and still shieldable.
xdpct_attach "$IF_SRV" $PORT >"$LAB_TMP/out" 2>"$LAB_TMP/err"
check_rc reattach_after_faults $? "$(head -c 300 "$LAB_TMP/err")"
IDS=$(attachment_ids "$IF_SRV")
connect_ok
check_rc reattach_works $? "$(head -c 200 "$LAB_TMP/c.j")"
X detach "$IF_SRV" >/dev/null 2>&1
check_clean reattach_detach_clean "$IF_SRV" "$IDS"

lab_finish
