#!/bin/bash
# A full accept queue loses nothing: when the listener's
# accept queue is full the kernel drops the child made from a cookie ACK,
# the client retransmits, and xdpct must hand the flow over again until the
# child exists. Servers with a tiny backlog that do not accept() for a
# while; clients send at once and wait for 1 MB. Every connection must
# complete with both digests right, no RST on the wire, the queue must
# really have overflowed (TcpExtListenOverflows) and TC must have handed
# flows over more than once (tc_handoff > connections).
#
# Each server is stopped (SIGSTOP) before its clients come, and resumed
# once every client's cookie ACK was seen and the queue overflowed: the
# queue is full by construction, not by a race against a timer. Clients
# retransmit at most 1 s apart (tcp_rto_max_ms), so a resumed server gets
# them soon.
# Phases (one server each, own port):
#   held     backlog 2, 20 clients starting 50 ms apart
#   burst    backlog 2, 9 clients at once (their retransmits arrive
#            together: 3 children per round)
#   resumed  backlog 0; a client's 24-byte header is dropped (queue full);
#            its retransmissions are then held back (nft, client side), the
#            server accepts (its queue has room), the client's upload is
#            released and reaches TC while the flow is pending, and only
#            then the header may go again: the child must start at the
#            header, not at the upload. The kernel takes the child's
#            rcv_isn from the packet that carries the reqsk (seq - 1), so
#            only the stream's first segment may be handed over; a later
#            one makes a child that silently skips the bytes before it.
#   slow     backlog 2, resumed with one accept every 50 ms, 40 clients
#            10 ms apart
# shellcheck source=tests/lib.sh
source "$(dirname "$0")/../lib.sh"

PORT_HELD=8080
PORT_BURST=8081
PORT_RESUMED=8082
PORT_SLOW=8083

need_build "$XDPCT" "$TCPPEER"
lab_up

if ! xdpct_attach "$IF_SRV" "$PORT_HELD,$PORT_BURST,$PORT_RESUMED,$PORT_SLOW" \
	>"$LAB_TMP/attach.out" 2>"$LAB_TMP/attach.err"; then
	die "xdpct attach failed: $(head -c 300 "$LAB_TMP/attach.err")" attach
fi
pass attach

srv_lines() { [[ $(grep -c . "$1" 2>/dev/null) -ge $2 ]]; }
require rto_max "tcp_rto_max_ms in the client ns" in_cli sysctl -qw net.ipv4.tcp_rto_max_ms=1000
# counter deltas against BASE (an earlier XSTATS), nothing if unreadable
dx() { diff_num "$(xstat "$1")" "$(json_num "$1" <<<"$base")"; }
# full_queue N: all N cookie ACKs seen, and the queue overflowed
full_queue() {
	stats_snap "$IF_SRV"
	(($(dx cookie_good) >= $1)) && (($(nstat_get "$NS_SRV" TcpExtListenOverflows) > ov0))
}

# phase NAME PORT N TIMEOUT_S "serve options" "connect options" [HOOK]
# HOOK runs once the queue is full, instead of resuming the server at once
phase() {
	local name=$1 port=$2 n=$3 t=$4 sopts=$5 copts=$6 hook=${7:-} rc cap=0 srv cli
	local po0 line seed d bad k
	srv=$LAB_TMP/$name.srv.j
	cli=$LAB_TMP/$name.cli.j
	# shellcheck disable=SC2086 # option lists
	bg_ns "$NS_SRV" "$LAB_TMP/$name.srv.log" "$TCPPEER" serve --port "$port" --info "$srv" \
		--timeout 30 $sopts
	local spid=$BG_PID
	SPID=$spid
	wait_port "$NS_SRV" "$port" 30 || die "tcppeer serve did not listen: $(head -c 200 "$LAB_TMP/$name.srv.log")" "$name.server"
	kill -STOP "$spid"
	ov0=$(nstat_get "$NS_SRV" TcpExtListenOverflows)
	po0=$(nstat_get "$NS_SRV" TcpPassiveOpens)
	stats_snap "$IF_SRV"
	base=$XSTATS
	# RSTs either way: taps see what the server stack sends and what
	# XDP passes in
	local cap_why=
	cap_start "$NS_SRV" "$IF_SRV" "tcp port $port and (tcp[13] & 4 != 0)" && cap=1 || cap_why=$CAP_WHY

	local t0=$SECONDS
	# shellcheck disable=SC2086
	bg_ns "$NS_CLI" "$LAB_TMP/$name.cli.err" sh -c 'out=$1; shift; exec "$@" >"$out"' sh "$cli" \
		timeout "$t" "$TCPPEER" connect --addr "$SRV4" --port "$port" --count "$n" \
		--parallel "$n" --timeout 30 --json $copts
	local cpid=$BG_PID
	if ! wait_until 60 full_queue "$n"; then
		fail "$name.queue_full" "cookie ACKs $(dx cookie_good)/$n, overflows $(diff_num "$(nstat_get "$NS_SRV" TcpExtListenOverflows)" "$ov0")"
	fi
	if [[ -n "$hook" ]]; then "$hook"; else kill -CONT "$spid"; fi
	kill -CONT "$spid"
	wait_pid "$cpid" "$((t + 10))"
	rc=$?
	local secs=$((SECONDS - t0))
	local n_ok
	n_ok=$(grep -c '"ok":true' "$cli")
	if ((rc == 0 && n_ok == n)); then pass "$name.all_${n}_complete"; else
		fail "$name.all_${n}_complete" "rc $rc after ${secs}s, $n_ok/$n ok: $(grep -v '"ok":true' "$cli" | head -n 2 | cut -c1-200 | tr '\n' ' ')"
	fi
	assert_eq "$name.no_client_reset" "$(grep -ci 'reset' "$cli")" 0
	note "$name: clients done in ${secs}s; total_ms: $(grep -o '"total_ms":[0-9]*' "$cli" | cut -d: -f2 | sort -n | tr '\n' ' ')"

	# the server's side: one good record per connection, same upload digest
	wait_until 30 srv_lines "$srv" "$n"
	assert_eq "$name.server_records_ok" "$(grep -c '"ok":true' "$srv" 2>/dev/null)" "$n"
	grep -v '"ok":true' "$srv" 2>/dev/null | head -n 2 | while IFS= read -r line; do
		note "$name: server: ${line:0:200}"
	done
	bad=0
	while IFS= read -r line; do
		seed=$(json_num seed <<<"$line")
		d=$(json_val up_digest <<<"$line")
		grep -q "\"seed\":$seed,.*\"up_digest\":\"$d\"" "$srv" 2>/dev/null || bad=$((bad + 1))
	done <"$cli"
	assert_eq "$name.upload_digests_match_server" "$bad" 0

	if ((cap)) && cap_stop; then
		assert_eq "$name.no_rst_on_wire" "$(grep -c 'Flags \[R' "$CAP_OUT")" 0
		grep -m 2 'Flags \[R' "$CAP_OUT" | while IFS= read -r line; do note "$name: $line"; done
	else
		# a capture that did not start or did not finish proves nothing
		fail "$name.no_rst_on_wire" "${cap_why:-$CAP_WHY}"
	fi

	# the queue overflowed, and TC handed flows over again
	assert_gt "$name.listen_overflows" "$(diff_num "$(nstat_get "$NS_SRV" TcpExtListenOverflows)" "$ov0")" 0
	assert_eq "$name.one_child_per_connection" "$(diff_num "$(nstat_get "$NS_SRV" TcpPassiveOpens)" "$po0")" "$n"
	stats_snap "$IF_SRV" || fail "$name.stats" "xdpct stats failed: $(head -c 200 "$LAB_TMP/stats.err")"
	note "$name: cookie_good $(dx cookie_good) tc_meta $(dx tc_meta) tc_handoff $(dx tc_handoff) tc_handoff_dup $(dx tc_handoff_dup) tc_drop_not_first $(dx tc_drop_not_first) tc_child_seen $(dx tc_child_seen) overflows $(diff_num "$(nstat_get "$NS_SRV" TcpExtListenOverflows)" "$ov0")"
	assert_gt "$name.tc_handoff_gt_connections" "$(dx tc_handoff)" "$n"
	assert_eq "$name.cookie_good" "$(dx cookie_good)" "$n"
	for k in tc_handoff_fail tc_no_listener drop_cookie_bad drop_cookie_stale drop_error; do
		assert_eq "$name.$k" "$(dx $k)" 0
	done
	stop_pid "$spid"
}

phase held "$PORT_HELD" 20 90 "--backlog 2" "--up 64k --down 1m --stagger 0.05"
phase burst "$PORT_BURST" 9 90 "--backlog 2" "--up 64k --down 1m"

# resumed: the first client's child fills the queue (backlog 0), the
# second's header is dropped; then, in order, each step waiting on its event
HOLD_RULE="table inet xdpct_acceptq { chain out { type filter hook output priority 0; tcp dport $PORT_RESUMED ip length 76 drop; }; }"
listener_queue_empty() {
	[[ "$(in_srv ss -Hltn "sport = :$PORT_RESUMED" | awk '{print $2}')" == 0 ]]
}
not_first_dropped() { stats_snap "$IF_SRV"; (($(dx tc_drop_not_first) > NF0)); }
resume_in_order() {
	# the second client's header (20 + 32 + 24 bytes) is held back from now
	require resumed.hold_header "nft in the client ns" in_cli nft "$HOLD_RULE"
	kill -CONT "$SPID"
	wait_until 30 listener_queue_empty ||
		fail resumed.server_accepted "the listener's queue did not drain"
	stats_snap "$IF_SRV"
	NF0=$(dx tc_drop_not_first)
	touch "$LAB_TMP/resumed.release" # the uploads go
	wait_until 30 not_first_dropped
	assert_gt resumed.upload_dropped_while_pending "$(dx tc_drop_not_first)" "$NF0"
	in_cli nft delete table inet xdpct_acceptq # the header may go again
}
phase resumed "$PORT_RESUMED" 2 90 "--backlog 0" \
	"--up 16k --down 16k --stagger 0.1 --hold $LAB_TMP/resumed.release" resume_in_order
phase slow "$PORT_SLOW" 40 90 "--backlog 2 --accept-interval 0.05" "--up 64k --down 1m --stagger 0.01"

lab_finish
