#!/bin/bash
# One table and one key over two links (`attach B --share A`): a client
# whose SYN goes over link A and every other segment over link B (policy
# routing on an nftables mark, as ECMP or a failover may do) fails with two
# independent attachments (B does not know A's cookie key) and completes
# with B sharing A's maps; a connection that moves from A to B in the
# middle of its upload completes; `run A` rotates the key and B follows;
# run of a member is refused; detach of A takes B along; errors are one
# line.
#   ns cli: 10.60.0.2 (lo)  [xmA] 10.60.1.2 ---- 10.60.1.1 [A: xdpct] ns srv 10.61.0.1 (lo)
#                           [xmB] 10.60.2.2 ---- 10.60.2.1 [B: xdpct --share A]
# shellcheck source=tests/lib.sh
source "$(dirname "$0")/../lib.sh"

PORT=8080
IF_A=xla$LAB_ID IF_CA=xma$LAB_ID
IF_B=xlb$LAB_ID IF_CB=xmb$LAB_ID
C4=10.60.0.2 S4=10.61.0.1

need_build "$XDPCT" "$TCPPEER"
lab_begin "$NS_CLI" "$NS_SRV"
for ns in "${LAB_NS[@]}"; do
	in_ns "$ns" sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
done
ip link add "$IF_CA" netns "$NS_CLI" type veth peer name "$IF_A" netns "$NS_SRV" &&
	ip link add "$IF_CB" netns "$NS_CLI" type veth peer name "$IF_B" netns "$NS_SRV" || die veths
in_cli ip addr add 10.60.1.2/24 dev "$IF_CA" && in_srv ip addr add 10.60.1.1/24 dev "$IF_A" &&
	in_cli ip addr add 10.60.2.2/24 dev "$IF_CB" && in_srv ip addr add 10.60.2.1/24 dev "$IF_B" &&
	in_cli ip addr add $C4/32 dev lo && in_srv ip addr add $S4/32 dev lo || die addresses
for d in "$IF_CA" "$IF_CB"; do
	in_cli ip link set dev "$d" up || die "up $d"
	ip -n "$NS_CLI" link set dev "$d" xdp obj "$XDP_PASS_OBJ" sec xdp || die "pass-through XDP on $d"
done
for d in "$IF_A" "$IF_B"; do in_srv ip link set dev "$d" up || die "up $d"; done
# replies go back over A; the client's segments to S4 over A, or over B
# when marked (every segment but a SYN, while the rule is in)
in_cli ip route add $S4/32 via 10.60.1.1 src $C4 &&
	in_cli ip route add $S4/32 via 10.60.2.1 src $C4 table 100 &&
	in_cli ip rule add fwmark 1 table 100 &&
	in_srv ip route add $C4/32 via 10.60.1.2 || die routes
in_cli nft add table ip xct_ml &&
	in_cli nft add chain ip xct_ml out '{ type route hook output priority mangle; policy accept; }' ||
	die "nft table"
split_on() {
	in_cli nft add rule ip xct_ml out ip daddr $S4 'tcp flags & (syn | ack) != syn' meta mark set 1
}
split_off() { in_cli nft flush chain ip xct_ml out; }
split_on || die "nft rule"
bg_ns "$NS_SRV" "$LAB_TMP/srv.log" "$TCPPEER" serve --port $PORT --backlog 256 --timeout 300 \
	--info "$LAB_TMP/srv.j"
wait_port "$NS_SRV" $PORT 10 || die "tcppeer serve did not listen" server

X() { in_srv timeout 30 "$XDPCT" "$@"; }
SEED=100
# conns N [extra]: N connections, 256 KiB each way; CONN_OK: how many were ok
conns() {
	local n=$1
	shift
	SEED=$((SEED + 1000))
	CONN_OUT=$(in_cli timeout 60 "$TCPPEER" connect --addr $S4 --port $PORT --up 256k \
		--down 256k --count "$n" --seed $SEED --timeout 3 --json "$@" 2>&1)
	CONN_OK=$(grep -c '"ok":true' <<<"$CONN_OUT")
}
# packets received on B (/proc/net/dev is the reader's namespace's)
rx_b() { in_srv cat /proc/net/dev | awk -v d="$IF_B:" '$1 == d { print $3 }'; }
st() { X stats "$1" -j | json_num "$2"; }
epoch() { X status "$1" | sed -n 's/.*cookie key epoch \([0-9]*\).*/\1/p'; }

# ==== 1. the lab: without xdpct, SYN over A, the rest over B ====
rb0=$(rx_b)
conns 2
assert_eq lab_connections "$CONN_OK" 2
assert_gt lab_link_b_carries "$(diff_num "$(rx_b)" "$rb0")" 100

# ==== 2. two attachments, two keys: the ACK over B fails its cookie ====
LAB_ATTACHED+=("$IF_B" "$IF_A")
X attach "$IF_A" --ports $PORT >"$LAB_TMP/a.out" 2>&1 || die "attach A: $(cat "$LAB_TMP/a.out")" attach_a
X attach "$IF_B" --ports $PORT >"$LAB_TMP/b.out" 2>&1 || die "attach B: $(cat "$LAB_TMP/b.out")" attach_b
conns 2
assert_eq separate_keys_fail "$CONN_OK" 0
assert_gt separate_keys_cookie_bad "$(st "$IF_B" drop_cookie_bad)" 0
X detach "$IF_B" >/dev/null 2>&1

# ==== 3. B shares A's maps and key ====
out=$(X attach "$IF_B" --share "$IF_A" 2>&1)
check_rc attach_share $? "$out"
grep -q "sharing the maps and key of" <<<"$out" && pass attach_share_says ||
	fail attach_share_says "$out"
b0=$(st "$IF_A" pass_cookie)
conns 10
assert_eq shared_all_complete "$CONN_OK" 10
assert_eq shared_digests_ok "$(grep -c '"down_digest_ok":true,.*"up_digest_ok":true' <<<"$CONN_OUT")" 10
assert_ge shared_cookies_on_b "$(diff_num "$(st "$IF_B" pass_cookie)" "$b0")" 10
assert_eq shared_no_bad_cookie "$(diff_num "$(st "$IF_B" drop_cookie_bad)" "$(st "$IF_A" drop_cookie_bad)")" 0
# one table: the same entries through either name
ca=$(X conns "$IF_A" | grep -c "dport=$PORT")
cb=$(X conns "$IF_B" | grep -c "dport=$PORT")
assert_ge shared_conns_listed "$ca" 10
assert_eq shared_conns_same "$cb" "$ca"
X status "$IF_B" | grep -q "group      shares the maps and key of $IF_A" && pass status_member ||
	fail status_member "$(X status "$IF_B" | grep -i group)"
X status "$IF_A" | grep -q "group      shared with $IF_B" && pass status_primary ||
	fail status_primary "$(X status "$IF_A" | grep -i group)"
X status "$IF_B" -j | grep -q "\"shares\":\"$IF_A\"" && pass status_member_json ||
	fail status_member_json "$(X status "$IF_B" -j | head -c 300)"
X status "$IF_A" -j | grep -q "\"shared_with\":\[\"$IF_B\"\]" && pass status_primary_json ||
	fail status_primary_json "$(X status "$IF_A" -j | head -c 300)"

# -- the group's NAT handovers are the primary's, through either name --
out=$(X nat add "$IF_B" --netns "$NS_CLI" --dev "$IF_CA" 2>&1)
check_rc nat_add_through_member $? "$out"
assert_eq nat_listed_on_primary "$(X nat list "$IF_A" -j | grep -o '"attached":true' | wc -l)" 1
assert_eq nat_listed_on_member "$(X nat list "$IF_B" -j | grep -o '"attached":true' | wc -l)" 1

# -- failover: a connection begun over A moves to B in its upload --
split_off
rb0=$(rx_b)
SEED=$((SEED + 1000))
bg_ns "$NS_CLI" "$LAB_TMP/fo.j" "$TCPPEER" connect --addr $S4 --port $PORT --up 1m --down 256k \
	--seed $SEED --timeout 20 --hold "$LAB_TMP/fo.go" --json
FO=$BG_PID
fo_seen() { X conns "$IF_A" --state established | grep -q "dport=$PORT"; }
wait_until 10 fo_seen || fail failover_established "no ESTABLISHED entry over A"
split_on
touch "$LAB_TMP/fo.go"
wait_pid "$FO" 25
grep -q '"ok":true' "$LAB_TMP/fo.j" && pass failover_completes ||
	fail failover_completes "$(head -c 300 "$LAB_TMP/fo.j")"
assert_gt failover_over_b "$(diff_num "$(rx_b)" "$rb0")" 500

# -- the lists are the group's: a prefix denied through A is dropped on B
# (every segment, SYN too, over B) --
split_all() {
	in_cli nft flush chain ip xct_ml out &&
		in_cli nft add rule ip xct_ml out ip daddr $S4 meta mark set 1
}
split_all || fail split_all "nft"
conns 2
assert_eq all_over_b_works "$CONN_OK" 2
d0=$(st "$IF_B" drop_denied)
X deny add "$IF_A" $C4/32 >/dev/null 2>&1 || fail deny_add "deny add failed"
conns 2
assert_eq denied_on_b "$CONN_OK" 0
assert_gt denied_on_b_counted "$(diff_num "$(st "$IF_B" drop_denied)" "$d0")" 0
X deny del "$IF_B" $C4/32 >/dev/null 2>&1 || fail deny_del "deny del through the member failed"
conns 2
assert_eq undenied_on_b "$CONN_OK" 2
split_off
split_on

# -- errors: one line, the right exit --
err_case() { # NAME RC ARGS..
	local name=$1 want=$2 out rc
	shift 2
	out=$(X "$@" 2>&1)
	rc=$?
	if ((rc == want)) && [[ $(grep -c . <<<"$out") == 1 ]]; then pass "$name"; else
		fail "$name" "exit $rc (want $want): $out"
	fi
}
err_case err_share_itself 2 attach "$IF_A" --share "$IF_A"
err_case err_share_with_ports 2 attach "$IF_B" --share "$IF_A" --ports 80
err_case err_share_not_attached 1 attach "$IF_CA" --share nosuchif0
err_case err_share_attached 1 attach "$IF_B" --share "$IF_A"
err_case err_share_member 1 attach lo --share "$IF_B"
err_case err_run_member 1 run "$IF_B"
err_case err_member_ports 2 attach "$IF_B" --ports 80
err_case err_share_reload 2 reload "$IF_B" --share "$IF_A"
err_case err_config_member 1 config --ifname "$IF_B" --ports 80
X status lo 2>/dev/null | grep -q "programs.*attached" && fail err_nothing_on_lo "lo got programs" ||
	pass err_nothing_on_lo

# -- detach of the member leaves the primary and its table --
X detach "$IF_B" >/dev/null 2>&1
assert_ge member_detach_keeps_table "$(X conns "$IF_A" | grep -c "dport=$PORT")" 10
assert_eq member_detach_keeps_nat "$(X nat list "$IF_A" -j | grep -o '"attached":true' | wc -l)" 1
split_off
conns 2
assert_eq member_detach_primary_serves "$CONN_OK" 2
split_on

# ==== 4. run A rotates the key; B follows ====
X detach "$IF_A" >/dev/null 2>&1
bg_ns "$NS_SRV" "$LAB_TMP/run.log" "$XDPCT" run "$IF_A" --ports $PORT --cookie-slot 1 --key-rotate 2
RUN=$BG_PID
run_up() { grep -q "running on $IF_A" "$LAB_TMP/run.log"; }
wait_until 20 run_up || die "run did not start: $(head -c 300 "$LAB_TMP/run.log")" run
out=$(X attach "$IF_B" --share "$IF_A" 2>&1)
check_rc run_attach_share $? "$out"
e0=$(epoch "$IF_A")
rotated() { (($(epoch "$IF_A") >= e0 + 2)); }
wait_until 20 rotated || fail rotations "epoch $(epoch "$IF_A"), from $e0"
conns 10 --interval 0.3
assert_eq rotated_all_complete "$CONN_OK" 10
assert_eq rotated_same_epoch "$(epoch "$IF_B")" "$(epoch "$IF_A")"
note "epochs: from $e0 to $(epoch "$IF_A"); cookie_prev_key $(st "$IF_B" cookie_prev_key)"
# run's end takes the group along
kill -TERM "$RUN"
wait_pid "$RUN" 15
grep -q "detached from $IF_B" "$LAB_TMP/run.log" && pass run_end_detaches_member ||
	fail run_end_detaches_member "$(tail -n 3 "$LAB_TMP/run.log" | tr '\n' '|')"
nothing_attached "$NS_SRV" "$IF_A" && pass run_end_nothing_on_a || fail run_end_nothing_on_a "$WHY"
nothing_attached "$NS_SRV" "$IF_B" && pass run_end_nothing_on_b || fail run_end_nothing_on_b "$WHY"
left=
for ifc in "$IF_A" "$IF_B"; do
	d=$(pin_of "$ifc")
	[[ -e "$d" ]] && left+="$d "
done
assert_empty run_end_no_pins "$left"

lab_finish
