#!/bin/bash
# The iproute2 attach path exactly as docs/ip-link.md and the README give
# it (ip link ... xdp obj, tc clsact + ingress filter, xdpct config
# --pin-dir; plus an egress filter when the object's TC egress program has
# an ELF section of its own), in the lab's server ns. Run twice: on a fresh bpffs (iproute2 makes
# /sys/fs/bpf/xdp a symlink to tc/) and with /sys/fs/bpf/xdp a directory
# (as libxdp leaves it), where the map-pin step is needed.
#
# iproute2 pins into /sys/fs/bpf/tc/globals, shared by every test and the
# host: each run uses its own bpffs in a private mount namespace, held by a
# helper process (killed by the EXIT trap, and by PDEATHSIG if this shell
# dies hard). Commands enter that mount ns plus the server's net ns with
# nsenter; nsenter enters only the namespaces it is given.
# shellcheck source=tests/lib.sh
source "$(dirname "$0")/../lib.sh"

PORT=8080
OBJ=$BUILD/xdpct.bpf.o
G=/sys/fs/bpf/tc/globals
N_SEQ=4 # sequential 1 MB each way
N_PAR=8 # 4 at a time, 256 kB down

need_build "$XDPCT" "$TCPPEER" "$OBJ"
# The object's programs (ELF section, name) and its TC egress program, if
# any: attached with `tc filter ... egress ... sec S` when it has a section
# of its own (iproute2 takes the first program of a section).
OBJ_PROGS=$(llvm-objdump -t "$OBJ" 2>/dev/null | awk '$2 == "g" && $3 == "F" && $4 !~ /^\./ {print $4, $6}')
EGRESS_PROG=$(awk '$2 ~ /tc_out|egress/ {print $2; exit}' <<<"$OBJ_PROGS")
EGRESS_SEC=$(awk -v p="$EGRESS_PROG" '$2 == p {print $1}' <<<"$OBJ_PROGS")
[[ -n "$EGRESS_SEC" ]] || fail egress_program_found "no TC egress program in $OBJ"
if [[ -n "$EGRESS_SEC" ]] && [[ $(awk -v s="$EGRESS_SEC" '$1 == s' <<<"$OBJ_PROGS" | wc -l) -gt 1 ]]; then
	fail egress_program_has_own_section "$EGRESS_PROG shares ELF section '$EGRESS_SEC' with $(awk -v s="$EGRESS_SEC" -v p="$EGRESS_PROG" '$1 == s && $2 != p {print $2}' <<<"$OBJ_PROGS" | tr '\n' ' ')- iproute2 cannot attach it"
	EGRESS_SEC=
fi
command -v bpftool >/dev/null || die "bpftool missing" setup
lab_up

bg_ns "$NS_SRV" "$LAB_TMP/server.log" "$TCPPEER" serve --port "$PORT" --backlog 4096 \
	--info "$LAB_TMP/server.j"
wait_port "$NS_SRV" "$PORT" 30 || die "tcppeer serve did not listen" server

PRIV_PID=
# priv_start: a process in a new mount ns (private propagation) with a
# fresh bpffs on /sys/fs/bpf; PRIV_PID, PRIV_MNT (its mount ns).
priv_start() {
	local ready=$LAB_TMP/priv.$RANDOM
	unshare -m --propagation private -- setpriv --pdeathsig KILL -- \
		sh -c 'mount -t bpf bpf /sys/fs/bpf && touch "$1" && exec sleep 600' sh "$ready" \
		</dev/null >"$LAB_TMP/priv.log" 2>&1 &
	PRIV_PID=$!
	LAB_PIDS+=("$PRIV_PID")
	wait_until 30 test -e "$ready" || return 1
	PRIV_MNT=$(readlink "/proc/$PRIV_PID/ns/mnt")
}
# in_priv cmd...: in the helper's mount ns and the server's net ns
in_priv() {
	nsenter --mount="/proc/$PRIV_PID/ns/mnt" --net="/run/netns/$NS_SRV" -- "$@"
}
# pids_in_mnt NS: processes whose mount ns is NS ("mnt:[N]")
pids_in_mnt() {
	local p
	for p in /proc/[0-9]*; do
		[[ "$(readlink "$p/ns/mnt" 2>/dev/null)" == "$1" ]] && echo "${p#/proc/}"
	done
}
no_priv_left() { [[ -z "$(pids_in_mnt "$PRIV_MNT")" ]]; }
priv_stop() {
	stop_pid "$PRIV_PID"
	kill -KILL "$PRIV_PID" 2>/dev/null
	wait_until 30 no_priv_left
}
# the host's iproute2 pins (must not change)
host_pins() {
	local f
	for f in /sys/fs/bpf/tc/globals/xdpct_* /sys/fs/bpf/xdp/globals/xdpct_*; do
		[[ -e "$f" ]] && echo -n "$f "
	done
}
HOST_PINS=$(host_pins)

# stats_g: XSTATS from the pinned counters (`xdpct stats --pin-dir`)
stats_g() {
	XSTATS=$(in_priv timeout 10 "$XDPCT" stats "$IF_SRV" --pin-dir "$G" -j 2>"$LAB_TMP/stats.err")
}
# delta NAME: counter now (last stats_g) minus in BASE (an earlier XSTATS)
delta() {
	local a b
	a=$(xstat "$1")
	b=$(json_num "$1" <<<"$BASE")
	isnum "$a" && isnum "$b" && echo $((a - b))
}
xdp_prog_id() { in_ns "$NS_SRV" ip -d link show dev "$IF_SRV" | grep -o 'prog/xdp id [0-9]*' | grep -o '[0-9]*$'; }
tc_prog_id() { in_ns "$NS_SRV" tc filter show dev "$IF_SRV" "${1:-ingress}" | grep -o ' id [0-9]*' | head -n 1 | grep -o '[0-9]*$'; }
map_ids() { bpftool prog show id "$1" -j 2>/dev/null | grep -o '"map_ids":\[[0-9,]*\]' | grep -o '[0-9]\+'; }
prog_gone() { ! bpftool prog show id "$1" >/dev/null 2>&1; }
map_gone() { ! bpftool map show id "$1" >/dev/null 2>&1; }
# syn_cap: SYNs and SYN-ACKs the server's stack saw or sent (taps run after
# XDP on ingress; XDP_TX frames bypass them)
SYNF="tcp port $PORT and (tcp[13] & 2 != 0)"

# run_variant NAME [xdpdir]
run_variant() {
	local v=$1 mode=${2:-} rc out x t ids tids id n
	TEST_NAME=iplink.$v
	priv_start || {
		fail private_bpffs "helper did not mount a bpffs: $(head -c 200 "$LAB_TMP/priv.log")"
		return
	}
	# the helper's bpffs is not the host's, and nsenter --net keeps it
	local dev_host dev_priv
	dev_host=$(stat -c %d /sys/fs/bpf)
	dev_priv=$(in_priv stat -c %d /sys/fs/bpf)
	# the test's own setup: a note, or no point going on
	if [[ "$(in_priv readlink /proc/self/ns/mnt)" == "$PRIV_MNT" && -n "$dev_priv" &&
		"$dev_priv" != "$dev_host" && -z "$(in_priv ls -A "$G" 2>/dev/null)" ]]; then
		note "private bpffs: dev $dev_priv (host $dev_host)"
	else
		die "no private bpffs: mnt $(in_priv readlink /proc/self/ns/mnt) want $PRIV_MNT, dev $dev_priv (host $dev_host)" private_bpffs
	fi
	[[ "$mode" == xdpdir ]] && in_priv mkdir /sys/fs/bpf/xdp # what libxdp leaves behind

	# 1. XDP
	out=$(in_priv timeout 30 ip link set dev "$IF_SRV" xdp obj "$OBJ" sec xdp 2>&1)
	rc=$?
	check_rc step1_ip_link_xdp "$rc" "$out"
	x=$(xdp_prog_id)
	isnum "$x" || fail xdp_attached "no XDP program on $IF_SRV"

	# 2. the map-pin step, as the README gives it
	# iproute2's behaviour, the premise of this variant (not xdpct's)
	if [[ "$mode" == xdpdir ]]; then
		if in_priv test -d /sys/fs/bpf/xdp -a ! -L /sys/fs/bpf/xdp &&
			! in_priv sh -c "ls $G/xdpct_* >/dev/null 2>&1"; then
			note "iproute2 pinned the maps under /sys/fs/bpf/xdp/globals"
		else
			die "$(in_priv ls -la /sys/fs/bpf /sys/fs/bpf/xdp 2>&1 | tr '\n' ' ')" xdp_dir_maps_pinned_apart
		fi
	elif in_priv test -L /sys/fs/bpf/xdp; then
		note "iproute2 made /sys/fs/bpf/xdp a symlink to tc/"
	else
		die "$(in_priv ls -la /sys/fs/bpf 2>&1 | tr '\n' ' ')" fresh_bpffs_xdp_is_symlink
	fi
	# The docs name the maps; pin whatever the object pinned (xdpct_*), so
	# that the step stays right when the map list changes.
	# shellcheck disable=SC2016 # expanded by the inner sh
	out=$(in_priv sh -c 'G=$1
		mkdir -p $G; [ -L /sys/fs/bpf/xdp ] || for p in /sys/fs/bpf/xdp/globals/xdpct_*; do
			bpftool map pin pinned $p $G/${p##*/} || exit 1; done' sh "$G" 2>&1)
	rc=$?
	check_rc step2_pin_maps "$rc" "$out"

	# 3. TC ingress
	out=$(in_priv tc qdisc add dev "$IF_SRV" clsact 2>&1) ||
		die "tc qdisc add clsact: $out" step3_tc_qdisc_clsact
	out=$(in_priv timeout 30 tc filter add dev "$IF_SRV" ingress bpf direct-action obj "$OBJ" sec tc 2>&1)
	rc=$?
	check_rc step3_tc_filter "$rc" "$out"
	t=$(tc_prog_id)
	local e='' eids=''
	if [[ -n "$EGRESS_SEC" ]]; then
		out=$(in_priv timeout 30 tc filter add dev "$IF_SRV" egress bpf direct-action obj "$OBJ" sec "$EGRESS_SEC" 2>&1)
		rc=$?
		check_rc step3_tc_filter_egress "$rc" "$out"
		e=$(tc_prog_id egress)
		local en
		en=$(bpftool prog show id "${e:-0}" -j 2>/dev/null | json_val name)
		assert_eq egress_program_is_the_egress_one "$en" "$EGRESS_PROG"
		eids=$(map_ids "$e" | tr '\n' ' ')
	fi

	# Both programs use the same maps: every map of either program that
	# has a pin in $G is that pinned map, and they share at least one.
	# (Maps without a pin, e.g. per-CPU scratch, are per program.)
	ids=$(map_ids "$x" | tr '\n' ' ')
	tids=$(map_ids "$t" | tr '\n' ' ')
	local pins pinned_ids=" " f pid bad= shared=0 nm
	pins=$(in_priv sh -c "cd $G 2>/dev/null && ls -d xdpct_* 2>/dev/null")
	for f in $pins; do
		pid=$(in_priv bpftool map show pinned "$G/$f" -j 2>/dev/null | json_num id)
		pinned_ids+="$f=$pid "
	done
	for id in $ids $tids $eids; do
		nm=$(bpftool map show id "$id" -j 2>/dev/null | json_val name)
		[[ " $pins " == *" $nm "* ]] || continue
		[[ "$pinned_ids" == *" $nm=$id "* ]] || bad+="$nm: map $id is not the pinned one; "
	done
	for id in $tids; do [[ " $ids " == *" $id "* ]] && shared=$((shared + 1)); done
	if isnum "$t" && [[ -n "$pins" && -z "$bad" ]] && ((shared > 0)); then
		pass shared_map_ids
	else
		fail shared_map_ids "xdp prog ${x:-?} maps [$ids], tc prog ${t:-?} maps [$tids], pins [$pinned_ids], shared $shared: $bad"
	fi
	note "$v: xdp prog $x maps [$ids], tc prog $t maps [$tids]${e:+, egress prog $e maps [$eids]}, pinned:$pinned_ids"

	# before config: XDP passes everything, the kernel answers the SYN
	stats_g || fail stats_before_config "xdpct stats --pin-dir failed: $(head -c 200 "$LAB_TMP/stats.err")"
	BASE=$XSTATS
	local cap=0 cap_why=
	cap_start "$NS_SRV" "$IF_SRV" "$SYNF" && cap=1 || cap_why=$CAP_WHY
	in_cli timeout 20 "$TCPPEER" connect --addr "$SRV4" --port "$PORT" --up 10k --down 10k \
		--timeout 5 --json >"$LAB_TMP/pre.j" 2>&1
	rc=$?
	check_rc before_config_connect "$rc" "$(head -c 300 "$LAB_TMP/pre.j")"
	stats_g
	assert_gt before_config_pass_disabled "$(delta pass_disabled)" 0
	assert_eq before_config_tx_synack "$(delta tx_synack)" 0
	assert_eq before_config_tc_handoff "$(delta tc_handoff)" 0
	if ((cap)) && cap_stop; then
		if grep -q 'Flags \[S\]' "$CAP_OUT" && grep -q 'Flags \[S\.\]' "$CAP_OUT"; then
			pass before_config_kernel_answers_syn
		else
			fail before_config_kernel_answers_syn "capture: $(head -c 300 "$CAP_OUT")"
		fi
	else
		fail before_config_kernel_answers_syn "${cap_why:-$CAP_WHY}"
	fi

	# 4. key, options, MSS, ports
	out=$(in_priv timeout 30 "$XDPCT" config --pin-dir "$G" --ifname "$IF_SRV" --ports "$PORT" 2>&1)
	rc=$?
	check_rc step4_xdpct_config "$rc" "$out"

	# after config: real connections through cookies
	stats_g
	BASE=$XSTATS
	cap=0 cap_why=
	cap_start "$NS_SRV" "$IF_SRV" "$SYNF" && cap=1 || cap_why=$CAP_WHY
	in_cli timeout 60 "$TCPPEER" connect --addr "$SRV4" --port "$PORT" --up 1m --down 1m \
		--count $N_SEQ --timeout 5 --json >"$LAB_TMP/seq.j" 2>&1
	rc=$?
	n=$(grep -c '"ok":true' "$LAB_TMP/seq.j")
	if ((rc == 0 && n == N_SEQ)); then pass "transfer_1MB_x$N_SEQ"; else
		fail "transfer_1MB_x$N_SEQ" "rc $rc, $n/$N_SEQ ok: $(grep -v '"ok":true' "$LAB_TMP/seq.j" | head -n 1 | head -c 300)"
	fi
	in_cli timeout 60 "$TCPPEER" connect --addr "$SRV4" --port "$PORT" --up 64k --down 256k \
		--count $N_PAR --parallel 4 --timeout 5 --json >"$LAB_TMP/par.j" 2>&1
	rc=$?
	n=$(grep -c '"ok":true' "$LAB_TMP/par.j")
	if ((rc == 0 && n == N_PAR)); then pass "transfer_parallel_x$N_PAR"; else
		fail "transfer_parallel_x$N_PAR" "rc $rc, $n/$N_PAR ok: $(grep -v '"ok":true' "$LAB_TMP/par.j" | head -n 1 | head -c 300)"
	fi
	local nc=$((N_SEQ + N_PAR))
	stats_g || fail stats_after_config "xdpct stats --pin-dir failed: $(head -c 200 "$LAB_TMP/stats.err")"
	note "$v: stats: $(tr -d '\n' <<<"$XSTATS" | head -c 1500)"
	assert_ge stats_tx_synack "$(delta tx_synack)" "$nc"
	assert_ge stats_cookie_good "$(delta cookie_good)" "$nc"
	assert_ge stats_tc_handoff "$(delta tc_handoff)" "$nc"
	# the config rebuilt xdpct_seen: a new tuple's SYN skips the lookup
	assert_ge stats_syn_no_lookup "$(delta syn_no_lookup)" $((nc * 9 / 10))
	for c in pass_disabled tc_handoff_fail tc_no_listener drop_cookie_bad drop_cookie_stale drop_error; do
		assert_eq "stats_$c" "$(delta $c)" 0
	done
	if ((cap)) && cap_stop; then
		# the capture works: the same filter saw the kernel's handshakes
		# before the config (above)
		assert_eq no_syn_in_server_stack "$(grep -c 'Flags \[S' "$CAP_OUT")" 0
	else
		fail no_syn_in_server_stack "${cap_why:-$CAP_WHY}"
	fi

	# the deny list on this path: the client refused, then let in again
	out=$(in_priv timeout 20 "$XDPCT" deny add --pin-dir "$G" "$CLI4" 2>&1)
	check_rc deny_add_pin_dir "$?" "$out"
	stats_g
	BASE=$XSTATS
	if in_cli timeout 10 "$TCPPEER" connect --addr "$SRV4" --port "$PORT" --up 1k --down 1k \
		--timeout 2 >/dev/null 2>&1; then
		fail denied_client_refused "a denied client connected"
	else
		pass denied_client_refused
	fi
	stats_g
	assert_ge denied_counted "$(delta drop_denied)" 1
	out=$(in_priv timeout 20 "$XDPCT" deny del --pin-dir "$G" "$CLI4" 2>&1)
	check_rc deny_del_pin_dir "$?" "$out"
	in_cli timeout 10 "$TCPPEER" connect --addr "$SRV4" --port "$PORT" --up 1k --down 1k \
		--timeout 5 >/dev/null 2>&1
	check_rc undenied_client_connects "$?" "after deny del"
	stats_g

	# bpftool reads the pinned counters by name (the value's BTF); they
	# agree with xdpct stats (tc_handoff: no handshake is running now)
	out=$(in_priv timeout 20 bpftool -j map dump pinned "$G/xdpct_stats" 2>&1)
	rc=$?
	check_rc bpftool_map_dump_stats "$rc" "$(head -c 200 <<<"$out")"
	local names missing="" nm sum fmt
	fmt=$(tr -d '\n ' <<<"$out" | sed 's/.*"formatted"://')
	names=$(tr -d '\n' <<<"$XSTATS" | sed 's/.*"counters":{//' | grep -o '"[a-z0-9_]*":' | tr -d '":')
	for nm in $names; do
		grep -q "\"$nm\":[0-9]" <<<"$fmt" || missing+=" $nm"
	done
	assert_eq bpftool_dump_names_every_counter "${missing:-none}" none
	sum=$(grep -o '"tc_handoff":[0-9]*' <<<"$fmt" | awk -F: '{s += $2} END {print s + 0}')
	assert_ge bpftool_dump_tc_handoff_per_cpu "$(grep -o '"tc_handoff":[0-9]*' <<<"$fmt" | wc -l)" 1
	assert_eq bpftool_dump_tc_handoff_eq_xdpct_stats "$sum" "$(xstat tc_handoff)"

	# removing (docs/ip-link.md) leaves nothing
	# iproute2's and rm's steps (no claim about xdpct): die if one fails
	out=$(in_priv ip link set dev "$IF_SRV" xdp off 2>&1) || die "$out" remove_xdp_off
	out=$(in_priv tc filter del dev "$IF_SRV" ingress 2>&1) || die "$out" remove_tc_filter
	if [[ -n "$EGRESS_SEC" ]]; then
		out=$(in_priv tc filter del dev "$IF_SRV" egress 2>&1) || die "$out" remove_tc_filter_egress
	fi
	# shellcheck disable=SC2016
	out=$(in_priv sh -c 'rm -f $1/xdpct_* /sys/fs/bpf/xdp/globals/xdpct_*' sh "$G" 2>&1) ||
		die "$out" remove_pins
	if nothing_attached "$NS_SRV" "$IF_SRV"; then pass removed_clean; else fail removed_clean "$WHY"; fi
	out=$(in_priv sh -c "ls $G/ /sys/fs/bpf/xdp/globals/ 2>/dev/null | grep xdpct_")
	assert_empty no_pins_left "$out"
	# nothing holds the programs and maps any more: the kernel frees them
	local gone=1
	for id in $x $t $e; do wait_until 30 prog_gone "$id" || gone=0; done
	if ((gone)); then pass programs_freed; else fail programs_freed "prog $x, $t or $e still loaded"; fi
	gone=1
	for id in $ids $tids $eids; do wait_until 30 map_gone "$id" || gone=0; done
	if ((gone)); then pass maps_freed; else fail maps_freed "some of maps [$ids $tids $eids] still exist"; fi
	in_cli timeout 20 "$TCPPEER" connect --addr "$SRV4" --port "$PORT" --up 10k --down 10k \
		--timeout 5 --json >"$LAB_TMP/post.j" 2>&1
	rc=$?
	check_rc after_removal_connect "$rc" "$(head -c 300 "$LAB_TMP/post.j")"
	in_ns "$NS_SRV" tc qdisc del dev "$IF_SRV" clsact 2>/dev/null

	# the helper and its mount ns (with the bpffs) are gone
	# the test's own helper: no ok line
	priv_stop || fail private_mount_ns_gone "processes left in $PRIV_MNT: $(pids_in_mnt "$PRIV_MNT" | tr '\n' ' ')"
	# the test's own isolation, not a claim about xdpct: no ok line
	[[ "$(host_pins)" == "$HOST_PINS" ]] ||
		fail host_pins_untouched "host pins before: '$HOST_PINS', now: '$(host_pins)'"
}

run_variant fresh_bpffs
run_variant xdp_dir xdpdir
TEST_NAME=iplink
lab_finish
