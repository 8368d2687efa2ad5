#!/bin/bash
# xdpct on a router's client-facing link: transit connections (client ->
# server one hop behind, forwarding on) pass untouched, with no SYN-ACK
# forged by the router, over IPv4 and IPv6; the router's own service on the
# same protected port still gets cookies; SYNs from sources Linux never
# answers are dropped, not answered.
#   ns cli [xcs] 10.210.1.2 ---- 10.210.1.1 [xsc] ns rtr (xdpct) [xrs] 10.210.2.1 ---- 10.210.2.2 [xsr] ns srv
# shellcheck source=tests/lib.sh
source "$(dirname "$0")/../lib.sh"

PORT=8080
NS_RTR=$NS_ATK # the lab's third namespace, cleaned like the others
IF_RC=$IF_SRV  # router end of the client link (xdpct attaches here)
IF_RS=xrs$LAB_ID
IF_SR=xsr$LAB_ID
C4=10.210.1.2 R4C=10.210.1.1 R4S=10.210.2.1 S4=10.210.2.2
C6=fd00:210:1::2 R6C=fd00:210:1::1 R6S=fd00:210:2::1 S6=fd00:210:2::2
SEGSEND=$BUILD/segsend

need_build "$XDPCT" "$TCPPEER" "$SEGSEND"
lab_begin "$NS_CLI" "$NS_RTR" "$NS_SRV"
lab_add_link "$NS_RTR" "$IF_RC" "$R4C" "$R6C" "$NS_CLI" "$IF_CLI" "$C4" "$C6" || die "client link"
lab_add_link "$NS_RTR" "$IF_RS" "$R4S" "$R6S" "$NS_SRV" "$IF_SR" "$S4" "$S6" || die "server link"
ip -n "$NS_CLI" link set dev "$IF_CLI" xdp obj "$XDP_PASS_OBJ" sec xdp || die "pass-through XDP"
in_cli ip route add default via $R4C && in_cli ip -6 route add default via $R6C &&
	in_srv ip route add default via $R4S && in_srv ip -6 route add default via $R6S ||
	die routes
in_ns "$NS_RTR" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 || die forwarding

LAB_ATTACHED+=("$IF_RC")
in_ns "$NS_RTR" timeout 30 "$XDPCT" attach "$IF_RC" --ports $PORT >"$LAB_TMP/attach.out" 2>&1 ||
	die "attach: $(cat "$LAB_TMP/attach.out")" attach
pass attach
bg_ns "$NS_SRV" "$LAB_TMP/srv.log" "$TCPPEER" serve --port $PORT --backlog 256
bg_ns "$NS_RTR" "$LAB_TMP/rtr.log" "$TCPPEER" serve --port $PORT --backlog 256
wait_port "$NS_SRV" $PORT 5 && wait_port "$NS_RTR" $PORT 5 || die servers
rstat() {
	in_ns "$NS_RTR" timeout 10 "$XDPCT" stats "$IF_RC" -j | json_num "$1"
}

# ---- transit: the server behind the router ----
tx0=$(rstat tx_synack)
nl0=$(rstat pass_not_local)
for fam in 4 6; do
	dst=$S4
	((fam == 6)) && dst=$S6
	ok=0
	for ((i = 0; i < 5; i++)); do
		in_cli timeout 20 "$TCPPEER" connect --addr "$dst" --port $PORT --up 200k --down 200k \
			--timeout 10 >/dev/null 2>&1 && ok=$((ok + 1))
	done
	assert_eq "transit_ipv${fam}_connections" "$ok" 5
done
assert_eq transit_no_synack_forged "$(($(rstat tx_synack) - tx0))" 0
# every transit packet of the client towards the server's port passed as not ours
assert_ge transit_passed_not_local "$(($(rstat pass_not_local) - nl0))" 20
# the connection was the server's own: it saw the SYNs (no cookie on the way)
syns=$(in_srv nstat -az TcpPassiveOpens 2>/dev/null | awk '/TcpPassiveOpens/ { print $2 }')
assert_ge transit_server_saw_syns "${syns:-0}" 10

# ---- the router's own service: cookies as on any host ----
ok=0
for ((i = 0; i < 5; i++)); do
	in_cli timeout 20 "$TCPPEER" connect --addr "$R4C" --port $PORT --up 100k --down 100k \
		--timeout 10 >/dev/null 2>&1 && ok=$((ok + 1))
done
assert_eq router_own_service "$ok" 5
assert_ge router_own_service_cookies "$(($(rstat tx_synack) - tx0))" 5

# ---- sources Linux never answers: dropped, never answered ----
mac=$(link_mac "$NS_RTR" "$IF_RC")
bs0=$(rstat drop_bad_source)
tx1=$(rstat tx_synack)
n=0
for src in 127.0.0.1 0.1.2.3 224.0.0.9 255.255.255.255; do
	in_cli timeout 10 "$SEGSEND" --dev "$IF_CLI" --dmac "$mac" --src $src --dst $R4C \
		--sport 40000 --dport $PORT "S:12345:0" >/dev/null && n=$((n + 1))
done
for src in ::1 ff02::1 ::ffff:10.210.1.2; do
	in_cli timeout 10 "$SEGSEND" --dev "$IF_CLI" --dmac "$mac" --src $src --dst $R6C \
		--sport 40000 --dport $PORT "S:12345:0" >/dev/null && n=$((n + 1))
done
# a broadcast destination MAC, from a normal source
in_cli timeout 10 "$SEGSEND" --dev "$IF_CLI" --dmac ff:ff:ff:ff:ff:ff --src $C4 --dst $R4C \
	--sport 40001 --dport $PORT "S:12345:0" >/dev/null && n=$((n + 1))
((n == 8)) || die "segsend sent $n of 8 frames" martian
martians_counted() { (($(rstat drop_bad_source) - bs0 >= 8)); }
wait_until 2 martians_counted
assert_eq martian_dropped "$(($(rstat drop_bad_source) - bs0))" 8
assert_eq martian_not_answered "$(($(rstat tx_synack) - tx1))" 0

lab_finish
