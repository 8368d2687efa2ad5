#!/bin/bash
# Allow and deny lists with real clients: an unlisted source gets cookies,
# an allowed one the kernel's own handshake (tracked as observed), a denied
# one nothing; a SYN and ACK flood from a denied prefix leaves no state and
# gets no SYN-ACK; at run time `xdpct allow|deny add|del` moves held
# connections between the tables without cutting them, and a deny cuts
# one; every CLI error is one line with the right exit status.
# shellcheck source=tests/lib.sh
source "$(dirname "$0")/../lib.sh"

PORT=8080
ALLOW4=10.200.1.3 DENY4=10.200.1.4 LATE4=10.200.1.5
ALLOW6=fd00:200::3 DENY6=fd00:200::4
FLOOD_NET=10.201.0.0/16

need_build "$XDPCT" "$TCPPEER" "$SYNFLOOD" "$BUILD/segsend" "$BUILD/mapfill"
lab_up attacker
for a in $ALLOW4 $DENY4 $LATE4; do
	in_cli ip addr add "$a/24" dev "$IF_CLI" || die "client address $a"
done
for a in $ALLOW6 $DENY6; do
	in_cli ip addr add "$a/64" dev "$IF_CLI" nodad || die "client address $a"
done
xdpct_attach "$IF_SRV" $PORT --allow $ALLOW4/32 --allow $ALLOW6/128 \
	--deny $DENY4/32,$DENY6/128 >"$LAB_TMP/attach.out" 2>&1 ||
	die "attach: $(cat "$LAB_TMP/attach.out")" attach
xdpct_attach "$IF_SRVA" $PORT --deny $FLOOD_NET >"$LAB_TMP/attach2.out" 2>&1 ||
	die "attach: $(cat "$LAB_TMP/attach2.out")" attach
pass attach_with_lists
: >"$LAB_TMP/conn.j"
bg_ns "$NS_SRV" "$LAB_TMP/server.log" "$TCPPEER" serve --port $PORT --backlog 1024 --timeout 120
wait_port "$NS_SRV" $PORT 10 || die "tcppeer serve did not listen" server

st() { in_srv timeout 10 "$XDPCT" stats "${2:-$IF_SRV}" -j 2>/dev/null | json_num "$1"; }
# conn SRC DST: one connection with 100 KB each way, digests checked by tcppeer
conn() {
	in_cli timeout 20 "$TCPPEER" connect --src "$1" --addr "$2" --port $PORT --up 100k \
		--down 100k --timeout "${T:-10}" --json >"$LAB_TMP/conn.j" 2>&1 &&
		grep -q '"ok":true' "$LAB_TMP/conn.j"
}
conns_of() { in_srv timeout 10 "$XDPCT" conns "$IF_SRV" 2>/dev/null | grep "src=$1 "; }
# held SRC NAME: a connection that stops after its header until NAME exists
held() {
	bg_ns "$NS_CLI" "$LAB_TMP/$2.j" "$TCPPEER" connect --src "$1" --addr "$SRV4" --port $PORT \
		--up 200k --down 200k --hold "$LAB_TMP/$2.go" --timeout 30 --json
	HELD_PID=$BG_PID
}
established_of() { conns_of "$1" | grep -q ESTABLISHED; }
observed_of() { conns_of "$1" | grep ESTABLISHED | grep -q OBSERVED; }
protected_of() { # an entry of the protected tables, ESTABLISHED
	local c
	c=$(conns_of "$1")
	grep -q ESTABLISHED <<<"$c" && ! grep -q OBSERVED <<<"$c"
}
release() { # NAME PID: let it finish; 0 if it completed with its digests
	touch "$LAB_TMP/$1.go"
	wait_pid "$2" 40 && grep -q '"ok":true' "$LAB_TMP/$1.j"
}
acl() { in_srv timeout 20 "$XDPCT" "$@" 2>&1; }

# ---- the lists as status shows them ----
js=$(in_srv timeout 10 "$XDPCT" status "$IF_SRV" -j)
assert_eq status_allow "$(grep -o '"allow":\[[^]]*\]' <<<"$js")" \
	"\"allow\":[\"$ALLOW4/32\",\"$ALLOW6/128\"]"
assert_eq status_deny "$(grep -o '"deny":\[[^]]*\]' <<<"$js")" \
	"\"deny\":[\"$DENY4/32\",\"$DENY6/128\"]"
assert_eq list_allow_text "$(acl allow list "$IF_SRV" | tr '\n' ' ')" "$ALLOW4/32 $ALLOW6/128 "

# ---- unlisted: a cookie ----
tx0=$(st tx_synack)
check unlisted_connects "connection from $CLI4 failed: $(head -c 300 "$LAB_TMP/conn.j")" conn $CLI4 $SRV4
assert_ge unlisted_got_cookie "$(diff_num "$(st tx_synack)" "$tx0")" 1

# ---- allowed: the kernel's handshake, an observed entry ----
for fam in 4 6; do
	src=$ALLOW4 dst=$SRV4
	((fam == 6)) && src=$ALLOW6 dst=$SRV6
	tx0=$(st tx_synack) al0=$(st acl_allowed)
	check "allowed_ipv${fam}_connects" "from $src: $(head -c 300 "$LAB_TMP/conn.j")" conn $src $dst
	assert_eq "allowed_ipv${fam}_no_cookie" "$(diff_num "$(st tx_synack)" "$tx0")" 0
	assert_ge "allowed_ipv${fam}_counted" "$(diff_num "$(st acl_allowed)" "$al0")" 4
done
held $ALLOW4 allowed
wait_until 10 observed_of $ALLOW4
# both sides tracked there: TC egress picks the observed table too
check allowed_entry_observed "no ESTABLISHED OBSERVED entry: $(conns_of $ALLOW4)" observed_of $ALLOW4
check allowed_held_completes "$(head -c 300 "$LAB_TMP/allowed.j")" release allowed "$HELD_PID"

# ---- denied: nothing, counted ----
for fam in 4 6; do
	src=$DENY4 dst=$SRV4
	((fam == 6)) && src=$DENY6 dst=$SRV6
	tx0=$(st tx_synack) dd0=$(st drop_denied)
	if T=2 conn $src $dst; then
		fail "denied_ipv${fam}_refused" "a connection from $src went through"
	else
		pass "denied_ipv${fam}_refused"
	fi
	assert_eq "denied_ipv${fam}_no_synack" "$(diff_num "$(st tx_synack)" "$tx0")" 0
	assert_ge "denied_ipv${fam}_counted" "$(diff_num "$(st drop_denied)" "$dd0")" 1
done
assert_empty denied_no_entry "$(conns_of $DENY4)"
# a config rewrite (reload with ports, `xdpct run`'s key rotation) keeps
# the lists in force
out=$(in_srv timeout 30 "$XDPCT" reload "$IF_SRV" --ports $PORT 2>&1) || fail reload "$out"
dd0=$(st drop_denied)
if T=2 conn $DENY4 $SRV4; then
	fail denied_after_reload "a connection from $DENY4 went through after a reload"
else
	pass denied_after_reload
fi
assert_ge denied_after_reload_counted "$(diff_num "$(st drop_denied)" "$dd0")" 1

# ---- a flood from a denied prefix: dropped before any cookie work ----
DMAC=$(link_mac "$NS_SRV" "$IF_SRVA")
for mode in syn ack; do
	dd0=$(st drop_denied "$IF_SRVA") tx0=$(st tx_synack "$IF_SRVA")
	drop0=$(link_tx_dropped "$NS_ATK" "$IF_ATK")
	in_ns "$NS_ATK" timeout 40 "$SYNFLOOD" --dev "$IF_ATK" --dmac "$DMAC" --dst "$SRVA4" \
		--dport $PORT --src-net $FLOOD_NET --mode $mode --count 20000 --rate 20000 \
		--timeout 30 --seed $$ >"$LAB_TMP/flood.j" 2>&1 || die "synflood $mode failed" flood
	sent=$(json_num sent <"$LAB_TMP/flood.j")
	delivered=$(diff_num "${sent:-0}" "$(diff_num "$(link_tx_dropped "$NS_ATK" "$IF_ATK")" "$drop0")")
	flood_counted() { (($(diff_num "$(st drop_denied "$IF_SRVA")" "$dd0") >= delivered)); }
	wait_until 5 flood_counted
	note "$mode flood: sent $sent, delivered $delivered"
	assert_ge "${mode}_flood_delivered" "${delivered:-0}" 18000
	assert_eq "${mode}_flood_all_denied" "$(diff_num "$(st drop_denied "$IF_SRVA")" "$dd0")" "$delivered"
	assert_eq "${mode}_flood_no_synack" "$(diff_num "$(st tx_synack "$IF_SRVA")" "$tx0")" 0
done
assert_eq flood_no_state "$(flows_count "$IF_SRVA")" 0
assert_eq flood_no_pending "$(pending_count "$IF_SRVA")" 0

# ---- at run time: entries follow their source between the tables ----
held $LATE4 late1
wait_until 10 protected_of $LATE4 || fail late1_protected "no entry: $(conns_of $LATE4)"
out=$(acl allow add "$IF_SRV" $LATE4)
check allow_add_moves_flow "$out" grep -q "1 flow moved" <<<"$out"
check moved_entry_observed "$(conns_of $LATE4)" observed_of $LATE4
check moved_to_observed_completes "$(head -c 300 "$LAB_TMP/late1.j")" release late1 "$HELD_PID"

held $LATE4 late2
wait_until 10 observed_of $LATE4 || fail late2_observed "no entry: $(conns_of $LATE4)"
out=$(acl allow del "$IF_SRV" $LATE4/32)
# the held one and late1's, closed (TIME_WAIT: nothing evicts it here)
check allow_del_moves_flows "$out" grep -q "2 flows moved" <<<"$out"
check moved_entry_protected "$(conns_of $LATE4)" protected_of $LATE4
check moved_back_completes "$(head -c 300 "$LAB_TMP/late2.j")" release late2 "$HELD_PID"

# spoofed SYNs from an allowed address make observed entries; when the
# allow goes, none of them may enter the protected tables
SPOOF4=10.200.1.77
acl allow add "$IF_SRV" $SPOOF4 >/dev/null
smac=$(link_mac "$NS_SRV" "$IF_SRV")
n=0
for ((sp = 41000; sp < 41020; sp++)); do
	in_cli timeout 10 "$BUILD/segsend" --dev "$IF_CLI" --dmac "$smac" --src $SPOOF4 --dst $SRV4 \
		--sport $sp --dport $PORT "S:12345:0" >/dev/null && n=$((n + 1))
done
((n == 20)) || fail spoof_sent "segsend sent $n of 20"
spoofed_tracked() { (($(conns_of $SPOOF4 | grep -c OBSERVED) == 20)); }
check spoofed_syns_observed "$(conns_of $SPOOF4 | grep -c OBSERVED) observed entries" \
	wait_until 5 spoofed_tracked
p0=$(flows_count "$IF_SRV")
out=$(acl allow del "$IF_SRV" $SPOOF4)
check spoofed_not_moved "$out" grep -q "0 flows moved" <<<"$out"
assert_eq spoofed_protected_unchanged "$(flows_count "$IF_SRV")" "$p0"

# a deny cuts an established connection; its removal lets the source in again
held $LATE4 late3
wait_until 10 established_of $LATE4 || fail late3_established "no entry: $(conns_of $LATE4)"
dd0=$(st drop_denied)
out=$(acl deny add "$IF_SRV" $LATE4)
check deny_add "$out" grep -q "1 prefix added" <<<"$out"
if release late3 "$HELD_PID"; then
	fail deny_cuts_established "the held transfer completed through a deny"
else
	pass deny_cuts_established
fi
assert_ge deny_cut_counted "$(diff_num "$(st drop_denied)" "$dd0")" 1
out=$(acl deny del "$IF_SRV" $LATE4/32)
check deny_del "$out" grep -q "1 prefix removed" <<<"$out"
check undenied_connects "$(head -c 300 "$LAB_TMP/conn.j")" conn $LATE4 $SRV4

# ---- flush: the list empties and the data path stops looking ----
out=$(acl allow flush "$IF_SRV")
check allow_flush "$out" grep -q "2 prefixes removed" <<<"$out"
assert_eq allow_list_empty "$(acl allow list "$IF_SRV" -j)" "[]"
tx0=$(st tx_synack)
check flushed_source_connects "$(head -c 300 "$LAB_TMP/conn.j")" conn $ALLOW4 $SRV4
assert_ge flushed_source_gets_cookie "$(diff_num "$(st tx_synack)" "$tx0")" 1

# ---- CLI errors: one line, exit 2 for usage, 1 for the rest ----
cli_err() { # NAME WANT_RC GREP ARGS...: rc and a one-line message naming the problem
	local name=$1 want=$2 pat=$3 out rc
	shift 3
	out=$(in_srv timeout 20 "$XDPCT" "$@" 2>&1)
	rc=$?
	if ((rc == want)) && [[ $(wc -l <<<"$out") == 1 ]] && grep -q -- "$pat" <<<"$out"; then
		pass "$name"
	else
		fail "$name" "rc $rc (want $want): $out"
	fi
}
cli_err err_bad_prefix 2 "10.200.1.300" allow add "$IF_SRV" 10.200.1.300
cli_err err_host_bits 2 "host bits" deny add "$IF_SRV" 10.200.1.1/24
cli_err err_bad_len 2 "10.0.0.0/33" allow add "$IF_SRV" 10.0.0.0/33
cli_err err_in_other_list 1 "is in the deny list" allow add "$IF_SRV" $DENY4
cli_err err_not_listed 1 "is not in the deny list" deny del "$IF_SRV" 10.9.9.9
cli_err err_no_prefix 2 "missing PREFIX" deny add "$IF_SRV"
cli_err err_bad_action 2 "unknown action" allow frob "$IF_SRV"
cli_err err_unknown_iface 1 "nosuchif0" allow add nosuchif0 10.9.9.9
cli_err err_both_lists 2 "both --allow and --deny" attach "$IF_SRV" --ports $PORT \
	--allow 10.9.0.0/16 --deny 10.9.0.0/16
assert_eq deny_list_unchanged "$(acl deny list "$IF_SRV" -j)" "[\"$DENY4/32\",\"$DENY6/128\"]"

lab_finish
