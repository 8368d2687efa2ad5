#!/bin/bash
# A fleet: two boxes serve one address (anycast) behind an ECMP route and
# share the cookie key through etcd (`xdpct run --etcd`). The edge router
# sends every SYN of client C1 to box A and its other segments to box B
# (C2: the other way round), so every handshake's ACK meets the box that
# did not answer its SYN. Real clients run through: the boxes alone (each
# its own key: refused), the fleet joining, key rotations, an etcd outage
# (etcd stopped: keys kept, no rotation), the leader killed (the other
# takes over under the lease) and restarted.
#
#   ns cli [xcs] C1,C2 -- [xec] ns edge [xea] -- [xae] ns A (xdpct, VIP) [xax] -- [xxa] ns etcd
#                                        [xeb] -- [xbe] ns B (xdpct, VIP) [xbx] -- [xxb]
# shellcheck source=tests/lib.sh
source "$(dirname "$0")/../lib.sh"

PORT=8080
NS_EDGE=$NS_SRV NS_A=$NS_ATK NS_B=$NS_SRV2 NS_ETCD=$NS_CLI2
IF_EC=xec$LAB_ID IF_EA=xea$LAB_ID IF_AE=xae$LAB_ID IF_EB=xeb$LAB_ID IF_BE=xbe$LAB_ID
IF_AX=xax$LAB_ID IF_XA=xxa$LAB_ID IF_BX=xbx$LAB_ID IF_XB=xxb$LAB_ID
C1=10.220.1.2 C2=10.220.1.3 EC4=10.220.1.1 C1_6=fd00:220:1::2 EC6=fd00:220:1::1
EA4=10.220.2.1 A4=10.220.2.2 EA6=fd00:220:2::1 A6=fd00:220:2::2
EB4=10.220.3.1 B4=10.220.3.2 EB6=fd00:220:3::1 B6=fd00:220:3::2
XA4=10.220.8.2 XB4=10.220.9.2
VIP=10.220.100.1 VIP6=fd00:220:100::1
FLEET=t$LAB_ID
ETCD=$(command -v etcd || echo /usr/bin/etcd)

need_build "$XDPCT" "$TCPPEER"
[[ -x "$ETCD" ]] || die "etcd missing (make deps installs etcd-server)"
command -v curl >/dev/null || die "curl missing (make deps)" setup
lab_begin "$NS_CLI" "$NS_EDGE" "$NS_A" "$NS_B" "$NS_ETCD"
lab_add_link "$NS_EDGE" "$IF_EC" "$EC4" "$EC6" "$NS_CLI" "$IF_CLI" "$C1" "$C1_6" || die "client link"
lab_add_link "$NS_EDGE" "$IF_EA" "$EA4" "$EA6" "$NS_A" "$IF_AE" "$A4" "$A6" || die "link to A"
lab_add_link "$NS_EDGE" "$IF_EB" "$EB4" "$EB6" "$NS_B" "$IF_BE" "$B4" "$B6" || die "link to B"
lab_add_link "$NS_A" "$IF_AX" 10.220.8.1 fd00:220:8::1 "$NS_ETCD" "$IF_XA" $XA4 fd00:220:8::2 ||
	die "A's etcd link"
lab_add_link "$NS_B" "$IF_BX" 10.220.9.1 fd00:220:9::1 "$NS_ETCD" "$IF_XB" $XB4 fd00:220:9::2 ||
	die "B's etcd link"
in_cli ip addr add $C2/24 dev "$IF_CLI" || die "second client address"
# the boxes' SYN-ACKs leave by XDP_TX: the edge's ends need NAPI
for ifc in "$IF_EA" "$IF_EB"; do
	ip -n "$NS_EDGE" link set dev "$ifc" xdp obj "$XDP_PASS_OBJ" sec xdp || die "pass-through XDP"
done
in_cli ip route add default via $EC4 && in_cli ip -6 route add default via $EC6 || die "client routes"
in_ns "$NS_EDGE" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 || die forwarding
# the anycast address: an ECMP route over both boxes, and policy routing
# by mark for the steered clients
in_ns "$NS_EDGE" ip route add $VIP/32 nexthop via $A4 nexthop via $B4 &&
	in_ns "$NS_EDGE" ip -6 route add $VIP6/128 nexthop via $A6 nexthop via $B6 &&
	in_ns "$NS_EDGE" ip route add $VIP/32 via $A4 table 10 &&
	in_ns "$NS_EDGE" ip route add $VIP/32 via $B4 table 11 &&
	in_ns "$NS_EDGE" ip -6 route add $VIP6/128 via $A6 table 10 &&
	in_ns "$NS_EDGE" ip -6 route add $VIP6/128 via $B6 table 11 &&
	in_ns "$NS_EDGE" ip rule add fwmark 0xa table 10 &&
	in_ns "$NS_EDGE" ip rule add fwmark 0xb table 11 &&
	in_ns "$NS_EDGE" ip -6 rule add fwmark 0xa table 10 &&
	in_ns "$NS_EDGE" ip -6 rule add fwmark 0xb table 11 || die "edge routes"
in_ns "$NS_EDGE" nft -f - <<NFT || die "edge steering"
table inet steer {
	chain pre {
		type filter hook prerouting priority mangle;
		ip daddr $VIP ip saddr $C1 tcp flags & (syn | ack) == syn meta mark set 0xa
		ip daddr $VIP ip saddr $C1 tcp flags & (syn | ack) != syn meta mark set 0xb
		ip daddr $VIP ip saddr $C2 tcp flags & (syn | ack) == syn meta mark set 0xb
		ip daddr $VIP ip saddr $C2 tcp flags & (syn | ack) != syn meta mark set 0xa
		ip6 daddr $VIP6 tcp flags & (syn | ack) == syn meta mark set 0xa
		ip6 daddr $VIP6 tcp flags & (syn | ack) != syn meta mark set 0xb
	}
}
NFT
for ns in "$NS_A" "$NS_B"; do
	in_ns "$ns" ip addr add $VIP/32 dev lo && in_ns "$ns" ip addr add $VIP6/128 dev lo nodad ||
		die "anycast address"
done
in_ns "$NS_A" ip route add default via $EA4 && in_ns "$NS_A" ip -6 route add default via $EA6 &&
	in_ns "$NS_B" ip route add default via $EB4 && in_ns "$NS_B" ip -6 route add default via $EB6 ||
	die "box routes"
bg_ns "$NS_A" "$LAB_TMP/srvA.log" "$TCPPEER" serve --port $PORT --backlog 256
bg_ns "$NS_B" "$LAB_TMP/srvB.log" "$TCPPEER" serve --port $PORT --backlog 256
wait_port "$NS_A" $PORT 5 && wait_port "$NS_B" $PORT 5 || die servers

# ---- the two boxes, each `xdpct run --etcd` (etcd not started yet) ----
declare -A RUN_PID IF_OF=([A]=$IF_AE [B]=$IF_BE) NS_OF=([A]=$NS_A [B]=$NS_B) \
	ETCD_OF=([A]=http://$XA4:2379 [B]=http://$XB4:2379)
start_run() { # BOX: --keep, so that a killed run leaves the box serving
	local b=$1
	bg_ns "${NS_OF[$b]}" "$LAB_TMP/run$b.log" "$XDPCT" run "${IF_OF[$b]}" --ports $PORT \
		--cookie-slot 1 --key-rotate 4 --etcd "${ETCD_OF[$b]},http://127.0.0.1:1" \
		--fleet "$FLEET" --etcd-lease 3 --metrics 127.0.0.1:9790 --keep
	RUN_PID[$b]=$BG_PID
}
metric() { # BOX NAME
	in_ns "${NS_OF[$1]}" curl -sS --max-time 3 http://127.0.0.1:9790/metrics 2>/dev/null |
		awk -v m="$2" '$1 == m { print $2 }'
}
bstat() { in_ns "${NS_OF[$1]}" timeout 10 "$XDPCT" stats "${IF_OF[$1]}" -j 2>/dev/null | json_num "$2"; }
keys_of() { # BOX: from its config map: the key of the slots from key_sel's
	# on, that first slot, both keys (their places may differ from box to box)
	local pin
	pin=$(in_ns "${NS_OF[$1]}" "$XDPCT" pin-dir "${IF_OF[$1]}")
	bpftool -j map lookup pinned "$pin/xdpct_config" key 0 0 0 0 2>/dev/null |
		python3 -c 'import json,sys; v=json.load(sys.stdin)["formatted"]["value"]; k=[(x["k0"], x["k1"]) for x in v["keys"]]; print(k[v["key_sel"] & 1], v["key_sel"] >> 1, sorted(k), v["key_epoch"])'
}
clients() { # SRC ADDR N LOG: connections one after another, 64 KiB each way
	in_cli timeout 120 "$TCPPEER" connect --addr "$2" --src "$1" --port $PORT --count "$3" \
		--interval 0.2 --up 64k --down 64k --timeout 5 --json >"$4" 2>"$4.err"
	grep -c '"ok":true' "$4"
}
LAB_ATTACHED+=("$IF_AE" "$IF_BE")
start_run A
start_run B
# pins come before the programs are attached: the run's own line says done
running() { grep -q "running on" "$LAB_TMP/run$1.log"; }
wait_until 15 running A && wait_until 15 running B ||
	die "xdpct run: $(cat "$LAB_TMP/runA.log" "$LAB_TMP/runB.log")"
wait_grep 10 "etcd unreachable" cat "$LAB_TMP/runA.log" &&
	pass unreachable_at_start_logged || fail unreachable_at_start_logged "$(cat "$LAB_TMP/runA.log")"
assert_eq unreachable_metric "$(metric A xdpct_fleet_etcd_up)" 0

# each box alone: its own key, so a handshake across the boxes fails
bad0=$(bstat B drop_cookie_bad)
n=$(clients $C1 $VIP 2 "$LAB_TMP/alone.j")
assert_eq alone_crossing_handshakes_fail "$n" 0
# the refused handshakes' sockets would go on retransmitting to B
in_cli ss -K dst $VIP >/dev/null 2>&1
gone() { [[ -z "$(in_cli ss -Htn dst $VIP)" ]]; }
wait_until 5 gone || die "client sockets of the refused handshakes left: $(in_cli ss -Htn dst $VIP)"
assert_ge alone_other_box_rejects_cookie "$(($(bstat B drop_cookie_bad) - bad0))" 2

# ---- etcd comes: both join, one leads ----
mkdir -p "$LAB_TMP/etcd"
bg_ns "$NS_ETCD" "$LAB_TMP/etcd.log" "$ETCD" --data-dir "$LAB_TMP/etcd" \
	--listen-client-urls http://0.0.0.0:2379 --advertise-client-urls http://$XA4:2379 \
	--listen-peer-urls http://127.0.0.1:2380
ETCD_PID=$BG_PID
wait_port "$NS_ETCD" 2379 15 || die "etcd: $(tail -5 "$LAB_TMP/etcd.log")"
joined() { [[ "$(metric A xdpct_fleet_key_epoch)" -ge 1 && "$(metric B xdpct_fleet_key_epoch)" -ge 1 ]] 2>/dev/null; }
wait_until 15 joined && pass joined || fail joined "epochs $(metric A xdpct_fleet_key_epoch) $(metric B xdpct_fleet_key_epoch)"
# a rotation may land between the two reads: once more then
same_keys() { [[ -n "$(keys_of A)" && "$(keys_of A)" == "$(keys_of B)" ]]; }
wait_until 5 same_keys && pass same_keys_in_both_maps ||
	fail same_keys_in_both_maps "A: $(keys_of A) B: $(keys_of B)"
exposition_parses() {
	in_ns "$NS_A" curl -sS --max-time 3 http://127.0.0.1:9790/metrics | /usr/bin/python3 -c '
import sys
from prometheus_client.parser import text_string_to_metric_families as parse
names = {f.name for f in parse(sys.stdin.read())}
sys.exit(0 if {"xdpct_fleet_etcd_up", "xdpct_fleet_members"} <= names else 1)'
}
check fleet_metrics_parse "not parsed by prometheus_client" exposition_parses
leaders=$(($(metric A xdpct_fleet_leader) + $(metric B xdpct_fleet_leader)))
assert_eq one_leader "$leaders" 1
check reachable_again_logged "no line" grep -q "etcd reachable again" "$LAB_TMP/runA.log"

# ---- traffic through everything that follows ----
snap() { for b in A B; do for s in tx_synack pass_cookie drop_cookie_bad drop_cookie_stale; do
	eval "S_${b}_$s=$(bstat $b $s)"; done; done; }
snap
ep0=$(metric A xdpct_fleet_key_epoch)
bg_ns "$NS_CLI" "$LAB_TMP/c1.out" "$TCPPEER" connect --addr $VIP --src $C1 --port $PORT \
	--count 150 --interval 0.2 --up 64k --down 64k --timeout 5 --json
C1_PID=$BG_PID
bg_ns "$NS_CLI" "$LAB_TMP/c2.out" "$TCPPEER" connect --addr $VIP --src $C2 --port $PORT \
	--count 150 --interval 0.2 --up 64k --down 64k --timeout 5 --json
C2_PID=$BG_PID
bg_ns "$NS_CLI" "$LAB_TMP/c6.out" "$TCPPEER" connect --addr $VIP6 --port $PORT \
	--count 150 --interval 0.2 --up 64k --down 64k --timeout 5 --json
C6_PID=$BG_PID

# rotations while the clients run
epoch_gt() { [[ "$(metric "$1" xdpct_fleet_key_epoch)" -gt "$2" ]] 2>/dev/null; }
leads() { [[ "$(metric "$1" xdpct_fleet_leader)" == 1 ]]; }
wait_until 20 epoch_gt A $((ep0 + 1)) &&
	pass rotations_under_traffic ||
	fail rotations_under_traffic "epoch $(metric A xdpct_fleet_key_epoch), was $ep0"

# etcd stops answering: both keep their keys, nobody rotates
# (a box may have missed the last step before etcd stopped: the other-key
# check covers that, and each keeps what it has)
kill -STOP "$ETCD_PID"
down() { [[ "$(metric A xdpct_fleet_etcd_up)" == 0 && "$(metric B xdpct_fleet_etcd_up)" == 0 ]]; }
wait_until 10 down && pass outage_seen_by_both || fail outage_seen_by_both "up: $(metric A xdpct_fleet_etcd_up) $(metric B xdpct_fleet_etcd_up)"
ep_out=$(metric A xdpct_fleet_key_epoch) k_outA=$(keys_of A) k_outB=$(keys_of B)
# two rotation periods, and past the member lease (9 s): etcd, back, drops
# every lease, leader's and members'
sleep 10
assert_eq outage_keys_kept_A "$(keys_of A)" "$k_outA"
assert_eq outage_keys_kept_B "$(keys_of B)" "$k_outB"
check outage_logged_keys_kept "no line" grep -q "etcd unreachable .*keeping the cookie keys of epoch" \
	"$LAB_TMP/runB.log"
# etcd comes back while one member's run is stalled (stopped): the other
# leads, but steps only once the stalled one, whose entry etcd dropped,
# can have reported again (a member lease): stepping without it could
# leave its box two steps behind, signing a key nobody else checks
if [[ "$(metric A xdpct_fleet_leader)" == 1 ]]; then R=A S=B; else R=B S=A; fi
kill -STOP "${RUN_PID[$S]}"
kill -CONT "$ETCD_PID"
wait_until 10 leads $R && pass leads_after_outage || fail leads_after_outage "leader $(metric $R xdpct_fleet_leader)"
k_back=$(keys_of $R)
sleep 3
assert_eq new_leader_waits_for_members "$(keys_of $R)" "$k_back"
kill -CONT "${RUN_PID[$S]}"
wait_until 20 epoch_gt A "$ep_out" &&
	pass rotation_after_outage || fail rotation_after_outage "epoch $(metric A xdpct_fleet_key_epoch)"
assert_eq up_after_outage "$(metric B xdpct_fleet_etcd_up)" 1

# the leader's run dies (kill -9: its leases expire); the other leads;
# restarted within its member lease (3 x --etcd-lease), the rotation waits
# for it, so its box (which kept serving) never falls behind
if [[ "$(metric A xdpct_fleet_leader)" == 1 ]]; then L=A F=B; else L=B F=A; fi
disown "${RUN_PID[$L]}" # no job notice for the kill
kill -KILL "${RUN_PID[$L]}"
wait_until 15 leads $F && pass follower_takes_over ||
	fail follower_takes_over "leader $(metric $F xdpct_fleet_leader)"
ep_k=$(metric $F xdpct_fleet_key_epoch)
start_run $L
wait_until 20 epoch_gt $F "$ep_k" && pass new_leader_rotates ||
	fail new_leader_rotates "epoch $(metric $F xdpct_fleet_key_epoch)"
wait_until 15 same_keys && pass restarted_member_in_step ||
	fail restarted_member_in_step "$L: $(keys_of $L) $F: $(keys_of $F)"

wait_pid "$C1_PID" 90
wait_pid "$C2_PID" 90
wait_pid "$C6_PID" 90
for c in c1 c2 c6; do
	assert_eq "crossing_${c}_all_complete" "$(grep -c '"ok":true' "$LAB_TMP/$c.out")" 150
done
snap0() { eval "echo \$S_$1_$2"; }
for s in drop_cookie_bad drop_cookie_stale; do
	for b in A B; do
		assert_eq "no_${s}_$b" "$(($(bstat $b $s) - $(snap0 $b $s)))" 0
	done
done
# the handshakes did cross: each box answered SYNs and accepted the other's cookies
assert_ge box_A_answered "$(($(bstat A tx_synack) - $(snap0 A tx_synack)))" 300
assert_ge box_B_answered "$(($(bstat B tx_synack) - $(snap0 B tx_synack)))" 150
assert_ge box_A_accepted "$(($(bstat A pass_cookie) - $(snap0 A pass_cookie)))" 150
assert_ge box_B_accepted "$(($(bstat B pass_cookie) - $(snap0 B pass_cookie)))" 300
fleet_status() { in_ns "$NS_A" "$XDPCT" status -j | grep -q '"key_fleet":true'; }
check status_says_fleet "no fleet in status" fleet_status

# a member gone for good (its box withdrawn): once its member lease is
# over, the fleet rotates without it; back, it catches up
disown "${RUN_PID[$L]}" # no job notice for the kill
kill -KILL "${RUN_PID[$L]}"
ep_g=$(metric $F xdpct_fleet_key_epoch)
wait_until 30 epoch_gt $F $((ep_g + 1)) && pass fleet_goes_on_without_dead_member ||
	fail fleet_goes_on_without_dead_member "epoch $(metric $F xdpct_fleet_key_epoch), was $ep_g"
assert_eq members_counted_without_dead "$(metric $F xdpct_fleet_members)" 1
# meanwhile an operator re-attaches and reconfigures the box: the
# fleet's key stays (only the fleet changes it)
k_l=$(keys_of $L)
in_ns "${NS_OF[$L]}" timeout 30 "$XDPCT" attach "${IF_OF[$L]}" --ports $PORT,8081 >/dev/null 2>&1 ||
	fail reattach_member "attach failed"
st_fleet() { in_ns "${NS_OF[$L]}" "$XDPCT" status -j | grep -q '"key_fleet":true'; }
check reattach_keeps_fleet "status lost the fleet" st_fleet
assert_eq reattach_keeps_key "$(keys_of $L)" "$k_l"
in_ns "${NS_OF[$L]}" timeout 30 "$XDPCT" config --ifname "${IF_OF[$L]}" --ports $PORT \
	--pin-dir "$(in_ns "${NS_OF[$L]}" "$XDPCT" pin-dir "${IF_OF[$L]}")" >/dev/null 2>&1 ||
	fail config_member "config failed"
assert_eq config_keeps_key "$(keys_of $L)" "$k_l"
start_run $L
wait_until 15 same_keys && pass dead_member_back_in_step ||
	fail dead_member_back_in_step "$L: $(keys_of $L) $F: $(keys_of $F)"

# a record that is not xdpct's (someone else's write): logged, keys kept
bad=$(printf 'not a record' | base64) kpath=$(printf '/xdpct/fleet/%s/key' "$FLEET" | base64)
in_ns "$NS_A" curl -sS --max-time 3 http://$XA4:2379/v3/kv/put \
	-d "{\"key\":\"$kpath\",\"value\":\"$bad\"}" >/dev/null || fail bad_record_put "curl"
wait_grep 5 "is not an xdpct fleet record: keys kept" cat "$LAB_TMP/run$L.log" "$LAB_TMP/run$F.log" &&
	pass bad_record_logged || fail bad_record_logged "no line"
sleep 1.5 # a step read before the foreign write may still land
k_before=$(keys_of A)
sleep 3
assert_eq bad_record_keys_kept "$(keys_of A)" "$k_before"

# a run without --etcd takes the key back: not the fleet's any more
kill -TERM "${RUN_PID[A]}"
wait_pid "${RUN_PID[A]}" 10
bg_ns "$NS_A" "$LAB_TMP/runA2.log" "$XDPCT" run "$IF_AE" --keep
RUN_PID[A]=$BG_PID
wait_grep 10 "was a fleet's: this run rotates it" cat "$LAB_TMP/runA2.log" && pass left_fleet_logged ||
	fail left_fleet_logged "$(cat "$LAB_TMP/runA2.log")"
not_fleet() { ! fleet_status; }
check left_fleet_status "status still says fleet" not_fleet

# ---- the end: stop the runs; they detach (no --keep on the last word) ----
for b in A B; do
	stop_pid "${RUN_PID[$b]}"
	in_ns "${NS_OF[$b]}" timeout 10 "$XDPCT" detach "${IF_OF[$b]}" >/dev/null 2>&1
	check "detached_$b" "still attached" nothing_attached "${NS_OF[$b]}" "${IF_OF[$b]}"
done
lab_finish
