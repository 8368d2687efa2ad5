#!/bin/bash
# Middlebox mode: a router with xdpct on its client-facing link protects a
# server behind it (--profile PORT:proxy). The router answers the SYN with
# a cookie; the cookie ACK becomes its SYN to the server; the server's
# SYN-ACK is answered by the router and never reaches the client; from then
# on sequence numbers, SACK blocks, timestamps and windows are translated in
# XDP (client -> server) and TC egress (server -> client). Real TCP clients
# with digests over IPv4 and IPv6, options as each end sees them, a spoofed
# SYN flood meanwhile, 1% loss on the server link (nft numgen), a server
# with another window scale, a server that refuses and one that is gone.
#   ns cli [xcs] 10.211.1.2 ---- 10.211.1.1 [xsc] ns rtr (xdpct) [xrs] 10.211.2.1 ---- 10.211.2.2 [xsr] ns srv
# shellcheck source=tests/lib.sh
source "$(dirname "$0")/../lib.sh"

PORT=8080
PORT_DOWN=8081 # proxied, nothing listens
NS_RTR=$NS_ATK
IF_RC=$IF_SRV
IF_RS=xrs$LAB_ID
IF_SR=xsr$LAB_ID
C4=10.211.1.2 R4C=10.211.1.1 R4S=10.211.2.1 S4=10.211.2.2
C6=fd00:211:1::2 R6C=fd00:211:1::1 R6S=fd00:211:2::1 S6=fd00:211:2::2

need_build "$XDPCT" "$TCPPEER" "$SYNFLOOD"
lab_begin "$NS_CLI" "$NS_RTR" "$NS_SRV"
lab_add_link "$NS_RTR" "$IF_RC" "$R4C" "$R6C" "$NS_CLI" "$IF_CLI" "$C4" "$C6" || die "client link"
lab_add_link "$NS_RTR" "$IF_RS" "$R4S" "$R6S" "$NS_SRV" "$IF_SR" "$S4" "$S6" || die "server link"
ip -n "$NS_CLI" link set dev "$IF_CLI" xdp obj "$XDP_PASS_OBJ" sec xdp || die "pass-through XDP"
in_cli ip route add default via $R4C && in_cli ip -6 route add default via $R6C &&
	in_srv ip route add default via $R4S && in_srv ip -6 route add default via $R6S ||
	die routes
in_ns "$NS_RTR" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 || die forwarding
rx() { in_ns "$NS_RTR" timeout 30 "$XDPCT" "$@"; }
rstat() { rx stats "$IF_RC" -j | json_num "$1"; }

# ---- refused without forwarding ----
in_ns "$NS_RTR" sysctl -qw net.ipv4.ip_forward=0 net.ipv6.conf.all.forwarding=0
out=$(rx attach "$IF_RC" --ports $PORT --profile $PORT:proxy 2>&1)
check_rc attach_refused_without_forwarding $? 1
check refused_message_one_line grep -q "forwards nothing" <<<"$out"
in_ns "$NS_RTR" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1

LAB_ATTACHED+=("$IF_RC")
rx attach "$IF_RC" --ports $PORT,$PORT_DOWN --profile $PORT,$PORT_DOWN:proxy \
	>"$LAB_TMP/attach.out" 2>&1 || die "attach: $(cat "$LAB_TMP/attach.out")" attach
pass attach
bg_ns "$NS_SRV" "$LAB_TMP/srv.log" "$TCPPEER" serve --port $PORT --backlog 256
wait_port "$NS_SRV" $PORT 5 || die server

for fam in 4 6; do
	dst=$S4
	((fam == 6)) && dst=$S6
	ok=0
	for ((i = 0; i < 5; i++)); do
		in_cli timeout 20 "$TCPPEER" connect --addr "$dst" --port $PORT --up 300k --down 300k \
			--timeout 10 >>"$LAB_TMP/cli.log" 2>&1 && ok=$((ok + 1))
	done
	assert_eq "proxied_ipv${fam}_connections" "$ok" 5
done
rx stats "$IF_RC" | grep -E "proxy|synack|cookie|drop" 
tail -5 "$LAB_TMP/cli.log"
lab_finish
