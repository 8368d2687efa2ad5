#!/bin/bash
# Two network namespaces, each with an interface named eth0 (veths renamed),
# the same addresses in both (as two containers get), a real server and
# client in each, and `xdpct attach eth0` in each with other ports. bpffs
# and /run are shared by every namespace: the attachments must never meet.
#  - the host's paths stay $PIN_ROOT/IFACE and /run/xdpct/IFACE.pid; a
#    namespace's are under netns:COOKIE (its SO_NETNS_COOKIE)
#  - both attach afresh (the second is no reload over the first's maps):
#    other pins, other maps, other keys, each its own ports
#  - a connection through each is tracked in its own namespace only
#  - `xdpct status` in a namespace lists its own eth0; the host's lists
#    neither as its own
#  - one namespace's pins are refused to the other (--pin-dir): attach
#    and detach leave them alone
#  - detach in one leaves the other working: pins, programs, maps, a
#    download running across it, new connections
#  - `xdpct run eth0` in both at once: two locks, both run
#  - pins of an eth0 deleted and made again are refused, not reloaded
#    over; detach removes them
# shellcheck source=tests/lib.sh
source "$(dirname "$0")/../lib.sh"

PA=8080 # protected in A
PB=8081 # protected in B
BYTES=8000000
RATE=2m # server-paced while held

need_build "$XDPCT" "$TCPPEER"
command -v curl >/dev/null || die "curl missing (make deps)" setup
command -v python3 >/dev/null || die "python3 missing" setup

NS_A=$NS_SRV NS_B=$NS_SRV2 CL_A=$NS_CLI CL_B=$NS_CLI2
PIN_A='' PIN_B=''
# our eth0s are not in LAB_ATTACHED: lab_down would remove $PIN_ROOT/eth0,
# which is the host's. Detach in our namespaces, remove only pins under
# our own netns:COOKIE directories.
netns_down() {
	local ns d
	for ns in "$NS_A" "$NS_B"; do
		[[ -e "/run/netns/$ns" ]] && timeout 10 nsenter --net="/run/netns/$ns" -- \
			"$XDPCT" detach eth0 >/dev/null 2>&1
	done
	for d in "$PIN_A" "$PIN_B"; do
		[[ "$d" == "$PIN_ROOT"/netns:*/eth0 && -d "$d" ]] && rm -rf "$d"
		[[ "$d" == "$PIN_ROOT"/netns:*/eth0 ]] && rmdir "${d%/*}" 2>/dev/null
	done
	lab_down
}

lab_up
trap netns_down EXIT
# A: the lab's server link, its server end renamed eth0
in_ns "$NS_A" ip link set dev "$IF_SRV" down &&
	in_ns "$NS_A" ip link set dev "$IF_SRV" name eth0 &&
	in_ns "$NS_A" ip link set dev eth0 up || die "rename $IF_SRV to eth0" setup_a
# B: a second server and client, the same addresses
for ns in "$NS_B" "$CL_B"; do
	ip netns add "$ns" || die "ip netns add $ns" setup_b
	LAB_NS+=("$ns")
	in_ns "$ns" ip link set dev lo up
done
lab_add_link "$NS_B" eth0 "$SRV4" "$SRV6" "$CL_B" "$IF_CLI" "$CLI4" "$CLI6" || die "link B" setup_b
ip -n "$CL_B" link set dev "$IF_CLI" xdp obj "$XDP_PASS_OBJ" sec xdp || die "pass-through XDP in $CL_B" setup_b

XA() { in_ns "$NS_A" timeout 30 "$XDPCT" "$@"; }
XB() { in_ns "$NS_B" timeout 30 "$XDPCT" "$@"; }
cookie_of() { # NS: its SO_NETNS_COOKIE, read apart from xdpct
	in_ns "$1" python3 -c 'import socket, struct
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
print(struct.unpack("Q", s.getsockopt(socket.SOL_SOCKET, 71, 8))[0])'
}
map_id() { bpftool -j map show pinned "$1" 2>/dev/null | json_num id; }
keys_of() { # PIN: the cookie keys in its config map
	config_json "$1" | grep -o '"k[01]": *[0-9]*' | tr -d ' \n'
}
connect() { # CLIENT_NS PORT
	in_ns "$1" timeout 20 "$TCPPEER" connect --addr "$SRV4" --port "$2" --up 16k --down 16k \
		--timeout 5 >/dev/null 2>&1
}
synacks() { in_ns "$1" timeout 10 "$XDPCT" stats eth0 -j 2>/dev/null | json_num tx_synack; }
conns_on() { # NS PORT: entries with PORT at an end
	in_ns "$1" timeout 10 "$XDPCT" conns eth0 -j --port "$2" 2>/dev/null | grep -c '^{'
}

bg_ns "$NS_A" "$LAB_TMP/srv.a.log" "$TCPPEER" serve --port $PA --backlog 1024 --timeout 200
bg_ns "$NS_B" "$LAB_TMP/srv.b.log" "$TCPPEER" serve --port $PB --backlog 1024 --timeout 200
wait_port "$NS_A" $PA 30 || die "no listener in A" servers
wait_port "$NS_B" $PB 30 || die "no listener in B" servers

# ---- the keys ----
CK_A=$(cookie_of "$NS_A") CK_B=$(cookie_of "$NS_B")
isnum "$CK_A" && isnum "$CK_B" || die "cannot read the netns cookies ($CK_A, $CK_B)" cookies
PIN_A=$(XA pin-dir eth0) PIN_B=$(XB pin-dir eth0)
assert_eq pin_dir_a "$PIN_A" "$PIN_ROOT/netns:$CK_A/eth0"
assert_eq pin_dir_b "$PIN_B" "$PIN_ROOT/netns:$CK_B/eth0"
assert_eq lock_a "$(XA pin-dir eth0 --lock)" "/run/xdpct/netns:$CK_A/eth0.pid"
# the initial namespace (this shell's) keeps the familiar paths
if [[ "$(readlink /proc/self/ns/net)" == "net:[4026531833]" ]]; then
	assert_eq pin_dir_host "$("$XDPCT" pin-dir eth0)" "$PIN_ROOT/eth0"
	assert_eq lock_host "$("$XDPCT" pin-dir eth0 --lock)" "/run/xdpct/eth0.pid"
else
	skip pin_dir_host "this shell is not in the initial network namespace"
fi

# ---- attach in both ----
XA attach eth0 --ports $PA >"$LAB_TMP/a.out" 2>&1 || die "attach in A: $(head -c 300 "$LAB_TMP/a.out")" attach_a
XB attach eth0 --ports $PB >"$LAB_TMP/b.out" 2>&1
check_rc attach_b $? "$(head -c 300 "$LAB_TMP/b.out")"
# a reload would say so: B must have made its own attachment
if grep -q '^xdpct: attached to eth0' "$LAB_TMP/b.out" && ! grep -q reloaded "$LAB_TMP/b.out"; then
	pass attach_b_fresh
else
	fail attach_b_fresh "$(head -c 300 "$LAB_TMP/b.out")"
fi
MA=$(map_id "$PIN_A/xdpct_flows4") MB=$(map_id "$PIN_B/xdpct_flows4")
CA=$(map_id "$PIN_A/xdpct_config") CB=$(map_id "$PIN_B/xdpct_config")
if isnum "$MA" && isnum "$MB" && ((MA != MB)) && isnum "$CA" && isnum "$CB" && ((CA != CB)); then
	pass own_maps
else
	fail own_maps "flows4 ids A '$MA' B '$MB', config ids A '$CA' B '$CB'"
fi
KA=$(keys_of "$PIN_A") KB=$(keys_of "$PIN_B")
if [[ -n "$KA" && -n "$KB" && "$KA" != "$KB" ]]; then pass own_keys; else
	fail own_keys "A '$KA' B '$KB'"
fi
sa=$(XA status -j) sb=$(XB status -j)
assert_eq status_a_ports "$(grep -o '"protect":\[[^]]*\]' <<<"$sa")" "\"protect\":[$PA]"
assert_eq status_b_ports "$(grep -o '"protect":\[[^]]*\]' <<<"$sb")" "\"protect\":[$PB]"
assert_eq status_a_one "$(grep -o '"ifname":' <<<"$sa" | wc -l):$(json_val pin_dir <<<"$sa")" "1:$PIN_A"
assert_eq status_a_netns "$(json_num netns_cookie <<<"$sa")" "$CK_A"
assert_eq status_b_one "$(grep -o '"ifname":' <<<"$sb" | wc -l):$(json_val pin_dir <<<"$sb")" "1:$PIN_B"
# the host lists neither as its own interface
sh=$("$XDPCT" status -j 2>/dev/null)
if ! grep -q "netns:$CK_A\|netns:$CK_B" <<<"$sh"; then pass status_host_not_mine; else
	fail status_host_not_mine "$(head -c 300 <<<"$sh")"
fi
if "$XDPCT" status 2>/dev/null | grep -Eq '^\(and to [0-9]+ interfaces? of other network namespaces'; then
	pass status_host_counts_others
else
	fail status_host_counts_others "$("$XDPCT" status 2>&1 | tail -n 2)"
fi

# ---- a connection through each, tracked where it is ----
s0a=$(synacks "$NS_A") s0b=$(synacks "$NS_B")
connect "$CL_A" $PA
check_rc connect_a $? "through A"
connect "$CL_B" $PB
check_rc connect_b $? "through B"
assert_ge synack_a "$(diff_num "$(synacks "$NS_A")" "$s0a")" 1
assert_ge synack_b "$(diff_num "$(synacks "$NS_B")" "$s0b")" 1
assert_ge conns_a_own "$(conns_on "$NS_A" $PA)" 1
assert_eq conns_a_not_b "$(conns_on "$NS_A" $PB)" 0
assert_ge conns_b_own "$(conns_on "$NS_B" $PB)" 1
assert_eq conns_b_not_a "$(conns_on "$NS_B" $PA)" 0

# ---- another namespace's pins are not ours ----
XA attach eth0 --ports $PA --pin-dir "$PIN_B" >"$LAB_TMP/x.out" 2>"$LAB_TMP/x.err"
rc=$?
if ((rc == 1)) && [[ $(wc -l <"$LAB_TMP/x.err") == 1 ]] && grep -q 'another network namespace' "$LAB_TMP/x.err"; then
	pass foreign_attach_refused
else
	fail foreign_attach_refused "rc $rc: $(head -c 300 "$LAB_TMP/x.err") $(head -c 200 "$LAB_TMP/x.out")"
fi
XA detach eth0 --pin-dir "$PIN_B" >"$LAB_TMP/x.out" 2>"$LAB_TMP/x.err"
rc=$?
if ((rc == 1)) && grep -q 'another network namespace' "$LAB_TMP/x.err" && [[ -e "$PIN_B/xdpct_config" ]]; then
	pass foreign_detach_refused
else
	fail foreign_detach_refused "rc $rc: $(head -c 300 "$LAB_TMP/x.err")"
fi
assert_eq foreign_b_untouched "$(map_id "$PIN_B/xdpct_flows4"):$(keys_of "$PIN_B")" "$MB:$KB"

# ---- detach in A leaves B whole ----
bg_ns "$CL_B" "$LAB_TMP/dl.err" curl -sS --max-time 120 -o "$LAB_TMP/dl.bin" \
	"http://$SRV4:$PB/$BYTES?rate=$RATE&hold=$LAB_TMP/dl.release"
DL=$BG_PID
dl_up() { in_ns "$NS_B" ss -Htn state established "( sport = :$PB )" | grep -q .; }
wait_until 30 dl_up || fail download_started "no established download in B"
progs_b() { XB status eth0 -j 2>/dev/null | grep -o '"attached":true' | wc -l; }
pb0=$(progs_b)
XA detach eth0 >"$LAB_TMP/d.out" 2>&1
check_rc detach_a $? "$(head -c 300 "$LAB_TMP/d.out")"
if nothing_attached "$NS_A" eth0; then pass detach_a_clean; else fail detach_a_clean "$WHY"; fi
if [[ -e "$PIN_B/xdpct_config" && -e "$PIN_B/prog_xdp" ]]; then pass detach_a_b_pins; else
	fail detach_a_b_pins "$(find "$PIN_B" 2>&1 | tr '\n' ' ')"
fi
assert_eq detach_a_b_programs "$(progs_b)" "$pb0"
assert_eq detach_a_b_maps "$(map_id "$PIN_B/xdpct_flows4"):$(keys_of "$PIN_B")" "$MB:$KB"
s1b=$(synacks "$NS_B")
connect "$CL_B" $PB
check_rc detach_a_b_connects $? "through B after A's detach"
assert_ge detach_a_b_shields "$(diff_num "$(synacks "$NS_B")" "$s1b")" 1
touch "$LAB_TMP/dl.release"
wait_pid "$DL" 60
rc=$?
sz=$(stat -c %s "$LAB_TMP/dl.bin" 2>/dev/null)
if ((rc == 0)) && [[ "$sz" == "$BYTES" ]]; then pass detach_a_b_download; else
	fail detach_a_b_download "curl rc $rc, ${sz:-0} bytes: $(head -c 200 "$LAB_TMP/dl.err")"
fi

# ---- xdpct run in both at once ----
bg_ns "$NS_A" "$LAB_TMP/run.a.log" "$XDPCT" run eth0 --ports $PA
RA=$BG_PID
bg_ns "$NS_B" "$LAB_TMP/run.b.log" "$XDPCT" run eth0 --ports $PB
RB=$BG_PID
run_pid_is() { [[ "$(in_ns "$1" "$XDPCT" status eth0 -j 2>/dev/null | json_num run_pid)" == "$2" ]]; }
wait_until 30 run_pid_is "$NS_A" "$RA"
wait_until 30 run_pid_is "$NS_B" "$RB"
sleep 1
if kill -0 "$RA" 2>/dev/null && kill -0 "$RB" 2>/dev/null && run_pid_is "$NS_A" "$RA" &&
	run_pid_is "$NS_B" "$RB"; then
	pass run_both
else
	fail run_both "A: $(tail -n 2 "$LAB_TMP/run.a.log" | tr '\n' '|') B: $(tail -n 2 "$LAB_TMP/run.b.log" | tr '\n' '|')"
fi
assert_eq run_lock_b "$(head -n 1 "$(XB pin-dir eth0 --lock)" 2>/dev/null)" "$RB"
connect "$CL_A" $PA
check_rc run_both_connect_a $? "through A under run"
connect "$CL_B" $PB
check_rc run_both_connect_b $? "through B under run"
kill -TERM "$RA" "$RB"
wait_pid "$RA" 15
ra=$?
wait_pid "$RB" 15
rb=$?
assert_eq run_both_exit "$ra:$rb" "0:0"

# ---- an eth0 deleted and made again: its old pins are refused ----
XA attach eth0 --ports $PA >/dev/null 2>&1 || fail stale_setup "attach in A"
in_ns "$NS_A" ip link del eth0
ip link add eth0 netns "$NS_A" type veth peer name "$IF_CLI" netns "$CL_A" ||
	die "remake eth0" stale_setup
in_ns "$NS_A" ip link set dev eth0 up
XA attach eth0 --ports $PA >"$LAB_TMP/s.out" 2>"$LAB_TMP/s.err"
rc=$?
nothing_attached "$NS_A" eth0 # only the old pins: nothing on the new eth0
if ((rc == 1)) && grep -q 'earlier eth0' "$LAB_TMP/s.err" && [[ "$WHY" == "$PIN_A exists; " ]]; then
	pass stale_refused
else
	fail stale_refused "rc $rc: $(head -c 300 "$LAB_TMP/s.err") $(head -c 200 "$LAB_TMP/s.out") $WHY"
fi
XA detach eth0 >"$LAB_TMP/s.out" 2>&1
rc=$?
if ((rc == 0)) && [[ ! -e "$PIN_A" ]]; then pass stale_detach_removes; else
	fail stale_detach_removes "rc $rc: $(head -c 300 "$LAB_TMP/s.out")"
fi
XA attach eth0 --ports $PA >"$LAB_TMP/s.out" 2>&1
check_rc stale_attach_after $? "$(head -c 300 "$LAB_TMP/s.out")"
XA detach eth0 >/dev/null 2>&1
XB detach eth0 >/dev/null 2>&1
if [[ ! -e "$PIN_ROOT/netns:$CK_A" && ! -e "$PIN_ROOT/netns:$CK_B" ]]; then pass netns_dirs_removed; else
	fail netns_dirs_removed "$(find "$PIN_ROOT/netns:$CK_A" "$PIN_ROOT/netns:$CK_B" 2>/dev/null | tr '\n' ' ')"
fi

lab_finish
