#!/bin/bash
# Fragments and malformed SYNs through the shield, with crafted frames
# (build/fragprobe, a packet socket on the client veth). First without
# xdpct: the server's kernel answers every fragmented shape with a SYN-ACK
# (an IPv6 fragment header followed by destination options then TCP; IPv4
# fragments, even with only 8 bytes of TCP in the first; atomic fragments),
# so a silence later is xdpct's doing. Then with xdpct protecting PORT: a
# first fragment to PORT is dropped (drop_fragment; the later fragment
# passes and the kernel, without its first, never answers), the same to
# OPEN (not protected) passes and the kernel answers; an atomic fragment is
# a whole packet: a cookie SYN-ACK, and its ACK handed to the listener; a
# malformed TCP header is dropped on PORT and passed to the kernel (which
# drops it) on OPEN. No fragment leaves a flow entry.
# shellcheck disable=SC2119,SC2317,SC2004 # lab_up takes no args; helpers run via wait_until; C0/C1 are associative
TEST_NAME=${TEST_NAME:-frag}
# shellcheck source=tests/lib.sh
source "$(dirname "$0")/../lib.sh"

PORT=8080
OPEN=8081
FRAGPROBE=${FRAGPROBE:-$BUILD/fragprobe}

need_build "$XDPCT" "$FRAGPROBE" "$TCPPEER" "$BUILD/mapfill"
lab_up

# The client's kernel answers SYN-ACKs it has no socket for with a RST;
# one that overtook the probe's ACK would reset the server's connection.
if in_cli nft -f - <<EOF; then
table inet xct_fragprobe {
	chain out {
		type filter hook output priority 0;
		tcp flags & rst == rst drop
	}
}
EOF
	RST_BLOCKED=1
else
	RST_BLOCKED=0
	note "nft failed: the client kernel's RSTs are not held back"
fi

bg_ns "$NS_SRV" "$LAB_TMP/server.log" "$TCPPEER" serve --port "$PORT" --backlog 128
wait_port "$NS_SRV" "$PORT" 5 || die "tcppeer serve did not listen on $PORT" server
bg_ns "$NS_SRV" "$LAB_TMP/server_open.log" "$TCPPEER" serve --port "$OPEN" --backlog 128
wait_port "$NS_SRV" "$OPEN" 5 || die "tcppeer serve did not listen on $OPEN" server_open
SRV_MAC=$(link_mac "$NS_SRV" "$IF_SRV")
[[ -n "$SRV_MAC" ]] || die "no MAC for $IF_SRV" server_mac

# probe FAMILY DPORT SHAPE [fragprobe options]: the JSON line in OUT
probe() {
	local fam=$1 dport=$2 shape=$3 src dst
	shift 3
	if ((fam == 4)); then src=$CLI4 dst=$SRV4; else src=$CLI6 dst=$SRV6; fi
	OUT=$(in_cli timeout 20 "$FRAGPROBE" --dev "$IF_CLI" --dmac "$SRV_MAC" --src "$src" \
		--dst "$dst" --dport "$dport" --shape "$shape" "$@" 2>&1)
}
reply() { json_val reply <<<"$OUT"; }

# Fragmented shapes: family, shape, first fragment's length
FRAG_SHAPES=("4 frag 24" "4 frag 8" "6 frag 24" "6 frag_dest 32")

for s in "${FRAG_SHAPES[@]}" "6 atomic 0" "6 atomic_dest 0"; do
	read -r fam shape cut <<<"$s"
	name=kernel_alone.ipv${fam}_${shape}_${cut}
	probe "$fam" "$PORT" "$shape" --cut "$cut"
	assert_eq "${name}_synack" "$(reply)" synack
done

if ! xdpct_attach "$IF_SRV" "$PORT" >"$LAB_TMP/attach.out" 2>"$LAB_TMP/attach.err"; then
	die "xdpct attach failed: $(head -c 300 "$LAB_TMP/attach.err")" attach
fi
pass attach

COUNTERS=(xdp_packets drop_fragment pass_fragment drop_malformed pass_malformed err_tcp
	tx_synack syn_seen cookie_good tc_handoff pass_unprotected)
declare -A C0 C1
snap() {
	local -n into=$1
	local c
	stats_snap "$IF_SRV" || return 1
	for c in "${COUNTERS[@]}"; do
		into[$c]=$(xstat "$c")
		into[$c]=${into[$c]:-0}
	done
}
delta() { echo $((${C1[$1]} - ${C0[$1]})); }
deltas() {
	local c d out=
	for c in "${COUNTERS[@]}"; do
		d=$(delta "$c")
		((d)) && out+="$c +$d, "
	done
	echo "${out%, }"
}
# seen N: XDP has counted N more packets (the last ones run in the server
# veth's NAPI after the probe returned)
seen() { snap C1 && (($(delta xdp_packets) >= $1)); }

FLOWS0=$(flows_count "$IF_SRV")
for s in "${FRAG_SHAPES[@]}"; do
	read -r fam shape cut <<<"$s"
	for dport in "$PORT" "$OPEN"; do
		name=ipv${fam}_${shape}_${cut}_$([[ $dport == "$PORT" ]] && echo protected || echo open)
		snap C0 || fail "${name}_stats" "xdpct stats failed"
		probe "$fam" "$dport" "$shape" --cut "$cut"
		wait_until 3 seen 2
		if [[ $dport == "$PORT" ]]; then
			assert_eq "${name}_no_reply" "$(reply)" none
			assert_eq "${name}_drop_fragment+1" "$(delta drop_fragment)" 1
			assert_eq "${name}_pass_fragment+1" "$(delta pass_fragment)" 1
		else
			assert_eq "${name}_kernel_synack" "$(reply)" synack
			assert_eq "${name}_pass_fragment+2" "$(delta pass_fragment)" 2
			assert_eq "${name}_drop_fragment+0" "$(delta drop_fragment)" 0
		fi
		assert_eq "${name}_tx_synack+0" "$(delta tx_synack)" 0
		note "$name: $(deltas)"
	done
done
assert_eq fragments_no_flow_entry "$(flows_count "$IF_SRV")" "$FLOWS0"

# atomic fragments: whole packets, through the cookie handshake
established() { [[ -n "$(in_srv ss -Htn state established "( sport = :$PORT and dport = :$1 )")" ]]; }
for shape in atomic atomic_dest; do
	name=ipv6_${shape}_protected
	snap C0 || fail "${name}_stats" "xdpct stats failed"
	probe 6 "$PORT" "$shape" --ack
	assert_eq "${name}_cookie_synack" "$(reply)" synack
	sport=$(json_num sport <<<"$OUT")
	wait_until 3 seen 2
	assert_eq "${name}_tx_synack+1" "$(delta tx_synack)" 1
	assert_eq "${name}_cookie_good+1" "$(delta cookie_good)" 1
	if ((RST_BLOCKED)); then
		check "${name}_server_established" "no ESTAB socket for port $sport" \
			wait_until 3 established "$sport"
	else
		skip "${name}_server_established" "client RSTs not held back (nft)"
	fi
	snap C1
	assert_eq "${name}_tc_handoff+1" "$(delta tc_handoff)" 1
	note "$name: $(deltas)"
done

# a malformed TCP header (data offset 4) goes by its port
for fam in 4 6; do
	for dport in "$PORT" "$OPEN"; do
		name=ipv${fam}_bad_doff_$([[ $dport == "$PORT" ]] && echo protected || echo open)
		snap C0 || fail "${name}_stats" "xdpct stats failed"
		probe "$fam" "$dport" bad_doff --timeout 500
		wait_until 3 seen 1
		assert_eq "${name}_no_reply" "$(reply)" none
		assert_eq "${name}_err_tcp+1" "$(delta err_tcp)" 1
		if [[ $dport == "$PORT" ]]; then
			assert_eq "${name}_drop_malformed+1" "$(delta drop_malformed)" 1
		else
			assert_eq "${name}_pass_malformed+1" "$(delta pass_malformed)" 1
		fi
	done
done

lab_finish
