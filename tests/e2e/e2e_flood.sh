#!/bin/bash
# Bounded floods from an attacker namespace on its own link:
# spoofed SYNs, then bare ACKs with random cookies, while a legitimate
# client connects over the client link. xdpct protects the port on both of
# the server's veths. Checks: every legit connection succeeds, the flood
# is answered or dropped in XDP, and it leaves no state in the flow tables.
# shellcheck source=tests/lib.sh
source "$(dirname "$0")/../lib.sh"

PORT=8080
SYN_COUNT=${SYN_COUNT:-200000}
SYN_RATE=${SYN_RATE:-50000}
ACK_COUNT=${ACK_COUNT:-50000}
ACK_RATE=${ACK_RATE:-50000}
N_LEGIT=50
N_LEGIT_ACK=10

need_build "$XDPCT" "$TCPPEER" "$SYNFLOOD" "$BUILD/mapfill"
attacker_lab "$PORT"
# Resolve the neighbours once, and prove the client path works before any flood.
in_cli timeout 20 "$TCPPEER" connect --addr "$SRV4" --port "$PORT" --up 1k --down 1k \
	--timeout 5 --json >/dev/null 2>&1 || die "first legit connection failed" warmup
N_SEEN_LEGIT=1
DMAC=$(link_mac "$NS_SRV" "$IF_SRVA")
[[ -n "$DMAC" ]] || die "no MAC for $IF_SRVA" setup

# flood MODE COUNT RATE LOG: start the generator in the attacker ns (FLOOD_PID).
flood() {
	bg_ns "$NS_ATK" "$4" "$SYNFLOOD" --dev "$IF_ATK" --dmac "$DMAC" --dst "$SRVA4" \
		--dport "$PORT" --src-net 10.201.0.0/16 --mode "$1" --count "$2" --rate "$3" \
		--timeout 30 --seed $$
	FLOOD_PID=$BG_PID
}
syn_seen_atk() { stats_snap "$IF_SRVA" && isnum "$(xstat syn_seen)" && (($(xstat syn_seen) > 0)); }
drops_atk() {
	stats_snap "$IF_SRVA" || return 1
	local b s
	b=$(xstat drop_cookie_bad) s=$(xstat drop_cookie_stale)
	isnum "$b" && isnum "$s" && echo $((b + s))
}
flood_sent() { json_num sent <"$1"; }

# ---- SYN flood ----
drop0=$(link_tx_dropped "$NS_ATK" "$IF_ATK")
flood syn "$SYN_COUNT" "$SYN_RATE" "$LAB_TMP/synflood.j"
wait_until 30 syn_seen_atk || fail syn_flood_started "no SYN counted on $IF_SRVA after 30 s"
running_at_start=0
kill -0 "$FLOOD_PID" 2>/dev/null && running_at_start=1
in_cli timeout 90 "$TCPPEER" connect --addr "$SRV4" --port "$PORT" --up 16k --down 64k \
	--count $N_LEGIT --parallel 2 --interval 0.1 --timeout 15 --json >"$LAB_TMP/legit.j" \
	2>"$LAB_TMP/legit.err"
rc=$?
running_at_end=0
kill -0 "$FLOOD_PID" 2>/dev/null && running_at_end=1
n_ok=$(grep -c '"ok":true' "$LAB_TMP/legit.j")
if ((rc == 0 && n_ok == N_LEGIT)); then
	pass "legit_${N_LEGIT}_during_syn_flood"
else
	fail "legit_${N_LEGIT}_during_syn_flood" "rc $rc, $n_ok/$N_LEGIT ok: $(grep -v '"ok":true' "$LAB_TMP/legit.j" | head -n 1)"
fi
N_SEEN_LEGIT=$((N_SEEN_LEGIT + N_LEGIT))
# The check above means something only if the flood was on meanwhile.
assert_eq syn_flood_overlapped_legit "$running_at_start" 1
note "flood still running when the legit clients finished: $running_at_end"
note "legit connect_ms max: $(grep -o '"connect_ms":[0-9.]*' "$LAB_TMP/legit.j" | cut -d: -f2 | sort -n | tail -n 1)"
wait_pid "$FLOOD_PID" 40
rc=$?
# the generator, not xdpct: no ok line
((rc == 0)) || fail syn_flood_finished "synflood failed or timed out: $(head -c 200 "$LAB_TMP/synflood.j")"
sent=$(flood_sent "$LAB_TMP/synflood.j")
drop1=$(link_tx_dropped "$NS_ATK" "$IF_ATK")
lost=$((drop1 - drop0))
delivered=$((sent - lost))
note "syn flood: $(cat "$LAB_TMP/synflood.j"); lost in the veth ring: $lost"
assert_ge syn_flood_sent "${sent:-0}" $((SYN_COUNT * 9 / 10))

stats_snap "$IF_SRVA"
note "attacker link stats: $(tr -d '\n' <<<"$XSTATS" | head -c 1500)"
syn=$(xstat syn_seen)
# every SYN that reached the server veth was counted and answered in XDP
assert_ge syn_flood_syn_seen "$syn" "$delivered"
assert_eq syn_flood_all_answered "$(xstat tx_synack)" "$syn"
# xdpct_seen: a flood SYN's tuple never had an entry, so (but for a bit
# shared with one of the few that did) it meets no flow-table lookup
assert_ge syn_flood_no_flow_lookup "$(xstat syn_no_lookup)" $((syn * 99 / 100))
note "syn flood: $(xstat syn_no_lookup) of $syn SYNs answered without a flow lookup"
assert_eq syn_flood_no_state "$(flows_count "$IF_SRVA")" 0
# The client link holds the legit connections' entries only.
nf=$(flows_count "$IF_SRV")
assert_le flows_legit_only "${nf:-x}" "$N_SEEN_LEGIT"
note "flow entries on the client link: $nf for $N_SEEN_LEGIT legit connections"
assert_eq syn_flood_kernel_no_cookies "$(nstat_get "$NS_SRV" TcpExtSyncookiesSent)" 0
assert_eq syn_flood_no_listen_overflow "$(nstat_get "$NS_SRV" TcpExtListenOverflows)" 0

# ---- ACK flood with random cookies ----
base_drops=$(drops_atk)
stats_snap "$IF_SRVA"
base_good=$(xstat cookie_good)
base_lookup=$(xstat lost_lookup)
drop0=$(link_tx_dropped "$NS_ATK" "$IF_ATK")
flood ack "$ACK_COUNT" "$ACK_RATE" "$LAB_TMP/ackflood.j"
in_cli timeout 60 "$TCPPEER" connect --addr "$SRV4" --port "$PORT" --up 16k --down 64k \
	--count $N_LEGIT_ACK --timeout 15 --json >"$LAB_TMP/legit2.j" 2>&1
rc=$?
check_rc "legit_${N_LEGIT_ACK}_during_ack_flood" "$rc" "$(grep -v '"ok":true' "$LAB_TMP/legit2.j" | head -n 1)"
N_SEEN_LEGIT=$((N_SEEN_LEGIT + N_LEGIT_ACK))
wait_pid "$FLOOD_PID" 40
rc=$?
# the generator, not xdpct: no ok line
((rc == 0)) || fail ack_flood_finished "synflood --mode ack failed: $(head -c 200 "$LAB_TMP/ackflood.j")"
sent=$(flood_sent "$LAB_TMP/ackflood.j")
lost=$(($(link_tx_dropped "$NS_ATK" "$IF_ATK") - drop0))
note "ack flood: $(cat "$LAB_TMP/ackflood.j"); lost in the veth ring: $lost"
drops=$(diff_num "$(drops_atk)" "$base_drops")
# A random ack number fails the cookie check (bad hash, or a slot too old).
assert_ge ack_flood_all_dropped "$drops" $((sent - lost))
stats_snap "$IF_SRVA"
assert_gt ack_flood_drop_cookie_bad "$(xstat drop_cookie_bad)" 0
assert_eq ack_flood_no_good_cookie "$(xstat cookie_good)" "$base_good"
# the lost-entry lookup (issue 9) is not paid by a flood: its tuples have
# no xdpct_seen bit, so none meets a socket lookup (1% allowed for bits
# shared with real entries)
lookups=$(diff_num "$(xstat lost_lookup)" "$base_lookup")
assert_le ack_flood_no_socket_lookup "${lookups:-x}" $(((sent - lost) / 100))
note "ack flood: $lookups socket lookups for $((sent - lost)) ACKs delivered"
assert_eq ack_flood_no_state "$(flows_count "$IF_SRVA")" 0
nf=$(flows_count "$IF_SRV")
assert_le flows_legit_only_after_ack_flood "${nf:-x}" "$N_SEEN_LEGIT"
note "ack flood verdicts: drop_cookie_bad $(xstat drop_cookie_bad), drop_cookie_stale $(xstat drop_cookie_stale)"

# ---- IPv6 SYN flood, shorter ----
stats_snap "$IF_SRVA"
syn0=$(xstat syn_seen)
tx0=$(xstat tx_synack)
drop0=$(link_tx_dropped "$NS_ATK" "$IF_ATK")
bg_ns "$NS_ATK" "$LAB_TMP/synflood6.j" "$SYNFLOOD" --dev "$IF_ATK" --dmac "$DMAC" --dst "$SRVA6" \
	--dport "$PORT" --src-net fd00:201::/64 --mode syn --count "$ACK_COUNT" --rate "$ACK_RATE" \
	--timeout 30 --seed $$
FLOOD_PID=$BG_PID
in_cli timeout 60 "$TCPPEER" connect --addr "$SRV6" --port "$PORT" --up 16k --down 64k \
	--count $N_LEGIT_ACK --parallel 2 --timeout 15 --json >"$LAB_TMP/legit6.j" 2>&1
rc=$?
check_rc "legit6_${N_LEGIT_ACK}_during_syn6_flood" "$rc" "$(grep -v '"ok":true' "$LAB_TMP/legit6.j" | head -n 1)"
N_SEEN_LEGIT=$((N_SEEN_LEGIT + N_LEGIT_ACK))
wait_pid "$FLOOD_PID" 40
rc=$?
# the generator, not xdpct: no ok line
((rc == 0)) || fail syn6_flood_finished "synflood (IPv6) failed: $(head -c 200 "$LAB_TMP/synflood6.j")"
sent=$(flood_sent "$LAB_TMP/synflood6.j")
lost=$(($(link_tx_dropped "$NS_ATK" "$IF_ATK") - drop0))
note "ipv6 syn flood: $(cat "$LAB_TMP/synflood6.j"); lost in the veth ring: $lost"
stats_snap "$IF_SRVA"
assert_ge syn6_flood_syn_seen "$(diff_num "$(xstat syn_seen)" "$syn0")" $((sent - lost))
assert_eq syn6_flood_all_answered "$(diff_num "$(xstat tx_synack)" "$tx0")" "$(diff_num "$(xstat syn_seen)" "$syn0")"
assert_eq syn6_flood_no_state "$(flows_count "$IF_SRVA")" 0
nf=$(flows_count "$IF_SRV")
assert_le flows_legit_only_after_syn6_flood "${nf:-x}" "$N_SEEN_LEGIT"

# ---- a full table: the filter is sized from it ----
# Both protected tables of the attacker link (default --max-conns: 2^20
# each) filled through the map API, their keys' bits set; a SYN flood's
# tuples must still mostly find no bit (10 bits per entry: ~6% of them set)
pin=$(pin_of "$IF_SRVA")
seen_entries=$(bpftool -j map show pinned "$pin/xdpct_seen" | json_num max_entries)
assert_eq seen_sized_from_tables "$seen_entries" $((8 + 2 * (1 << 25) / 64 + 2 * (1 << 20) / 64)) # + the summaries
FULL=$(bpftool -j map show pinned "$pin/xdpct_flows4" | json_num max_entries)
for m in xdpct_flows4 xdpct_flows6; do
	in_srv "$BUILD/mapfill" fill "$pin/$m" "$FULL" >"$LAB_TMP/fill.out" 2>&1 ||
		fail "full_table_fill_$m" "$(cat "$LAB_TMP/fill.out")"
done
n4=$(in_srv "$BUILD/mapfill" count "$pin/xdpct_flows4" | grep -o '[0-9]*' | head -n 1)
n6=$(in_srv "$BUILD/mapfill" count "$pin/xdpct_flows6" | grep -o '[0-9]*' | head -n 1)
note "full table: $n4 IPv4 + $n6 IPv6 entries of 2 x $FULL"
assert_ge full_table_entries "$((${n4:-0} + ${n6:-0}))" $((2 * FULL * 99 / 100))
stats_snap "$IF_SRVA"
syn0=$(xstat syn_seen)
nl0=$(xstat syn_no_lookup)
bg_ns "$NS_ATK" "$LAB_TMP/synflood_full.j" "$SYNFLOOD" --dev "$IF_ATK" --dmac "$DMAC" --dst "$SRVA4" \
	--dport "$PORT" --src-net 10.202.0.0/16 --mode syn --count 30000 --rate 30000 --timeout 30 \
	--seed $((LAB_ID + 7))
wait_pid "$BG_PID" 40
stats_snap "$IF_SRVA"
syn=$(diff_num "$(xstat syn_seen)" "$syn0")
nl=$(diff_num "$(xstat syn_no_lookup)" "$nl0")
note "full table: $nl of $syn flood SYNs answered without a flow lookup"
assert_ge full_table_flood_syns "${syn:-0}" 20000
assert_ge full_table_90pct_no_lookup "${nl:-0}" $((${syn:-0} * 90 / 100))

lab_finish
