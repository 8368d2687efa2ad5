#!/bin/bash
# make demo: a lab with a server, a legit client and an attacker; xdpct
# shields the server; a short spoofed SYN flood runs while legit clients
# keep connecting; the counters are printed live. Under a minute, and the
# lab is removed on any exit.
TEST_NAME=demo
# shellcheck source=tests/lib.sh
source "$(dirname "$0")/../lib.sh"

PORT=8080
FLOOD_COUNT=${FLOOD_COUNT:-150000}
FLOOD_RATE=${FLOOD_RATE:-30000}

if [[ -t 1 ]]; then B=$'\033[1m' N=$'\033[0m'; else B='' N=''; fi
say() { printf '\n%s== %s%s\n' "$B" "$*" "$N"; }
# Counters that are not zero, as `xdpct stats` prints them.
show_stats() {
	in_srv "$XDPCT" stats "$1" | awk 'NR == 1 || $2 != 0'
}

need_build "$XDPCT" "$TCPPEER" "$SYNFLOOD" "$BUILD/mapfill"
say "lab: client ns $NS_CLI, server ns $NS_SRV, attacker ns $NS_ATK"
lab_up attacker
cat <<EOF
  client   $CLI4 [$IF_CLI] ---- [$IF_SRV] $SRV4    server    [$IF_SRVA] $SRVA4 ---- [$IF_ATK] $ATK4   attacker
EOF

say "xdpct attach (both server links, port $PORT)"
for ifc in "$IF_SRV" "$IF_SRVA"; do
	xdpct_attach "$ifc" "$PORT" || die "xdpct attach $ifc failed" attach
done

say "server: tcppeer serve --port $PORT --backlog 4096"
bg_ns "$NS_SRV" "$LAB_TMP/server.log" "$TCPPEER" serve --port "$PORT" --backlog 4096
wait_port "$NS_SRV" "$PORT" 30 || die "server did not start" server

say "client: 3 connections, 1 MB each way, digests checked"
in_cli timeout 30 "$TCPPEER" connect --addr "$SRV4" --port "$PORT" --up 1m --down 1m \
	--count 3 --timeout 10 || die "client transfer failed" transfer
want=$("$TCPPEER" gen --bytes 1048576 | sha256sum | cut -d' ' -f1)
got=$(in_cli curl -sS --max-time 10 "http://$SRV4:$PORT/1048576" | sha256sum | cut -d' ' -f1)
echo "curl 1 MB: sha256 $got $([[ "$got" == "$want" ]] && echo matches || echo MISMATCH)"

say "SYN flood: $FLOOD_COUNT spoofed SYNs at $FLOOD_RATE/s from $NS_ATK, legit clients meanwhile"
DMAC=$(link_mac "$NS_SRV" "$IF_SRVA")
bg_ns "$NS_ATK" "$LAB_TMP/flood.j" "$SYNFLOOD" --dev "$IF_ATK" --dmac "$DMAC" --dst "$SRVA4" \
	--dport "$PORT" --src-net 10.201.0.0/16 --count "$FLOOD_COUNT" --rate "$FLOOD_RATE" --timeout 20
FLOOD_PID=$BG_PID
bg_ns "$NS_CLI" "$LAB_TMP/legit.txt" "$TCPPEER" connect --addr "$SRV4" --port "$PORT" \
	--up 16k --down 64k --count 100 --parallel 2 --interval 0.08 --timeout 10
LEGIT_PID=$BG_PID
for ((i = 1; i <= 15; i++)); do
	sleep 1
	say "t=${i}s  $IF_SRVA (attacker link)"
	show_stats "$IF_SRVA"
	kill -0 "$FLOOD_PID" 2>/dev/null || break
done
wait_pid "$FLOOD_PID" 20
wait_pid "$LEGIT_PID" 30
legit_rc=$?
echo "flood: $(cat "$LAB_TMP/flood.j")"
echo "legit during the flood: $(grep -c ' ok ' "$LAB_TMP/legit.txt") of 100 connections ok (exit $legit_rc)"

say "final: $IF_SRV (client link)"
show_stats "$IF_SRV"
say "final: $IF_SRVA (attacker link)"
show_stats "$IF_SRVA"
echo "flow entries: client link $(flows_count "$IF_SRV"), attacker link $(flows_count "$IF_SRVA")"
echo "server ns TcpExtSyncookiesSent: $(nstat_get "$NS_SRV" TcpExtSyncookiesSent) (the kernel never saw the flood)"

say "detach and remove the lab"
for ifc in "$IF_SRV" "$IF_SRVA"; do
	xdpct_srv detach "$ifc"
done
((legit_rc == 0)) || exit 1
exit 0
