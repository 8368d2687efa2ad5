#!/bin/bash
# Containers behind DNAT (`--profile PORTS:nat`, `xdpct nat add`): a
# Docker-like lab built from ip, nft and veth, no Docker needed.
#   ns cli [xcs] 10.200.1.2 ---- 10.200.1.1 [xsc] ns host (xdpct on xsc)
#     ns host [xbr: bridge 10.88.0.1, fd88::1] -- [xvc] ---- [eth0] ns ctr 10.88.0.2, fd88::2
#     ns host [xvp 10.89.0.1, fd89::1] ---------------------- [eth0] ns pod 10.89.0.2, fd89::2
# nftables in the host: tcp dport 8080 -> ctr :80 (bridge, as Docker
# publishes a port), 8081 -> pod :81 (plain routed veth, hostPort/CNI
# portmap style), IPv4 and IPv6; no masquerade (the servers answer by
# their default routes through the host).
# Phases:
#  1. no xdpct: the lab works (proves the lab, and that the SYN counters
#     count)
#  2. --ports 8080,8081 without the nat profile: today's behaviour, the
#     cookie ACK finds no listener in the host (tc_no_listener), connections
#     fail
#  3. --profile 8080,8081:nat and `nat add` for both namespaces: CLI errors
#     first (one line, non-zero, nothing attached; an unknown namespace or
#     device, IFACE not attached, several devices without --dev,
#     nf_conntrack_tcp_loose=0); the handover programs use the
#     attachment's own maps; then real clients, 1 MB
#     each way with digests, through both published ports and both
#     families while a spoofed SYN flood runs; both ends' TCP options as
#     the client offered; no SYN reaches any stack (nft counters in the
#     host, container and pod; kernel cookie counters); the nat_* stats;
#     the host's flow (client <-> host:8080, the pre-DNAT tuple) tracked
#     through the close
#  4. nat del of the pod: pod connections fail, the container's work;
#     detach removes every attachment and pin; the lab works again
# The flood comes from the client namespace on the client link, from
# random sources in 10.201.0.0/16 and fd00:201::/64 that the host routes
# into a blackhole: XDP_TX sends its SYN-ACKs back on that link, where the
# client's kernel drops them.
# shellcheck source=tests/lib.sh
source "$(dirname "$0")/../lib.sh"

P_CTR=8080 # published -> container :80 (bridge)
P_POD=8081 # published -> pod :81 (routed veth)
P_Q=8082   # published -> container :82, a listener with a tiny backlog
S_CTR=80
S_POD=81
S_Q=82
NS_HOST=$NS_SRV # xdpct attaches to the host's client link ($IF_SRV)
NS_CTR=$NS_SRV2 # lib.sh's names: tests/run sweeps them after a hard kill
NS_POD=$NS_ATK
IF_BR=xbr$LAB_ID  # the host's bridge
IF_HC=xvc$LAB_ID  # host end of the container's veth (in the bridge)
IF_HP=xvp$LAB_ID  # host end of the pod's veth
IF_IN=eth0        # the container's and the pod's own end, as Docker and CNI name it
BR4=10.88.0.1 CTR4=10.88.0.2 BR6=fd88::1 CTR6=fd88::2
HP4=10.89.0.1 POD4=10.89.0.2 HP6=fd89::1 POD6=fd89::2
FLOOD_NET4=10.201.0.0/16
FLOOD_NET6=fd00:201::/64
FLOOD_RATE4=${FLOOD_RATE4:-4000} # SYNs/s
FLOOD_RATE6=${FLOOD_RATE6:-2000}
FLOOD_S=${FLOOD_S:-12} # long enough to cover the clients
N_CLI=${N_CLI:-10}     # clients per published port and family
BYTES=${BYTES:-1M}     # each way, per client

need_build "$XDPCT" "$TCPPEER" "$SYNFLOOD" "$BUILD/tcxprogs" "$BUILD/mapfill"
command -v nft >/dev/null || die "nft missing (make deps)" setup

# ---- cleanup: lab_down, then the pin directories of our namespaces ----
NS_PINS=() # $PIN_ROOT/netns:COOKIE of host, ctr, pod (unique to them)
ctr_down() {
	local d
	lab_down
	for d in "${NS_PINS[@]}"; do
		[[ "$d" == "$PIN_ROOT"/netns:* && -d "$d" ]] && rm -rf "$d"
	done
	return 0
}

# ---- the lab ----
lab_up
trap ctr_down EXIT
for ns in "$NS_CTR" "$NS_POD"; do
	ip netns add "$ns" || die "ip netns add $ns" setup
	LAB_NS+=("$ns")
	in_ns "$ns" ip link set dev lo up || die "lo up in $ns" setup
done
for ns in "$NS_HOST" "$NS_CTR" "$NS_POD"; do
	d=$(in_ns "$ns" "$XDPCT" pin-dir "$IF_IN") || die "xdpct pin-dir in $ns" setup
	NS_PINS+=("${d%/*}")
done
note "pin directories of the lab's namespaces: ${NS_PINS[*]}"
H() { in_ns "$NS_HOST" "$@"; }
setup_lab() {
	# bridge and the container's veth (Docker's docker0 + vethXXX / eth0)
	H ip link add "$IF_BR" type bridge &&
		H ip addr add $BR4/24 dev "$IF_BR" &&
		H ip addr add $BR6/64 dev "$IF_BR" nodad &&
		H ip link set dev "$IF_BR" up &&
		ip link add "$IF_HC" netns "$NS_HOST" type veth peer name "$IF_IN" netns "$NS_CTR" &&
		H ip link set dev "$IF_HC" master "$IF_BR" &&
		H ip link set dev "$IF_HC" up &&
		in_ns "$NS_CTR" ip addr add $CTR4/24 dev "$IF_IN" &&
		in_ns "$NS_CTR" ip addr add $CTR6/64 dev "$IF_IN" nodad &&
		in_ns "$NS_CTR" ip link set dev "$IF_IN" up &&
		in_ns "$NS_CTR" ip route add default via $BR4 &&
		in_ns "$NS_CTR" ip -6 route add default via $BR6 || return 1
	# the pod: a routed veth, no bridge
	lab_add_link "$NS_HOST" "$IF_HP" $HP4 $HP6 "$NS_POD" "$IF_IN" $POD4 $POD6 &&
		in_ns "$NS_POD" ip route add default via $HP4 &&
		in_ns "$NS_POD" ip -6 route add default via $HP6 || return 1
	# routing in the host; the flood's sources go nowhere
	H sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 &&
		H ip route add blackhole $FLOOD_NET4 &&
		H ip -6 route add blackhole $FLOOD_NET6 || return 1
	# the published ports; counters of SYNs (SYN set, ACK clear) at every
	# stack's first hook, and of all TCP segments to the servers (to show
	# that the counters see traffic)
	H nft -f - <<EOF || return 1
table ip xct_nat {
	chain pre {
		type nat hook prerouting priority dstnat; policy accept;
		iifname "$IF_SRV" tcp dport $P_CTR dnat to $CTR4:$S_CTR
		iifname "$IF_SRV" tcp dport $P_POD dnat to $POD4:$S_POD
		iifname "$IF_SRV" tcp dport $P_Q dnat to $CTR4:$S_Q
	}
}
table ip6 xct_nat {
	chain pre {
		type nat hook prerouting priority dstnat; policy accept;
		iifname "$IF_SRV" tcp dport $P_CTR dnat to [$CTR6]:$S_CTR
		iifname "$IF_SRV" tcp dport $P_POD dnat to [$POD6]:$S_POD
	}
}
table inet xct_count {
	counter synonly { }
	counter fwdsyn { }
	chain pre {
		type filter hook prerouting priority -300; policy accept;
		tcp flags & (syn | ack) == syn counter name "synonly"
	}
	chain forward_count {
		type filter hook forward priority 0; policy accept;
		tcp flags & (syn | ack) == syn counter name "fwdsyn"
	}
}
EOF
	local ns
	for ns in "$NS_CTR" "$NS_POD"; do
		in_ns "$ns" nft -f - <<EOF || return 1
table inet xct_count {
	counter synonly { }
	counter segs { }
	chain pre {
		type filter hook prerouting priority -300; policy accept;
		tcp flags & (syn | ack) == syn counter name "synonly"
		tcp dport { $S_CTR, $S_POD } counter name "segs"
	}
}
EOF
	done
	# the design's assumption (and the default): conntrack picks up a
	# connection from its first ACK
	H sysctl -qw net.netfilter.nf_conntrack_tcp_loose=1
}
require lab "building the lab failed" setup_lab
in_cli sh -c 'echo 1 > /proc/sys/net/ipv4/tcp_ecn' # the client asks for ECN
# and keeps asking on a retransmitted SYN (Linux's default fallback drops
# ECE|CWR from it, so one lost SYN would read as ECN not negotiated)
in_cli sh -c 'echo 0 > /proc/sys/net/ipv4/tcp_ecn_fallback'

bg_ns "$NS_CTR" "$LAB_TMP/ctr.log" "$TCPPEER" serve --port $S_CTR --backlog 1024 --timeout 60 \
	--info "$LAB_TMP/ctr.j"
bg_ns "$NS_POD" "$LAB_TMP/pod.log" "$TCPPEER" serve --port $S_POD --backlog 1024 --timeout 60 \
	--info "$LAB_TMP/pod.j"
POD_PID=$BG_PID # a process in the pod: `nat add --netns PID`
wait_port "$NS_CTR" $S_CTR 10 && wait_port "$NS_POD" $S_POD 10 || die "servers did not listen" servers

# ---- helpers ----
X() { in_ns "$NS_HOST" timeout 30 "$XDPCT" "$@"; }
# nft_cnt NS NAME: packets of the named counter in NS's inet xct_count
nft_cnt() {
	in_ns "$1" nft list counter inet xct_count "$2" 2>/dev/null |
		grep -o 'packets [0-9]*' | head -n 1 | grep -o '[0-9]*'
}
# syn_counts: "host fwd ctr pod" SYN counters
syn_counts() {
	echo "$(nft_cnt "$NS_HOST" synonly) $(nft_cnt "$NS_HOST" fwdsyn) $(nft_cnt "$NS_CTR" synonly) $(nft_cnt "$NS_POD" synonly)"
}
addr_of() { # FAMILY: the published address (the host's, on the client link)
	if [[ $1 == 4 ]]; then echo $SRV4; else echo $SRV6; fi
}
cli_of() { if [[ $1 == 4 ]]; then echo $CLI4; else echo $CLI6; fi; }
SEED=1
# conn FAMILY PORT [T]: one connection, 16k each way; its JSON in CONN_OUT
conn() {
	SEED=$((SEED + 1))
	CONN_OUT=$(in_cli timeout 20 "$TCPPEER" connect --addr "$(addr_of "$1")" --port "$2" \
		--up 16k --down 16k --seed $((900000 + SEED)) --timeout "${3:-5}" --json 2>&1)
	[[ "$(json_val ok <<<"$CONN_OUT")" == true ]]
}
# server_rec PORT SEED: the server's record of the connection (waits for it)
server_rec() {
	local f=$LAB_TMP/ctr.j
	[[ $1 == "$P_POD" ]] && f=$LAB_TMP/pod.j
	wait_until 10 grep -q "\"seed\":$2," "$f"
	grep "\"seed\":$2," "$f" | head -n 1
}
ns_stat() { nstat_get "$1" "$2"; }
# resets NS [COUNTER..]: NS's counters of connections reset or aborted,
# summed (default: those of its own connections; TcpOutRsts also counts
# the kernel's answers to segments of connections already closed)
resets() {
	local n=0 c v cs=("${@:2}")
	((${#cs[@]})) || cs=(TcpEstabResets TcpExtTCPAbortOnData TcpExtTCPAbortOnClose)
	for c in "${cs[@]}"; do
		v=$(nstat_get "$1" "$c")
		isnum "$v" || return 1
		n=$((n + v))
	done
	echo $n
}
st() { stats_snap "$IF_SRV" && xstat "$1"; }
# handover NS: the programs on the namespace's $IF_IN ingress (TCX or tc)
handover_progs() {
	in_ns "$1" "$BUILD/tcxprogs" "$IF_IN" ingress 2>&1
	in_ns "$1" tc filter show dev "$IF_IN" ingress 2>/dev/null
}

# ==== 1. the lab, no xdpct ====
read -ra syn0 <<<"$(syn_counts)"
for fam in 4 6; do
	for port in $P_CTR $P_POD; do
		if conn $fam $port; then
			rec=$(server_rec $port $((900000 + SEED)))
			# the server sees the client's own address (DNAT only)
			if [[ "$(json_val peer <<<"$rec")" == "$(cli_of $fam)" ]]; then
				pass "baseline_ipv${fam}_$port"
			else
				fail "baseline_ipv${fam}_$port" "server record: ${rec:-none}"
			fi
		else
			fail "baseline_ipv${fam}_$port" "$CONN_OUT"
		fi
	done
done
read -ra syn1 <<<"$(syn_counts)"
# the counters count: 4 SYNs in the host, 2 forwarded to each server
assert_ge baseline_counts_host_syns "$(diff_num "${syn1[0]}" "${syn0[0]}")" 4
assert_ge baseline_counts_forwarded_syns "$(diff_num "${syn1[1]}" "${syn0[1]}")" 4
assert_ge baseline_counts_ctr_syns "$(diff_num "${syn1[2]}" "${syn0[2]}")" 2
assert_ge baseline_counts_pod_syns "$(diff_num "${syn1[3]}" "${syn0[3]}")" 2

# ==== 2. protected, no nat profile: today's behaviour ====
xdpct_attach "$IF_SRV" $P_CTR,$P_POD >"$LAB_TMP/attach.out" 2>&1 ||
	die "attach: $(cat "$LAB_TMP/attach.out")" attach
pass attach_without_nat
stats_snap "$IF_SRV"
S0=$XSTATS
read -ra syn0 <<<"$(syn_counts)"
for fam in 4 6; do
	for port in $P_CTR $P_POD; do
		if conn $fam $port 3; then
			fail "no_nat_ipv${fam}_${port}_fails" "the connection went through: $CONN_OUT"
		else
			pass "no_nat_ipv${fam}_${port}_fails"
		fi
	done
done
stats_snap "$IF_SRV"
d() { diff_num "$(xstat "$1")" "$(json_num "$1" <<<"$S0")"; } # counter since S0
assert_ge no_nat_synack "$(d tx_synack)" 4
assert_ge no_nat_tc_no_listener "$(d tc_no_listener)" 4
read -ra syn1 <<<"$(syn_counts)"
assert_eq no_nat_no_syn_in_ctr "$(diff_num "${syn1[2]}" "${syn0[2]}")" 0
assert_eq no_nat_no_syn_in_pod "$(diff_num "${syn1[3]}" "${syn0[3]}")" 0

# ==== 3. the nat profile ====
out=$(X attach "$IF_SRV" --ports $P_CTR,$P_POD,$P_Q --profile $P_CTR,$P_POD,$P_Q:nat 2>&1) ||
	die "attach with the nat profile: $out" attach_nat
pass attach_nat_profile
X status "$IF_SRV" | grep -q "profiles .*nat" && pass status_profile_nat ||
	fail status_profile_nat "$(X status "$IF_SRV" | grep profiles)"

# -- errors: one line, non-zero exit, nothing attached --
err_case() { # NAME ARGS..
	local name=$1 out rc
	shift
	out=$(X "$@" 2>&1)
	rc=$?
	if [[ $rc -ne 0 && $(wc -l <<<"$out") -eq 1 && -n "$out" ]]; then pass "$name"; else
		fail "$name" "rc $rc: $out"
	fi
}
err_case err_unknown_netns nat add "$IF_SRV" --netns "xct_none_$LAB_ID"
err_case err_unknown_dev nat add "$IF_SRV" --netns "$NS_CTR" --dev "nodev$LAB_ID"
err_case err_iface_not_attached nat add "$IF_HC" --netns "$NS_CTR"
in_ns "$NS_CTR" ip link add "xda$LAB_ID" type veth peer name "xdb$LAB_ID" || die "second device in $NS_CTR" setup
err_case err_several_devices_no_dev nat add "$IF_SRV" --netns "$NS_CTR"
in_ns "$NS_CTR" ip link del "xda$LAB_ID"
# conntrack that does not take up a connection from its first ACK: DNAT
# would never apply to a cookie ACK
H sysctl -qw net.netfilter.nf_conntrack_tcp_loose=0
err_case err_conntrack_not_loose nat add "$IF_SRV" --netns "$NS_CTR"
H sysctl -qw net.netfilter.nf_conntrack_tcp_loose=1 || die "nf_conntrack_tcp_loose back to 1" setup
out=$(X nat list "$IF_SRV" 2>&1)
rc=$?
if [[ $rc -eq 0 && -z "$(grep -v '^#' <<<"$out" | grep "$IF_IN")" ]]; then
	pass err_nothing_listed
else
	fail err_nothing_listed "rc $rc: $out"
fi
assert_empty err_nothing_attached_ctr "$(handover_progs "$NS_CTR")"

# -- nat add: the container by name and device, the pod by PID (its only device) --
# pins outside xdpct's directory before (nat add must make none)
stray_pins() { find "$BPFFS" -mindepth 1 -path "$PIN_ROOT" -prune -o -print 2>/dev/null | sort; }
STRAY0=$(stray_pins)
out=$(X nat add "$IF_SRV" --netns "$NS_CTR" --dev "$IF_IN" 2>&1) || die "nat add $NS_CTR: $out" nat_add_ctr
pass nat_add_ctr
out=$(X nat add "$IF_SRV" --netns "$POD_PID" 2>&1) || die "nat add --netns $POD_PID (pod): $out" nat_add_pod
pass nat_add_pod_by_pid
[[ -n "$(handover_progs "$NS_CTR")" ]] && pass handover_attached_ctr || fail handover_attached_ctr "nothing on $IF_IN ingress in $NS_CTR"
[[ -n "$(handover_progs "$NS_POD")" ]] && pass handover_attached_pod || fail handover_attached_pod "nothing on $IF_IN ingress in $NS_POD"
# the handover programs use this attachment's maps (not those of another
# attachment, nor maps pinned elsewhere), besides each its own clock
# reading (xdpct_clock, per CPU, not pinned)
want_maps=$(for m in xdpct_handoff xdpct_stats; do
	bpftool -j map show pinned "$(pin_of "$IF_SRV")/$m" 2>/dev/null | json_num id
done | sort -n | tr '\n' ' ')
for ns in "$NS_CTR" "$NS_POD"; do
	w=ctr
	[[ $ns == "$NS_POD" ]] && w=pod
	got_maps=$(for p in $(in_ns "$ns" "$BUILD/tcxprogs" "$IF_IN" ingress 2>/dev/null); do
		for m in $(bpftool -j prog show id "$p" 2>/dev/null | grep -o '"map_ids":\[[0-9,]*\]' | grep -o '[0-9][0-9]*'); do
			[[ $(bpftool -j map show id "$m" 2>/dev/null | json_val name) == xdpct_clock ]] || echo "$m"
		done
	done | sort -n | tr '\n' ' ')
	assert_eq "handover_uses_attachment_maps_$w" "$got_maps" "$want_maps"
done
out=$(X nat list "$IF_SRV" 2>&1)
n=$(grep -c "$IF_IN" <<<"$out")
assert_eq nat_list_two "$n" 2
note "nat list: $(tr '\n' '|' <<<"$out")"
out=$(X nat list "$IF_SRV" -j 2>&1)
n=$(grep -o "\"$IF_IN\"" <<<"$out" | wc -l)
if [[ "$out" == \[* ]] && ((n == 2)); then pass nat_list_json_two; else fail nat_list_json_two "$out"; fi
out=$(X status "$IF_SRV" 2>&1)
n=$(grep -o "$IF_IN" <<<"$out" | wc -l)
assert_ge status_shows_nat "$n" 2

# -- real clients through both ports and families, while a SYN flood runs --
DMAC=$(link_mac "$NS_HOST" "$IF_SRV")
[[ -n "$DMAC" ]] || die "no MAC for $IF_SRV" setup
stats_snap "$IF_SRV"
S0=$XSTATS
read -ra syn0 <<<"$(syn_counts)"
r0=() o0=()
cr0=$(resets "$NS_CLI" TcpEstabResets)
for ns in "$NS_HOST" "$NS_CTR" "$NS_POD"; do
	r0+=("$(resets "$ns")")
	o0+=("$(resets "$ns" TcpOutRsts)")
	in_ns "$ns" nstat -asz >"$LAB_TMP/nstat0.$ns"
	# what a reset was, should one come (a rare one in CI: being chased)
	# (tcp[] reads IPv4 only: IPv6's flags byte is ip6[53], no extension headers)
	bg_ns "$ns" /dev/null tcpdump -i any -nn -U -w "$LAB_TMP/rst.$ns.pcap" \
		'(ip and tcp[tcpflags] & tcp-rst != 0) or (ip6 and ip6[6] == 6 and ip6[53] & 4 != 0)'
done
h_ck0=$(ns_stat "$NS_HOST" TcpExtSyncookiesSent) h_lo0=$(ns_stat "$NS_HOST" TcpExtListenOverflows)
drop0=$(link_tx_dropped "$NS_CLI" "$IF_CLI")
bg_ns "$NS_CLI" "$LAB_TMP/flood4.j" "$SYNFLOOD" --dev "$IF_CLI" --dmac "$DMAC" --dst $SRV4 \
	--dport $P_CTR --src-net $FLOOD_NET4 --mode syn --count $((FLOOD_RATE4 * FLOOD_S)) \
	--rate "$FLOOD_RATE4" --timeout $((FLOOD_S + 20)) --seed $$
F4=$BG_PID
bg_ns "$NS_CLI" "$LAB_TMP/flood6.j" "$SYNFLOOD" --dev "$IF_CLI" --dmac "$DMAC" --dst $SRV6 \
	--dport $P_CTR --src-net $FLOOD_NET6 --mode syn --count $((FLOOD_RATE6 * FLOOD_S)) \
	--rate "$FLOOD_RATE6" --timeout $((FLOOD_S + 20)) --seed $$
F6=$BG_PID
flood_seen() {
	local n
	n=$(diff_num "$(st syn_seen)" "$(json_num syn_seen <<<"$S0")")
	isnum "$n" && ((n > 1000))
}
wait_until 10 flood_seen || fail flood_started "no flood SYNs counted in 10 s"
running_at_start=0
kill -0 $F4 2>/dev/null && kill -0 $F6 2>/dev/null && running_at_start=1
GROUPS_=()
G_PIDS=()
gseed=100000
for fam in 4 6; do
	for port in $P_CTR $P_POD; do
		g=ipv${fam}_$port
		GROUPS_+=("$g")
		gseed=$((gseed + 1000))
		nsenter --net="/run/netns/$NS_CLI" -- timeout 60 "$TCPPEER" connect --addr "$(addr_of $fam)" \
			--port $port --up "$BYTES" --down "$BYTES" --count "$N_CLI" --parallel 5 \
			--seed $gseed --timeout 20 --json >"$LAB_TMP/$g.j" 2>"$LAB_TMP/$g.err" &
		G_PIDS+=($!)
		LAB_PIDS+=($!)
	done
done
for i in "${!G_PIDS[@]}"; do
	wait_pid "${G_PIDS[$i]}" 70
	echo $? >"$LAB_TMP/${GROUPS_[$i]}.rc"
done
running_at_end=0
kill -0 $F4 2>/dev/null && kill -0 $F6 2>/dev/null && running_at_end=1
assert_eq flood_overlapped_clients "$running_at_start$running_at_end" 11
N_TOTAL=0
for g in "${GROUPS_[@]}"; do
	nok=$(grep -c '"ok":true' "$LAB_TMP/$g.j")
	N_TOTAL=$((N_TOTAL + N_CLI))
	if [[ "$(cat "$LAB_TMP/$g.rc")" == 0 && "$nok" == "$N_CLI" ]]; then
		pass "clients_${g}_${N_CLI}_digests_ok"
	else
		fail "clients_${g}_${N_CLI}_digests_ok" "rc $(cat "$LAB_TMP/$g.rc"), $nok/$N_CLI ok: $(grep -v '"ok":true' "$LAB_TMP/$g.j" | head -n 2) $(head -c 300 "$LAB_TMP/$g.err")"
	fi
done
note "connect_ms max: $(grep -ho '"connect_ms":[0-9.]*' "$LAB_TMP"/ipv*_80*.j | cut -d: -f2 | sort -n | tail -n 1), total_ms max: $(grep -ho '"total_ms":[0-9.]*' "$LAB_TMP"/ipv*_80*.j | cut -d: -f2 | sort -n | tail -n 1)"

# -- options on both ends: as the client offered, the same on both sides --
WS_CLI=$(expected_wscale "$NS_CLI")
for g in "${GROUPS_[@]}"; do
	fam=${g:3:1} port=${g#*_} bad='' n=0
	mss=1448
	((fam == 6)) && mss=1428 # 1500 - headers - 12 (timestamps)
	while IFS= read -r c; do
		[[ -n "$c" ]] || continue
		seed=$(json_num seed <<<"$c")
		s=$(server_rec "$port" "$seed")
		n=$((n + 1))
		if [[ "$(json_val ok <<<"$s")" != true ]]; then
			bad+="seed $seed: server record ${s:-none}; "
			continue
		fi
		for k in ts sack wscale ecn; do
			[[ "$(json_val $k <<<"$c")" == true ]] || bad+="seed $seed: client $k=$(json_val $k <<<"$c"); "
			[[ "$(json_val $k <<<"$s")" == true ]] || bad+="seed $seed: server $k=$(json_val $k <<<"$s"); "
		done
		[[ "$(json_num snd_mss <<<"$c")" == "$mss" ]] || bad+="seed $seed: client snd_mss=$(json_num snd_mss <<<"$c"); "
		[[ "$(json_num snd_mss <<<"$s")" == "$mss" ]] || bad+="seed $seed: server snd_mss=$(json_num snd_mss <<<"$s"); "
		# the server sends with the shift the client offered; the client
		# with the one the server's end announced
		[[ "$(json_num snd_wscale <<<"$s")" == "$WS_CLI" && "$(json_num rcv_wscale <<<"$c")" == "$WS_CLI" ]] ||
			bad+="seed $seed: client offered $(json_num rcv_wscale <<<"$c") (want $WS_CLI), server sends $(json_num snd_wscale <<<"$s"); "
		[[ "$(json_num snd_wscale <<<"$c")" == "$(json_num rcv_wscale <<<"$s")" ]] ||
			bad+="seed $seed: client sends shift $(json_num snd_wscale <<<"$c"), server receives $(json_num rcv_wscale <<<"$s"); "
		[[ "$(json_val peer <<<"$s")" == "$(cli_of "$fam")" ]] || bad+="seed $seed: server peer $(json_val peer <<<"$s"); "
	done < <(grep '"ok":true' "$LAB_TMP/$g.j")
	if ((n == 0)); then
		fail "options_$g" "no connection to check"
	elif [[ -z "$bad" ]]; then
		pass "options_$g"
	else
		fail "options_$g" "$(head -c 800 <<<"$bad")"
	fi
done
note "client: $(grep -m1 -o '"ts".*' "$LAB_TMP/ipv4_$P_CTR.j")"
note "clients with retransmissions: $(grep -h '"ok":true' "$LAB_TMP"/ipv*_80*.j | grep -vc '"retrans":0}')"

wait_pid $F4 $((FLOOD_S + 25)) || fail flood4_finished "synflood: $(head -c 200 "$LAB_TMP/flood4.j")"
wait_pid $F6 $((FLOOD_S + 25)) || fail flood6_finished "synflood: $(head -c 200 "$LAB_TMP/flood6.j")"
sent4=$(json_num sent <"$LAB_TMP/flood4.j") sent6=$(json_num sent <"$LAB_TMP/flood6.j")
sent=$((${sent4:-0} + ${sent6:-0}))
lost=$(diff_num "$(link_tx_dropped "$NS_CLI" "$IF_CLI")" "$drop0")
note "flood: v4 $(cat "$LAB_TMP/flood4.j"), v6 $(cat "$LAB_TMP/flood6.j"); lost in the veth ring: $lost"
assert_ge flood_sent "$sent" $(((FLOOD_RATE4 + FLOOD_RATE6) * FLOOD_S * 9 / 10))

# -- no SYN reached any stack --
read -ra syn1 <<<"$(syn_counts)"
assert_eq no_syn_host_stack "$(diff_num "${syn1[0]}" "${syn0[0]}")" 0
assert_eq no_syn_forwarded "$(diff_num "${syn1[1]}" "${syn0[1]}")" 0
assert_eq no_syn_ctr_stack "$(diff_num "${syn1[2]}" "${syn0[2]}")" 0
assert_eq no_syn_pod_stack "$(diff_num "${syn1[3]}" "${syn0[3]}")" 0
for ns in "$NS_CTR" "$NS_POD"; do
	w=ctr
	[[ $ns == "$NS_POD" ]] && w=pod
	assert_eq "no_kernel_cookies_$w" "$(ns_stat "$ns" TcpExtSyncookiesSent)" 0
	assert_eq "no_listen_overflow_$w" "$(ns_stat "$ns" TcpExtListenOverflows)" 0
done
assert_eq no_kernel_cookies_host "$(diff_num "$(ns_stat "$NS_HOST" TcpExtSyncookiesSent)" "$h_ck0")" 0
assert_eq no_listen_overflow_host "$(diff_num "$(ns_stat "$NS_HOST" TcpExtListenOverflows)" "$h_lo0")" 0
# no client connection reset (a reset of a client whose segment reached a
# listener without its handover); a reset the servers sent to a late
# duplicate of a client's last ACK (its socket closed, the duplicate
# reordered across the CPUs' backlogs) reaches a TIME_WAIT client: noted
assert_eq no_client_resets "$(diff_num "$(resets "$NS_CLI" TcpEstabResets)" "$cr0")" 0
i=0
for ns in "$NS_HOST" "$NS_CTR" "$NS_POD"; do
	w=(host ctr pod)
	dd=$(diff_num "$(resets "$ns")" "${r0[$i]}")
	assert_eq "no_aborts_${w[$i]}" "$dd" 0
	od=$(diff_num "$(resets "$ns" TcpOutRsts)" "${o0[$i]}")
	if [[ "$dd" != 0 || "$od" != 0 ]]; then
		note "${w[$i]}: $od resets sent"
		in_ns "$ns" nstat -asz >"$LAB_TMP/nstat1.$ns"
		note "${w[$i]}: counters that moved: $(diff "$LAB_TMP/nstat0.$ns" "$LAB_TMP/nstat1.$ns" |
			grep '^>' | grep -i 'rst\|reset\|abort\|drop\|fail\|challenge\|cookie\|listen\|reject' |
			awk '{printf "%s %s, ", $2, $3}')"
		note "${w[$i]}: resets seen: $(tcpdump -nn -r "$LAB_TMP/rst.$ns.pcap" 2>/dev/null | head -n 5 | tr '\n' '|')"
	fi
	i=$((i + 1))
done

# -- xdpct's counters --
stats_snap "$IF_SRV"
note "stats: $(tr -d '\n ' <<<"$XSTATS" | grep -o '"\(nat_[a-z_]*\|tx_synack\|syn_seen\|pass_cookie\|tc_[a-z_]*\)":[0-9]*' | tr '\n' ' ')"
delivered=$(diff_num "$sent" "${lost:-x}")
isnum "$delivered" && delivered=$((delivered + N_TOTAL))
assert_ge flood_answered_in_xdp "$(d tx_synack)" "$delivered"
assert_ge pass_cookie_clients "$(d pass_cookie)" "$N_TOTAL"
assert_ge nat_stored_clients "$(d nat_stored)" "$N_TOTAL"
assert_ge nat_handoff_clients "$(d nat_handoff)" "$N_TOTAL"
assert_eq nat_no_listener_none "$(d nat_no_listener)" 0
assert_eq nat_handoff_fail_none "$(d nat_handoff_fail)" 0
assert_eq tc_no_listener_none "$(d tc_no_listener)" 0
nf=$(flows_count "$IF_SRV")
assert_le flood_no_state "${nf:-x}" $((N_TOTAL + 20))
note "flow entries: $nf for $N_TOTAL clients"

# -- the host's flow, tracked through the close --
# held FAMILY PORT NAME: a connection held open after its header; HELD_PORT
# is the client's port
held() {
	rm -f "$LAB_TMP/release.$3"
	nsenter --net="/run/netns/$NS_CLI" -- timeout 30 "$TCPPEER" connect --addr "$(addr_of "$1")" \
		--port "$2" --up 64k --down 64k --hold "$LAB_TMP/release.$3" --timeout 20 --json \
		>"$LAB_TMP/held.$3.j" 2>&1 &
	HELD_PID=$!
	LAB_PIDS+=("$HELD_PID")
	HELD_FAM=$1 HELD_DPORT=$2 HELD_PORT=
	wait_until 10 held_port_known
}
# the held connection's client port (the only one established to the port)
held_port_known() {
	HELD_PORT=$(in_cli ss -Htn -"$HELD_FAM" state established "( dport = :$HELD_DPORT )" |
		awk '{print $3}' | sed 's/.*://' | grep -x '[0-9]*' | head -n 1)
	[[ -n "$HELD_PORT" ]]
}
# entry PORT SPORT: the conns -j object of the flow from SPORT to PORT
entry() { X conns "$IF_SRV" -j --port "$1" 2>/dev/null | grep "\"sport\":$2,\"dport\":$1[,}]" | head -n 1; }
entry_state() { entry "$1" "$2" | json_val state; }
state_in() { # PORT SPORT STATE...
	local s p=$1 sp=$2
	shift 2
	s=$(entry_state "$p" "$sp")
	[[ " $* " == *" ${s:-GONE} "* ]]
}
for fam in 4 6; do
	for port in $P_CTR $P_POD; do
		[[ $fam == 6 && $port == "$P_POD" ]] && continue
		name=ipv${fam}_$port
		held $fam $port $name
		if [[ -z "$HELD_PORT" ]]; then
			fail "conns_${name}_established" "the held connection did not establish: $(cat "$LAB_TMP/held.$name.j")"
			stop_pid "$HELD_PID"
			continue
		fi
		if wait_until 5 state_in $port "$HELD_PORT" ESTABLISHED; then
			e=$(entry $port "$HELD_PORT")
			# the pre-DNAT tuple: client <-> host:published port
			if [[ "$e" == *"\"orig\":{\"src\":\"$(cli_of $fam)\",\"dst\":\"$(addr_of $fam)\",\"sport\":$HELD_PORT,\"dport\":$port"* ]]; then
				pass "conns_${name}_established"
			else
				fail "conns_${name}_established" "entry: $e"
			fi
		else
			fail "conns_${name}_established" "state '$(entry_state $port "$HELD_PORT")': $(X conns "$IF_SRV" --port $port 2>&1 | head -c 600)"
		fi
		X conns "$IF_SRV" --state established --port $port 2>/dev/null | grep -q "sport=$HELD_PORT dport=$port" &&
			pass "conns_${name}_state_filter" || fail "conns_${name}_state_filter" "$(X conns "$IF_SRV" --port $port 2>&1 | head -c 400)"
		touch "$LAB_TMP/release.$name"
		wait_pid "$HELD_PID" 25
		rc=$?
		check_rc "held_${name}_completes" $rc "$(cat "$LAB_TMP/held.$name.j")"
		if wait_until 5 state_in $port "$HELD_PORT" TIME_WAIT CLOSE GONE; then
			pass "conns_${name}_closed"
			note "$name after the close: $(entry_state $port "$HELD_PORT")"
		else
			fail "conns_${name}_closed" "state '$(entry_state $port "$HELD_PORT")' after the close: $(entry $port "$HELD_PORT" | head -c 400)"
		fi
	done
done
# nothing tracked under the servers' own (post-DNAT) ports
assert_empty conns_no_post_dnat_tuple "$(X conns "$IF_SRV" -j --port $S_CTR 2>/dev/null | grep '{')$(X conns "$IF_SRV" -j --port $S_POD 2>/dev/null | grep '{')"

# every client's child exists: its stored handover went with the child
assert_ge nat_child_seen_clients "$(d nat_child_seen)" "$N_TOTAL"
# entries (the raw key arrays: bpftool's "formatted" repeats each key)
handoffs() { bpftool -j map dump pinned "$(pin_of "$IF_SRV")/xdpct_handoff" 2>/dev/null | grep -o '"key":\[' | wc -l; }
assert_eq handoff_entries_gone "$(handoffs)" 0

# -- a full accept queue in the container: the kernel there drops the
# child of a handed-over ACK, the client resends, and the stored handover
# serves again; a later segment meanwhile is dropped (never handed over:
# the connection would start past the missing bytes) --
Q_N=9
bg_ns "$NS_CTR" "$LAB_TMP/q.log" "$TCPPEER" serve --port $S_Q --backlog 2 --timeout 60 \
	--info "$LAB_TMP/q.j"
Q_PID=$BG_PID
wait_port "$NS_CTR" $S_Q 10 || die "the queue server did not listen" queue_server
kill -STOP "$Q_PID"
stats_snap "$IF_SRV"
S0=$XSTATS
qo0=$(ns_stat "$NS_CTR" TcpExtListenOverflows)
bg_ns "$NS_CLI" "$LAB_TMP/q.err" sh -c 'out=$1; shift; exec "$@" >"$out"' sh "$LAB_TMP/q.cli.j" \
	timeout 60 "$TCPPEER" connect --addr $SRV4 --port $P_Q --count $Q_N --parallel $Q_N \
	--up 64k --down 256k --timeout 40 --json
Q_CLI=$BG_PID
q_overflowed() { (($(diff_num "$(ns_stat "$NS_CTR" TcpExtListenOverflows)" "$qo0") > 0)); }
q_not_first() { stats_snap "$IF_SRV" && (($(d nat_drop_not_first) > 0)); }
wait_until 20 q_overflowed || fail queue_overflowed "no ListenOverflows in the container"
wait_until 20 q_not_first
kill -CONT "$Q_PID"
wait_pid "$Q_CLI" 70
assert_eq queue_all_complete "$(grep -c '"ok":true' "$LAB_TMP/q.cli.j")" $Q_N
bad=0
while IFS= read -r line; do
	seed=$(json_num seed <<<"$line")
	dg=$(json_val up_digest <<<"$line")
	wait_until 10 grep -q "\"seed\":$seed," "$LAB_TMP/q.j"
	grep -q "\"seed\":$seed,.*\"up_digest\":\"$dg\"" "$LAB_TMP/q.j" || bad=$((bad + 1))
done <"$LAB_TMP/q.cli.j"
assert_eq queue_upload_digests_match_server "$bad" 0
stats_snap "$IF_SRV"
note "queue: nat_handoff $(d nat_handoff) nat_drop_not_first $(d nat_drop_not_first) nat_handoff_dup $(d nat_handoff_dup) nat_child_seen $(d nat_child_seen) overflows $(diff_num "$(ns_stat "$NS_CTR" TcpExtListenOverflows)" "$qo0")"
assert_gt queue_handed_over_again "$(d nat_handoff)" $Q_N
assert_gt queue_later_segment_dropped "$(d nat_drop_not_first)" 0
stop_pid "$Q_PID"

# -- nothing listens behind the published port any more: the container's
# kernel resets the handed-over ACK, and its stored handover waits for
# the pending timeout, then an eviction pass removes it --
stats_snap "$IF_SRV"
S0=$XSTATS
if conn 4 $P_Q 3; then fail no_listener_fails "went through: $CONN_OUT"; else pass no_listener_fails; fi
stats_snap "$IF_SRV"
assert_ge no_listener_counted "$(d nat_no_listener)" 1
assert_eq no_listener_handoff_kept "$(handoffs)" 1
sleep 1.2
out=$(X evict "$IF_SRV" --timeout pending=1 -j 2>&1)
assert_eq evict_expires_handoff "$(json_num handoff_expired <<<"$out")" 1
assert_eq evict_handoff_empty "$(handoffs)" 0

# ==== 4. nat del, detach ====
out=$(X nat del "$IF_SRV" --netns "/proc/$POD_PID/ns/net" 2>&1) || fail nat_del_pod "$out"
out=$(X nat list "$IF_SRV" 2>&1)
assert_eq nat_list_one_after_del "$(grep -c "$IF_IN" <<<"$out")" 1
assert_empty nat_del_pod_detached "$(handover_progs "$NS_POD")"
[[ -n "$(handover_progs "$NS_CTR")" ]] && pass nat_del_ctr_kept || fail nat_del_ctr_kept "nothing on $IF_IN ingress in $NS_CTR"
stats_snap "$IF_SRV"
S0=$XSTATS
if conn 4 $P_POD 3; then fail pod_fails_after_del "went through: $CONN_OUT"; else
	pass pod_fails_after_del
	note "pod after nat del: $(json_val error <<<"$CONN_OUT")"
fi
for fam in 4 6; do
	conn $fam $P_CTR && pass "ctr_ipv${fam}_after_pod_del" || fail "ctr_ipv${fam}_after_pod_del" "$CONN_OUT"
done
stats_snap "$IF_SRV"
assert_ge ctr_handoff_after_pod_del "$(d nat_handoff)" 2

out=$(X detach "$IF_SRV" 2>&1) || fail detach "$out"
assert_empty detach_handover_ctr "$(handover_progs "$NS_CTR")"
assert_empty detach_handover_pod "$(handover_progs "$NS_POD")"
left=
for dd in "${NS_PINS[@]}"; do
	[[ -d "$dd" ]] && left+="$(find "$dd" -mindepth 1 2>/dev/null | head -n 5) "
done
assert_empty detach_no_pins "$(tr -s ' ' <<<"$left" | sed 's/^ $//')"
nothing_attached "$NS_HOST" "$IF_SRV" && pass detach_nothing_on_iface || fail detach_nothing_on_iface "$WHY"
assert_empty detach_no_stray_pins "$(comm -13 <(echo "$STRAY0") <(stray_pins) | tr '\n' ' ')"
# without xdpct, the lab works as before
for port in $P_CTR $P_POD; do
	conn 4 $port && pass "after_detach_$port" || fail "after_detach_$port" "$CONN_OUT"
done

lab_finish
