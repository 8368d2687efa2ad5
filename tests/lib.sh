# shellcheck shell=bash disable=SC2034  # variables for the sourcing tests
# Shared helpers for the e2e tests: a veth lab in network namespaces, real
# peers, xdpct wrappers and ok/FAIL/skip reporting. Source it; then
#   lab_up [attacker]      build the lab (cleaned on any exit by a trap)
#   pass/fail/skip NAME    one result line each
#   lab_finish             exit 0 only if nothing failed
#
# Topology (names unique per test process: suffix $$):
#   ns xct_cli_ID  [xcsID] ---- [xscID]  ns xct_srv_ID  [xsaID] ---- [xasID]  ns xct_atk_ID
#   10.200.1.2/24              10.200.1.1/24          10.200.2.1/24        10.200.2.2/24
#   fd00:200::2/64             fd00:200::1/64         fd00:200:0:2::1/64   fd00:200:0:2::2/64
# The client and attacker ends run a pass-through XDP program: XDP_TX frames
# (our SYN-ACKs) reach a veth peer only when the peer runs NAPI (an XDP program).
# Attacker and client have separate links so that SYN-ACKs to spoofed
# sources do not load the legitimate client's veth.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=$ROOT/build
XDPCT=$BUILD/xdpct
TCPPEER=$BUILD/tcppeer
SYNFLOOD=$BUILD/synflood
XDP_PASS_OBJ=${XDP_PASS_OBJ:-$BUILD/xdp_pass.bpf.o}
BPFFS=/sys/fs/bpf
PIN_ROOT=$BPFFS/xdpct

TEST_NAME=${TEST_NAME:-$(basename "$0" .sh)}
TEST_NAME=${TEST_NAME#e2e_}

LAB_ID=$$
NS_SRV=xct_srv_$LAB_ID
NS_CLI=xct_cli_$LAB_ID
NS_ATK=xct_atk_$LAB_ID
NS_SRV2=xct_srv2_$LAB_ID # a second server and client (e2e_netns)
NS_CLI2=xct_cli2_$LAB_ID
IF_SRV=xsc$LAB_ID  # server end of the client link (xdpct attaches here)
IF_CLI=xcs$LAB_ID  # client end
IF_SRVA=xsa$LAB_ID # server end of the attacker link
IF_ATK=xas$LAB_ID  # attacker end
SRV4=10.200.1.1
CLI4=10.200.1.2
SRV6=fd00:200::1
CLI6=fd00:200::2
SRVA4=10.200.2.1
ATK4=10.200.2.2
SRVA6=fd00:200:0:2::1
ATK6=fd00:200:0:2::2

N_OK=0
N_FAIL=0
N_SKIP=0
LAB_PIDS=()
LAB_NS=()
LAB_ATTACHED=()
LAB_TMP=
LAB_DOWN_DONE=0

# ---- reporting ----

pass() { N_OK=$((N_OK + 1)); echo "ok $TEST_NAME.$1"; }
fail() { N_FAIL=$((N_FAIL + 1)); echo "FAIL $TEST_NAME.$1: ${2:-failed}"; }
skip() { N_SKIP=$((N_SKIP + 1)); echo "skip $TEST_NAME.$1: ${2:-skipped}"; }
note() { echo "# $*"; }

# check NAME REASON cmd...: pass when cmd succeeds
check() {
	local name=$1 reason=$2
	shift 2
	if "$@"; then pass "$name"; else fail "$name" "$reason"; fi
}
# check_rc NAME RC REASON: pass when RC is 0 (capture $? before building
# REASON: a command substitution there would overwrite it)
check_rc() {
	if [[ "$2" == 0 ]]; then pass "$1"; else fail "$1" "exit status $2: $3"; fi
}
# assert_eq NAME GOT WANT: an empty WANT is refused (a failed read on both
# sides would pass): say so with assert_empty
assert_eq() {
	if [[ -z "$3" ]]; then
		fail "$1" "empty expectation (got '$2'): a read failed, or use assert_empty"
	elif [[ "$2" == "$3" ]]; then pass "$1"; else fail "$1" "got '$2', want '$3'"; fi
}
assert_empty() { # NAME GOT: GOT must be empty
	if [[ -z "$2" ]]; then pass "$1"; else fail "$1" "got '$2', want nothing"; fi
}
isnum() { [[ "$1" =~ ^[0-9]+$ ]]; }
# both sides numeric: an empty read fails
assert_ge() { # NAME GOT MIN
	if isnum "$2" && isnum "$3" && (($2 >= $3)); then pass "$1"; else fail "$1" "got '$2', want >= '$3'"; fi
}
assert_le() { # NAME GOT MAX
	if isnum "$2" && isnum "$3" && (($2 <= $3)); then pass "$1"; else fail "$1" "got '$2', want <= '$3'"; fi
}
assert_gt() { # NAME GOT MIN
	if isnum "$2" && isnum "$3" && (($2 > $3)); then pass "$1"; else fail "$1" "got '$2', want > '$3'"; fi
}
# diff_num NEW OLD: NEW - OLD, or nothing when either is not a number (so
# that a failed read fails the check that uses it, instead of reading 0)
diff_num() { if isnum "$1" && isnum "$2"; then echo $(($1 - $2)); fi; }

# Exit status of the test file: 0 only when nothing failed.
lab_finish() {
	note "$TEST_NAME: $N_OK ok, $N_FAIL failed, $N_SKIP skipped"
	if ((N_FAIL > 0)); then exit 1; fi
	exit 0
}

# A setup step that cannot go on: one FAIL line, then exit (trap cleans).
die() {
	fail "${2:-setup}" "$1"
	lab_finish
}
# require NAME REASON cmd...: a step of the test's own setup (not a claim
# about xdpct): a note when cmd succeeds, die when it fails
require() {
	local name=$1 reason=$2
	shift 2
	if "$@"; then note "$name: done"; else die "$reason" "$name"; fi
}

# ---- environment ----

require_root() {
	if ((EUID != 0)); then
		die "must run as root"
	fi
}

mount_bpffs_if_needed() {
	if ! mountpoint -q "$BPFFS"; then
		mount -t bpf bpf "$BPFFS" || return 1
	fi
}

# need_bin NAME PATH: the build output must exist
need_build() {
	local f
	for f in "$@"; do
		[[ -x "$f" || -f "$f" ]] || die "missing $f (run make in $ROOT)"
	done
}

# The pass-through object: make may treat it as an intermediate file.
need_xdp_pass() {
	if [[ ! -f "$XDP_PASS_OBJ" ]]; then
		make -s -C "$ROOT" "${XDP_PASS_OBJ#"$ROOT"/}" >/dev/null 2>&1 || true
	fi
	[[ -f "$XDP_PASS_OBJ" ]] || die "missing $XDP_PASS_OBJ (make build/xdp_pass.bpf.o)"
}

# ---- namespaces and processes ----

# in_ns NS cmd...: run in NS's network namespace only. nsenter keeps our
# mount namespace, so bpffs stays visible (ip netns exec remounts /sys).
in_ns() {
	local ns=$1
	shift
	nsenter --net="/run/netns/$ns" -- "$@"
}
in_srv() { in_ns "$NS_SRV" "$@"; }
in_cli() { in_ns "$NS_CLI" "$@"; }
in_atk() { in_ns "$NS_ATK" "$@"; }

# bg_ns NS LOG cmd...: start in the background, stdout+stderr to LOG; BG_PID.
bg_ns() {
	local ns=$1 log=$2
	shift 2
	nsenter --net="/run/netns/$ns" -- "$@" >"$log" 2>&1 &
	BG_PID=$!
	LAB_PIDS+=("$BG_PID")
}

# wait_pid PID TIMEOUT_S: wait for a background process, bounded; its exit
# status, or 124 (and it is killed) on timeout.
wait_pid() {
	local pid=$1 t=${2:-10} i
	for ((i = 0; i < t * 20; i++)); do
		if ! kill -0 "$pid" 2>/dev/null; then
			wait "$pid" 2>/dev/null
			return $?
		fi
		sleep 0.05
	done
	kill -TERM "$pid" 2>/dev/null
	sleep 0.2
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 124
}

stop_pid() {
	local pid=$1
	kill -TERM "$pid" 2>/dev/null || return 0
	wait_pid "$pid" 3 >/dev/null 2>&1
	return 0
}

# wait_until TIMEOUT_S cmd...: poll every 50 ms until cmd succeeds.
wait_until() {
	local t=$1 i
	shift
	for ((i = 0; i < t * 20; i++)); do
		"$@" && return 0
		sleep 0.05
	done
	"$@"
}

# wait_grep TIMEOUT_S REGEX cmd...: poll until cmd's output matches REGEX
# (cmd re-run each time; grep -E)
wait_grep() {
	local t=$1 re=$2
	shift 2
	_out_matches() { "$@" 2>/dev/null | grep -Eq -- "$re"; }
	wait_until "$t" _out_matches "$@"
}

port_listening() { in_ns "$1" ss -Hltn "sport = :$2" | grep -q .; }
# wait_port NS PORT [TIMEOUT_S, default 30]
wait_port() { wait_until "${3:-30}" port_listening "$1" "$2"; }

# ---- the lab ----

lab_add_link() { # NS_A IF_A ADDR4_A ADDR6_A NS_B IF_B ADDR4_B ADDR6_B
	ip link add "$2" netns "$1" type veth peer name "$6" netns "$5" || return 1
	in_ns "$1" ip addr add "$3/24" dev "$2" || return 1
	in_ns "$1" ip addr add "$4/64" dev "$2" nodad || return 1
	in_ns "$5" ip addr add "$7/24" dev "$6" || return 1
	in_ns "$5" ip addr add "$8/64" dev "$6" nodad || return 1
	local d
	for d in "$1:$2" "$5:$6"; do
		# keep VLAN tags in the frame (crafted-frame tests); harmless otherwise
		if command -v ethtool >/dev/null; then
			in_ns "${d%%:*}" ethtool -K "${d#*:}" rxvlan off txvlan off >/dev/null 2>&1
		fi
		in_ns "${d%%:*}" ip link set dev "${d#*:}" up || return 1
	done
}

# lab_begin NS...: what every lab starts with: root, the cleanup traps,
# bpffs, the pass-through XDP object, LAB_TMP, and the namespaces (lo up),
# which lab_down removes.
lab_begin() {
	require_root
	trap lab_down EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM HUP
	mount_bpffs_if_needed || die "cannot mount bpffs at $BPFFS"
	need_xdp_pass
	LAB_TMP=$(mktemp -d "/tmp/xdpct-e2e-$TEST_NAME-$LAB_ID.XXXXXX") || die "mktemp"
	export NSTAT_HISTORY=$LAB_TMP/nstat.history
	LAB_NS=("$@")
	local ns
	for ns in "${LAB_NS[@]}"; do
		ip netns add "$ns" || die "ip netns add $ns"
		in_ns "$ns" ip link set dev lo up || die "lo up in $ns"
	done
}

# lab_up [attacker]: namespaces, veths, addresses, pass-through XDP.
lab_up() {
	if [[ "${1:-}" == attacker ]]; then
		lab_begin "$NS_SRV" "$NS_CLI" "$NS_ATK"
	else
		lab_begin "$NS_SRV" "$NS_CLI"
	fi
	lab_add_link "$NS_SRV" "$IF_SRV" "$SRV4" "$SRV6" "$NS_CLI" "$IF_CLI" "$CLI4" "$CLI6" ||
		die "client link"
	ip -n "$NS_CLI" link set dev "$IF_CLI" xdp obj "$XDP_PASS_OBJ" sec xdp ||
		die "pass-through XDP on $IF_CLI"
	if [[ "${1:-}" == attacker ]]; then
		lab_add_link "$NS_SRV" "$IF_SRVA" "$SRVA4" "$SRVA6" "$NS_ATK" "$IF_ATK" "$ATK4" "$ATK6" ||
			die "attacker link"
		ip -n "$NS_ATK" link set dev "$IF_ATK" xdp obj "$XDP_PASS_OBJ" sec xdp ||
			die "pass-through XDP on $IF_ATK"
	fi
}

# Idempotent; runs from the EXIT trap.
lab_down() {
	((LAB_DOWN_DONE)) && return 0
	LAB_DOWN_DONE=1
	local pid ns ifc d
	for pid in "${LAB_PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null
	done
	for pid in "${LAB_PIDS[@]}"; do
		wait_pid "$pid" 2 >/dev/null 2>&1
	done
	for ifc in "${LAB_ATTACHED[@]}"; do
		[[ -d "/run/netns" && -e "/run/netns/$NS_SRV" ]] &&
			timeout 10 nsenter --net="/run/netns/$NS_SRV" -- "$XDPCT" detach "$ifc" >/dev/null 2>&1
		# pins outlive the interface: remove ours (unique names; under
		# netns:COOKIE/ when made in a namespace) if detach could not
		for d in "${PIN_ROOT:?}/$ifc" "$PIN_ROOT"/netns:*/"$ifc"; do
			[[ -d "$d" ]] && rm -rf "$d" && rmdir "${d%/*}" 2>/dev/null
		done
	done
	for ns in "${LAB_NS[@]}"; do
		[[ -e "/run/netns/$ns" ]] || continue
		# processes still in our namespaces were started by this test
		for pid in $(ip netns pids "$ns" 2>/dev/null); do
			kill -KILL "$pid" 2>/dev/null
		done
		ip netns del "$ns" 2>/dev/null
	done
	# LAB_KEEP=DIR: the logs of the run kept there (a flake's evidence)
	# (its files, not what daemons keep in directories)
	if [[ -n "$LAB_KEEP" && -n "$LAB_TMP" && -d "$LAB_TMP" ]]; then
		local keep=$LAB_KEEP/${LAB_TMP##*/}
		mkdir -p "$keep" && find "$LAB_TMP" -maxdepth 1 -type f -exec cp -t "$keep" {} +
	fi
	[[ -n "$LAB_TMP" && -d "$LAB_TMP" ]] && rm -rf "$LAB_TMP"
	return 0
}

# ---- facts about the lab ----

link_mtu() { in_ns "$1" ip -o link show dev "$2" | sed -n 's/.* mtu \([0-9]*\) .*/\1/p'; }
link_mac() { in_ns "$1" cat "/sys/class/net/$2/address" 2>/dev/null ||
	in_ns "$1" ip -o link show dev "$2" | sed -n 's/.*link\/ether \([0-9a-f:]*\) .*/\1/p'; }
# link_tx_dropped NS IF: frames the veth dropped on transmit (peer ring full)
link_tx_dropped() {
	in_ns "$1" ip -s link show dev "$2" | awk '/TX:/ {getline; print $4; exit}'
}

# The window shift the kernel would advertise in NS: ilog2(max(tcp_rmem[2],
# rmem_max)) - 15, clamped to 0..14 (tcp_select_initial_window).
expected_wscale() {
	local rmem2 rmax space ws=0
	rmem2=$(in_ns "$1" cat /proc/sys/net/ipv4/tcp_rmem | awk '{print $3}')
	rmax=$(in_ns "$1" cat /proc/sys/net/core/rmem_max)
	space=$((rmem2 > rmax ? rmem2 : rmax))
	while ((space > 1)); do
		space=$((space >> 1))
		ws=$((ws + 1))
	done
	ws=$((ws - 15))
	((ws < 0)) && ws=0
	((ws > 14)) && ws=14
	echo "$ws"
}

# nstat_get NS COUNTER: absolute value of a kernel SNMP counter in NS
# (nothing if nstat fails or does not list it: checks on it then fail)
nstat_get() {
	in_ns "$1" nstat -asz "$2" 2>/dev/null | awk -v n="$2" '$1 == n {print $2}'
}

# tcp_resets: every reset counter of the server and client namespaces
# (resets sent or received, aborts), summed: one number (nothing if one
# could not be read)
tcp_resets() {
	local n=0 ns c v
	for ns in "$NS_SRV" "$NS_CLI"; do
		for c in TcpEstabResets TcpOutRsts TcpExtTCPAbortOnData TcpExtTCPAbortOnClose; do
			v=$(nstat_get "$ns" $c)
			isnum "$v" || return 1
			n=$((n + v))
		done
	done
	echo $n
}

# json_num KEY < JSON: first numeric value of "KEY" (flat lookup, no jq).
# size_bytes SIZE: bytes of a size with an optional k/m/g suffix (binary)
size_bytes() {
	case $1 in
	*[kK]) echo $((${1%?} << 10)) ;;
	*[mM]) echo $((${1%?} << 20)) ;;
	*[gG]) echo $((${1%?} << 30)) ;;
	*) echo "$1" ;;
	esac
}
json_num() { grep -o "\"$1\": *[0-9]*" | head -n 1 | grep -o '[0-9]*$'; }
# json_val KEY < JSON: first scalar value of "KEY" (numbers, true/false, strings)
json_val() { grep -o "\"$1\": *\(\"[^\"]*\"\|[^,}]*\)" | head -n 1 | sed 's/^[^:]*: *//; s/^"//; s/"$//'; }

# ---- xdpct ----

xdpct_srv() { in_srv timeout 30 "$XDPCT" "$@"; }

# pin_of IFACE [NS]: the pin directory xdpct uses for IFACE in NS (default
# the server's), as xdpct tells it (a namespace's pins are under
# $PIN_ROOT/netns:COOKIE/)
pin_of() { in_ns "${2:-$NS_SRV}" "$XDPCT" pin-dir "$1"; }
# config_json PIN_DIR: bpftool's JSON dump of the pinned xdpct_config (keys,
# key_sel, key_epoch, flags, slot_shift...), "" if unreadable; one read, so
# that fields taken from it agree (a rotation stores key_sel, then the epoch)
config_json() { timeout 10 bpftool -j map dump pinned "$1/xdpct_config" 2>/dev/null; }

# xdpct_attach IFACE PORTS [extra args]: attach in the server ns.
xdpct_attach() {
	local ifc=$1 ports=$2
	shift 2
	LAB_ATTACHED+=("$ifc")
	in_srv timeout 30 "$XDPCT" attach "$ifc" --ports "$ports" "$@"
}

# attacker_lab PORT: lab_up with the attacker link, xdpct protecting PORT
# on both server links, a tcppeer server listening on PORT
attacker_lab() {
	local ifc
	lab_up attacker
	for ifc in "$IF_SRV" "$IF_SRVA"; do
		xdpct_attach "$ifc" "$1" >"$LAB_TMP/attach.out" 2>"$LAB_TMP/attach.err" ||
			die "xdpct attach $ifc failed: $(head -c 300 "$LAB_TMP/attach.err")" attach
	done
	pass attach_both_links
	bg_ns "$NS_SRV" "$LAB_TMP/server.log" "$TCPPEER" serve --port "$1" --backlog 4096
	wait_port "$NS_SRV" "$1" 30 || die "tcppeer serve did not listen" server
}

# stats_snap IFACE: XSTATS = `xdpct stats IFACE -j` output
stats_snap() {
	XSTATS=$(in_srv timeout 10 "$XDPCT" stats "$1" -j 2>"$LAB_TMP/stats.err")
}
# xstat NAME: counter from the last stats_snap ("" if absent)
xstat() { json_num "$1" <<<"$XSTATS"; }

# flows_count IFACE: entries in the pinned flow tables, IPv4 + IPv6 ("" if
# unreadable). build/mapfill walks the keys: bpftool's JSON dump of every
# entry took about 1 s per 8k entries here.
flows_count() {
	local m c n=0
	for m in xdpct_flows4 xdpct_flows6; do
		c=$(timeout 20 "$BUILD/mapfill" count "$(pin_of "$1")/$m" 2>/dev/null) && isnum "$c" || return 1
		n=$((n + c))
	done
	echo "$n"
}

# pending_count IFACE: entries in the pinned xdpct_pending map ("" if
# unreadable)
pending_count() {
	local out
	out=$(timeout 20 bpftool -j map dump pinned "$(pin_of "$1")/xdpct_pending" 2>/dev/null) || return 1
	grep -o '"key":\[' <<<"$out" | wc -l
}

# ---- kernel objects of an attachment ----

# attachment_ids IFACE: "prog:N" for every pinned program, "map:N" for
# every map they use (the unpinned scratch and .rodata too)
attachment_ids() {
	local d f j
	d=$(pin_of "$1") || return 1
	for f in prog_xdp prog_tc_in prog_tc_out; do
		j=$(bpftool -j prog show pinned "$d/$f" 2>/dev/null) || continue
		echo "prog:$(json_num id <<<"$j")"
		grep -o '"map_ids":\[[0-9,]*\]' <<<"$j" | grep -o '[0-9][0-9]*' | sed 's/^/map:/'
	done | sort -u
}
pinned_map_ids() { # IFACE: "map:N" of the maps pinned in its directory
	local f d
	d=$(pin_of "$1") || return 1
	for f in "$d"/xdpct_*; do
		echo "map:$(bpftool -j map show pinned "$f" 2>/dev/null | json_num id)"
	done | sort -u
}
id_alive() { bpftool "${1%%:*}" show id "${1#*:}" >/dev/null 2>&1; }
# ids_gone IDS: none of them exists (freeing is deferred: poll)
ids_gone() {
	local x
	for x in $1; do
		id_alive "$x" && return 1
	done
	return 0
}
ids_alive_list() {
	local x out=
	for x in $1; do id_alive "$x" && out+="$x "; done
	echo "$out"
}
# replaced_ids OLD_IDS PINNED: the ids of OLD_IDS that a swap must free
# (all but the pinned maps, which it keeps)
replaced_ids() { comm -23 <(sort -u <<<"$1") <(sort -u <<<"$2") | grep .; }
# check_freed NAME IDS: every id vanishes from the kernel (deadline 30 s)
check_freed() {
	if [[ -z "$2" ]]; then
		fail "$1" "no ids to watch (read failed)"
	elif wait_until 30 ids_gone "$2"; then
		pass "$1"
	else
		fail "$1" "still in the kernel: $(ids_alive_list "$2")"
	fi
}

# nothing_attached NS IFACE: no XDP program, no TC filters, no pins.
# Sets WHY to what is left.
nothing_attached() {
	local ns=$1 ifc=$2
	WHY=
	if in_ns "$ns" ip -d link show dev "$ifc" | grep -q 'prog/xdp'; then
		WHY+="xdp program attached; "
	fi
	if [[ -n "$(in_ns "$ns" tc filter show dev "$ifc" ingress 2>/dev/null)" ]]; then
		WHY+="tc ingress filter left; "
	fi
	if [[ -n "$(in_ns "$ns" tc filter show dev "$ifc" egress 2>/dev/null)" ]]; then
		WHY+="tc egress filter left; "
	fi
	# TCX links: neither tc (iproute2 6.1) nor bpftool 7.1 shows them
	if [[ -n "$(in_ns "$ns" "$BUILD/tcxprogs" "$ifc" ingress 2>&1)" ]]; then
		WHY+="tc ingress program (TCX) left; "
	fi
	if [[ -n "$(in_ns "$ns" "$BUILD/tcxprogs" "$ifc" egress 2>&1)" ]]; then
		WHY+="tc egress program (TCX) left; "
	fi
	local pins
	pins=$(pin_of "$ifc" "$ns") || WHY+="xdpct pin-dir failed; "
	if [[ -z "$pins" || -e "$pins" ]]; then
		WHY+="$pins exists; "
	fi
	[[ -z "$WHY" ]]
}

# ---- packet capture (tcpdump) ----

# A capture counts only from the moment it has printed a marker of ours: a
# UDP datagram the capturing namespace sends to its peer (start: port 9,
# end: port 10). "listening on" is no proof the socket sees packets yet,
# and a fixed pause before stopping is no proof every packet was printed.

# cap_peer IF: the IPv4 address at the other end of a lab link
cap_peer() {
	case $1 in
	"$IF_SRV") echo "$CLI4" ;;
	"$IF_SRVA") echo "$ATK4" ;;
	"$IF_CLI") echo "$SRV4" ;;
	"$IF_ATK") echo "$SRVA4" ;;
	esac
}
# cap_marker PORT: send one marker, 0 once one is in the capture
cap_marker() {
	in_ns "$CAP_NS" bash -c "echo xdpct-cap >/dev/udp/$CAP_PEER/$1" 2>/dev/null
	grep -q " > $CAP_PEER\.$1: UDP" "$CAP_OUT" 2>/dev/null
}
# cap_start NS IF FILTER [PEER4]: CAP_PID, CAP_OUT; 0 once the capture has
# seen its start marker, else 1 with CAP_WHY (the caller fails its check)
cap_start() {
	CAP_NS=$1 CAP_PEER=${4:-$(cap_peer "$2")} CAP_WHY=
	command -v tcpdump >/dev/null || { CAP_WHY="tcpdump missing (make deps)"; return 1; }
	[[ -n "$CAP_PEER" ]] || { CAP_WHY="no peer address for $2"; return 1; }
	CAP_OUT=$LAB_TMP/cap.$RANDOM.txt
	nsenter --net="/run/netns/$1" -- tcpdump -i "$2" -n -l -U --immediate-mode \
		"($3) or (ip and udp and dst host $CAP_PEER and (dst port 9 or dst port 10))" \
		>"$CAP_OUT" 2>"$CAP_OUT.err" &
	CAP_PID=$!
	LAB_PIDS+=("$CAP_PID")
	wait_until 30 cap_marker 9 && return 0
	CAP_WHY="tcpdump saw no start marker in 30 s: $(head -c 200 "$CAP_OUT.err" | tr '\n' '|')"
	return 1
}
# cap_stop: 0 once the end marker is printed (everything before it was),
# then the capture is stopped; 1 with CAP_WHY if the marker never came
cap_stop() {
	local rc=0
	CAP_WHY=
	if ! wait_until 30 cap_marker 10; then
		CAP_WHY="tcpdump did not print the end marker in 30 s"
		rc=1
	fi
	kill -INT "$CAP_PID" 2>/dev/null
	wait_pid "$CAP_PID" 5 >/dev/null 2>&1
	return $rc
}
