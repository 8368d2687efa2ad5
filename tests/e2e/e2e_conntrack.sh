#!/bin/bash
# Connection tracking with real connections, read back through
# `xdpct conns -j`: keep-alive, client-first and server-first close, a
# client reset, adoption of transfers running before attach, floods of
# forged ACKs/RSTs during a transfer, observe mode, config --track-all.
# Peers: tcppeer, curl, socat (servers), perl (SO_LINGER 0), bash /dev/tcp.
# shellcheck source=tests/lib.sh
source "$(dirname "$0")/../lib.sh"

P_KA=8081     # keep-alive HTTP (socat + bash responder)
P_CC=8082     # client closes first (tcppeer binary protocol)
P_SC=8083     # server closes first (socat)
P_RST=8084    # client resets (perl, SO_LINGER 0)
P_ADOPT=8085  # adoption: download paced by the server, held until released
P_SLOW=8086   # adoption: a reader that pauses (zero-window probes)
P_FLOOD=8087  # transfer under ACK/RST floods
P_OBS=8090    # observed, not protected
P_ALL=9100    # neither: tracked only after config --track-all
PROTECT=8080-8089
ADOPT_BYTES=40000000 # paced at 10 MB/s until released
SLOW_BYTES=16000000  # more than the paused reader's buffers hold
FLOOD_BYTES=40000000 # 8 s at curl --limit-rate 5M
FLOOD_SPORT=40123
FLOOD_N=20000

need_build "$XDPCT" "$TCPPEER" "$SYNFLOOD"
for t in socat curl perl; do
	command -v $t >/dev/null || die "$t missing (make deps)" setup
done
lab_up

# ---- helpers ----

X() { in_srv timeout 20 "$XDPCT" "$@"; }
# conns_j PORT: the JSON objects (one per line) of entries with PORT at an end
conns_j() { X conns "$IF_SRV" -j --port "$1" 2>/dev/null | grep '^{'; }
conn_state() { conns_j "$1" | head -n 1 | json_val state; }
state_is() { [[ "$(conn_state "$1")" == "$2" ]]; }
state_in() { # PORT STATE...
	local s p=$1
	s=$(conn_state "$p")
	shift
	[[ -n "$s" && " $* " == *" $s "* ]]
}
has_flag() { grep -q "\"flags\":\[[^]]*\"$1\""; }
# json_obj KEY < JSON: the flat object under KEY
json_obj() { grep -o "\"$1\":{[^}]*}" | head -n 1; }
count_entries() { conns_j "$1" | grep -c .; }
digest_of() { "$TCPPEER" gen --bytes "$1" | sha256sum | cut -d' ' -f1; }
file_digest() { sha256sum <"$1" 2>/dev/null | cut -d' ' -f1; }
established_in() { in_ns "$1" ss -Htn state established "( sport = :$2 or dport = :$2 )" | grep -q .; }
# expect_state NAME PORT TIMEOUT STATE...: poll until the entry is in one of them
expect_state() {
	local name=$1 port=$2 t=$3
	shift 3
	if wait_until "$t" state_in "$port" "$@"; then
		pass "$name"
	else
		fail "$name" "entry on port $port: '$(conn_state "$port")', want $*: $(conns_j "$port" | head -c 600)"
	fi
}
# no_legit_drops PHASE [SKIP]: the checks that only forged packets may
# trip stayed at zero since LEGIT_STATS (then LEGIT_STATS moves on); SKIP:
# one the phase's forged packets trip
no_legit_drops() {
	local c a b bad=
	stats_snap "$IF_SRV"
	for c in drop_ack_window drop_ct_invalid drop_cookie_stale pass_syn_tracked ct_pending_lost; do
		[[ "$c" == "${2:-}" ]] && continue
		a=$(xstat $c)
		b=$(json_num $c <<<"$LEGIT_STATS")
		if ! isnum "$a" || ! isnum "$b"; then
			bad+="$c unreadable ('$b' -> '$a') "
		elif ((a != b)); then
			bad+="$c +$((a - b)) "
		fi
	done
	if [[ -z "$bad" ]]; then pass "$1_no_legit_drops"; else fail "$1_no_legit_drops" "$bad"; fi
	LEGIT_STATS=$XSTATS
}
stat_delta() { # NAME: counter now minus in BASE_STATS
	local a b
	a=$(xstat "$1")
	b=$(json_num "$1" <<<"$BASE_STATS")
	diff_num "$a" "$b" # nothing if unreadable: the check fails
}

# ---- servers ----

# Keep-alive HTTP: answers each GET with a short body on the same
# connection, the second after a pause (the test looks at the entry then).
cat >"$LAB_TMP/ka.sh" <<'EOF'
n=0
while IFS= read -r line; do
	[[ "${line%$'\r'}" == GET* ]] || continue
	while IFS= read -r h && [[ -n "${h%$'\r'}" ]]; do :; done
	n=$((n + 1))
	((n == 2)) && sleep 2
	body="response $n"
	printf 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n%s' "${#body}" "$body"
done
EOF
bg_ns "$NS_SRV" "$LAB_TMP/ka.log" socat TCP-LISTEN:$P_KA,reuseaddr,fork EXEC:"bash $LAB_TMP/ka.sh"
# Server-first close: write a line, close.
bg_ns "$NS_SRV" "$LAB_TMP/sc.log" socat TCP-LISTEN:$P_SC,reuseaddr,fork SYSTEM:"echo hello"
# Reset target: holds the connection open.
bg_ns "$NS_SRV" "$LAB_TMP/rst.log" socat -T 30 TCP-LISTEN:$P_RST,reuseaddr,fork SYSTEM:"sleep 20"
# Paused reader's server: raw bytes, then close.
bg_ns "$NS_SRV" "$LAB_TMP/slow.log" socat TCP-LISTEN:$P_SLOW,reuseaddr,fork \
	SYSTEM:"$TCPPEER gen --bytes $SLOW_BYTES"
for p in $P_CC $P_ADOPT $P_FLOOD $P_OBS $P_ALL; do
	bg_ns "$NS_SRV" "$LAB_TMP/tcppeer.$p.log" "$TCPPEER" serve --port "$p" --backlog 128 \
		--info "$LAB_TMP/server.$p.j" --timeout 120
done
for p in $P_KA $P_SC $P_RST $P_CC $P_ADOPT $P_SLOW $P_FLOOD $P_OBS $P_ALL; do
	wait_port "$NS_SRV" "$p" 30 || die "no listener on $p" servers
done
# neighbours resolved before any timing matters
in_cli timeout 10 "$TCPPEER" connect --addr "$SRV4" --port $P_ALL --up 1k --down 1k \
	--timeout 5 >/dev/null 2>&1 || die "warm-up connection failed" warmup
in_cli timeout 10 "$TCPPEER" connect --addr "$SRV6" --port $P_ALL --up 1k --down 1k \
	--timeout 5 >/dev/null 2>&1 || die "warm-up connection (IPv6) failed" warmup

# ---- adoption: transfers started before attach ----

# The server paces its sending (the reader never stalls) and holds the
# last 64 KiB until adopt.release: the download spans the attach by
# construction.
bg_ns "$NS_CLI" "$LAB_TMP/adopt.err" curl -sS --max-time 120 -o "$LAB_TMP/adopt.bin" \
	"http://$SRV4:$P_ADOPT/$ADOPT_BYTES?rate=10m&hold=$LAB_TMP/adopt.release"
ADOPT_PID=$BG_PID
# A reader that reads nothing until slow.release: its window closes, and
# across the attach the server's only packets are zero-window probes (seq
# snd_una - 1).
bg_ns "$NS_CLI" "$LAB_TMP/slow.err" bash -c "exec 3</dev/tcp/$SRV4/$P_SLOW &&
	while [ ! -e '$LAB_TMP/slow.release' ]; do sleep 0.05; done && cat <&3 >'$LAB_TMP/slow.bin'"
SLOW_PID=$BG_PID
wait_until 30 established_in "$NS_SRV" $P_ADOPT || die "download on $P_ADOPT not established" adopt_setup
wait_until 30 established_in "$NS_SRV" $P_SLOW || die "download on $P_SLOW not established" adopt_setup
# the paused reader's window is closed: the server has more than it takes
slow_window_closed() { in_srv ss -Htn state established "( sport = :$P_SLOW )" | awk '$2 > 0 {f = 1} END {exit !f}'; }
wait_until 30 slow_window_closed || die "the paused reader's server has nothing queued" adopt_setup

if ! xdpct_attach "$IF_SRV" "$PROTECT" --observe $P_OBS >"$LAB_TMP/attach.out" 2>"$LAB_TMP/attach.err"; then
	die "xdpct attach failed: $(head -c 300 "$LAB_TMP/attach.err")" attach
fi
pass attach
note "$(cat "$LAB_TMP/attach.out")"
if grep -q "observing ports $P_OBS" "$LAB_TMP/attach.out"; then
	pass attach_message_observe
else
	fail attach_message_observe "$(cat "$LAB_TMP/attach.out")"
fi
n_adopted=$(sed -n 's/.*adopted \([0-9]*\) connection.*/\1/p' "$LAB_TMP/attach.out")
assert_ge attach_adopted_count "${n_adopted:-x}" 2
stats_snap "$IF_SRV"
BASE_STATS=$XSTATS
LEGIT_STATS=$XSTATS

for p in $P_ADOPT $P_SLOW; do
	line=$(conns_j "$p" | head -n 1)
	if has_flag ADOPTED <<<"$line" && [[ "$(json_val state <<<"$line")" =~ ^(ESTABLISHED|FIN_WAIT)$ ]] &&
		[[ "$(json_obj orig <<<"$line" | json_num dport)" == "$p" ]]; then
		pass "adopted_entry_$p"
	else
		fail "adopted_entry_$p" "entry: ${line:-none}"
	fi
done

touch "$LAB_TMP/adopt.release" "$LAB_TMP/slow.release"
wait_pid "$ADOPT_PID" 60
rc=$?
got=$(file_digest "$LAB_TMP/adopt.bin")
if ((rc == 0)) && [[ "$got" == "$(digest_of $ADOPT_BYTES)" ]]; then
	pass adopt_paced_download_completes
else
	fail adopt_paced_download_completes "curl rc $rc, $(stat -c %s "$LAB_TMP/adopt.bin" 2>/dev/null) bytes: $(head -c 200 "$LAB_TMP/adopt.err")"
fi
line=$(conns_j $P_ADOPT | head -n 1)
if has_flag ADOPTED <<<"$line"; then
	pass adopt_flag_kept
else
	fail adopt_flag_kept "entry: ${line:-none}"
fi
expect_state adopt_paced_ends_time_wait $P_ADOPT 5 TIME_WAIT

wait_pid "$SLOW_PID" 60
rc=$?
got=$(file_digest "$LAB_TMP/slow.bin")
if ((rc == 0)) && [[ "$got" == "$(digest_of $SLOW_BYTES)" ]]; then
	pass adopt_paused_reader_completes
else
	fail adopt_paused_reader_completes "reader rc $rc, $(stat -c %s "$LAB_TMP/slow.bin" 2>/dev/null) of $SLOW_BYTES bytes: $(head -c 200 "$LAB_TMP/slow.err"); entry: $(conns_j $P_SLOW | head -c 700)"
fi
# a stuck server socket would keep probing into the later phases
in_srv ss -K state established "( sport = :$P_SLOW )" >/dev/null 2>&1
stats_snap "$IF_SRV"
for c in drop_rst_window drop_cookie_bad drop_no_flow; do
	assert_eq "adopt_no_$c" "$(stat_delta $c)" 0
done
no_legit_drops adopt

# ---- keep-alive: two requests, one connection ----

bg_ns "$NS_CLI" "$LAB_TMP/ka.out" curl -sS --max-time 20 -o /dev/null -o /dev/null \
	-w '%{http_code} %{num_connects}\n' "http://$SRV4:$P_KA/a" "http://$SRV4:$P_KA/b"
KA_PID=$BG_PID
# the second answer comes 2 s after the first: the connection is open
expect_state keepalive_established_while_open $P_KA 3 ESTABLISHED
wait_pid "$KA_PID" 20
rc=$?
# "200 1" then "200 0": the second request reused the connection
assert_eq keepalive_two_requests_one_connection "$rc:$(tr '\n' ' ' <"$LAB_TMP/ka.out")" "0:200 1 200 0 "
expect_state keepalive_closed $P_KA 3 TIME_WAIT CLOSE
line=$(conns_j $P_KA | head -n 1)
assert_eq keepalive_one_entry "$(count_entries $P_KA)" 1
assert_ge keepalive_orig_packets "$(json_obj orig <<<"$line" | json_num packets)" 5
assert_ge keepalive_reply_packets "$(json_obj reply <<<"$line" | json_num packets)" 4
if has_flag COOKIE <<<"$line"; then
	pass keepalive_cookie_flow
else
	fail keepalive_cookie_flow "$line"
fi
no_legit_drops keepalive

# ---- the client closes first ----

for fam in 4 6; do
	addr=$SRV4
	((fam == 6)) && addr=$SRV6
	in_cli timeout 20 "$TCPPEER" connect --addr "$addr" --port $P_CC --up 100k --down 100k \
		--timeout 10 --json >"$LAB_TMP/cc$fam.j" 2>&1
	rc=$?
	check_rc "client_close_v${fam}_transfer" "$rc" "$(head -c 200 "$LAB_TMP/cc$fam.j")"
	expect_state "client_close_v${fam}_time_wait" $P_CC 3 TIME_WAIT
done
if conns_j $P_CC | grep -q '"family":"ipv6".*"state":"TIME_WAIT"'; then
	pass client_close_v6_entry
else
	fail client_close_v6_entry "$(conns_j $P_CC | head -c 600)"
fi
# TIME_WAIT sockets sit with the side that closed first
tw_cli=$(in_cli ss -Htn state time-wait "( dport = :$P_CC )" | grep -c .)
assert_ge client_close_client_holds_time_wait "$tw_cli" 2
no_legit_drops client_close

# ---- the server closes first ----

out=$(in_cli timeout 10 bash -c "exec 3<>/dev/tcp/$SRV4/$P_SC && cat <&3 && sleep 0.3" 2>&1)
assert_eq server_close_read "$out" hello
expect_state server_close_time_wait $P_SC 3 TIME_WAIT
tw_srv=$(in_srv ss -Htn state time-wait "( sport = :$P_SC )" | grep -c .)
tw_cli=$(in_cli ss -Htn state time-wait "( dport = :$P_SC )" | grep -c .)
assert_eq server_close_server_holds_time_wait "$tw_srv:$tw_cli" "1:0"
no_legit_drops server_close

# ---- the client resets ----

bg_ns "$NS_CLI" "$LAB_TMP/rst.out" perl -MIO::Socket::INET -MSocket -e '
	my $s = IO::Socket::INET->new(PeerAddr => $ARGV[0], PeerPort => $ARGV[1]) or die "connect: $!";
	print $s "hello\n";
	sleep 2;
	setsockopt($s, SOL_SOCKET, SO_LINGER, pack("ii", 1, 0)) or die "linger: $!";
	close($s);' "$SRV4" $P_RST
RST_PID=$BG_PID
expect_state reset_established_before $P_RST 2 ESTABLISHED
wait_pid "$RST_PID" 10
rc=$?
((rc == 0)) || fail reset_client_ran "exit $rc: $(head -c 200 "$LAB_TMP/rst.out")" # the test's client
expect_state reset_ends_close $P_RST 3 CLOSE
no_legit_drops reset

# ---- floods against a transfer ----

DMAC=$(link_mac "$NS_SRV" "$IF_SRV")
[[ -n "$DMAC" ]] || die "no MAC for $IF_SRV" flood_setup
bg_ns "$NS_CLI" "$LAB_TMP/flood_curl.err" curl -sS --max-time 60 --limit-rate 5M \
	--local-port $FLOOD_SPORT -o "$LAB_TMP/flood.bin" "http://$SRV4:$P_FLOOD/$FLOOD_BYTES"
FLOOD_CURL=$BG_PID
expect_state flood_transfer_established $P_FLOOD 5 ESTABLISHED
stats_snap "$IF_SRV"
BASE_STATS=$XSTATS
# flood NAME ARGS...: bounded generator in the client ns (same link)
flood() {
	local name=$1
	shift
	in_cli timeout 30 "$SYNFLOOD" --dev "$IF_CLI" --dmac "$DMAC" --dst "$SRV4" \
		--dport $P_FLOOD --count $FLOOD_N --rate 20000 --timeout 20 --seed $$ "$@" \
		>"$LAB_TMP/flood_$name.j" 2>&1
	json_num sent <"$LAB_TMP/flood_$name.j"
}
sent_ack=$(flood ack --mode ack --src-net 10.201.0.0/16)
sent_rst=$(flood rst_any --mode rst --src-net 10.201.0.0/16)
sent_rst_live=$(flood rst_live --mode rst --src "$CLI4" --sport $FLOOD_SPORT)
note "flood sent: ack ${sent_ack:-?}, rst ${sent_rst:-?}, rst on the live tuple ${sent_rst_live:-?}"
running=0
kill -0 "$FLOOD_CURL" 2>/dev/null && running=1
assert_eq flood_overlapped_transfer "$running" 1
stats_snap "$IF_SRV"
# ~all: a frame may be lost in the veth ring; random cookies are of a
# stale slot half the time (refused before the hash)
assert_ge flood_ack_drop_cookie_bad_or_stale \
	$(($(stat_delta drop_cookie_bad) + $(stat_delta drop_cookie_stale))) $((${sent_ack:-$FLOOD_N} * 95 / 100))
assert_gt flood_ack_some_checked "$(stat_delta drop_cookie_bad)" $((${sent_ack:-$FLOOD_N} / 4))
assert_ge flood_rst_drop_no_flow "$(stat_delta drop_no_flow)" $((${sent_rst:-$FLOOD_N} * 95 / 100))
win=$(stat_delta drop_rst_window)
chal=$(stat_delta ct_rst_challenge)
note "rst on the live tuple: drop_rst_window $win, ct_rst_challenge $chal"
assert_ge flood_rst_live_drop_rst_window "$win" $((${sent_rst_live:-$FLOOD_N} * 95 / 100))
assert_le flood_rst_live_accounted "$((win + chal))" "${sent_rst_live:-0}"
if state_is $P_FLOOD ESTABLISHED; then
	pass flood_entry_still_established
else
	fail flood_entry_still_established "$(conns_j $P_FLOOD | head -c 500)"
fi
wait_pid "$FLOOD_CURL" 60
rc=$?
got=$(file_digest "$LAB_TMP/flood.bin")
if ((rc == 0)) && [[ "$got" == "$(digest_of $FLOOD_BYTES)" ]]; then
	pass flood_transfer_undisturbed
else
	fail flood_transfer_undisturbed "curl rc $rc: $(head -c 200 "$LAB_TMP/flood_curl.err")"
fi
assert_eq flood_no_state_from_forged "$(X conns "$IF_SRV" -j 2>/dev/null | grep -c '"src":"10\.201\.')" 0
no_legit_drops flood drop_cookie_stale # half of the ACK flood's random cookies

# ---- observe mode: tracked from the first SYN, no cookies ----

stats_snap "$IF_SRV"
BASE_STATS=$XSTATS
# Hold the first SYN after XDP (nft input runs after XDP and TC): the entry
# sits in SYN_SENT until the client retransmits after the rule is gone.
NFT=0
if command -v nft >/dev/null &&
	in_srv nft -f - <<EOF 2>"$LAB_TMP/nft.err"
table inet xdpct_test {
	chain in {
		type filter hook input priority 0;
		tcp dport $P_OBS tcp flags & (syn | ack) == syn drop
	}
}
EOF
then
	NFT=1
fi
bg_ns "$NS_CLI" "$LAB_TMP/obs.j" "$TCPPEER" connect --addr "$SRV4" --port $P_OBS --up 10k \
	--down 10k --header-pause 2 --timeout 15 --json
OBS_PID=$BG_PID
if ((NFT)); then
	expect_state observe_syn_sent $P_OBS 3 SYN_SENT
	in_srv nft delete table inet xdpct_test
else
	skip observe_syn_sent "nft missing or failed: $(head -c 200 "$LAB_TMP/nft.err")"
fi
# the upload waits 2 s after the header: open meanwhile
expect_state observe_established $P_OBS 5 ESTABLISHED
wait_pid "$OBS_PID" 20
check_rc observe_transfer "$?" "$(head -c 200 "$LAB_TMP/obs.j")"
expect_state observe_time_wait $P_OBS 3 TIME_WAIT
line=$(conns_j $P_OBS | head -n 1)
if has_flag COOKIE <<<"$line" || has_flag ADOPTED <<<"$line"; then
	fail observe_no_cookie "$line"
else
	pass observe_no_cookie
fi
stats_snap "$IF_SRV"
assert_eq observe_tx_synack_unchanged "$(stat_delta tx_synack)" 0
assert_ge observe_pass_ct_new "$(stat_delta pass_ct_new)" 1
no_legit_drops observe

# ---- config --track-all adopts (here over IPv6), then tracks every port ----

bg_ns "$NS_CLI" "$LAB_TMP/all.j" "$TCPPEER" connect --addr "$SRV6" --port $P_ALL --up 10k \
	--down 10k --header-pause 3 --timeout 15 --json
ALL_PID=$BG_PID
wait_until 30 established_in "$NS_SRV" $P_ALL
assert_eq track_all_untracked_before "$(count_entries $P_ALL)" 0
out=$(X config --ifname "$IF_SRV" --ports "$PROTECT" --observe $P_OBS --track-all 2>&1)
check_rc config_track_all $? "$out"
note "$out"
if [[ "$out" =~ tracking\ all\ TCP\ flows.*adopted\ [1-9][0-9]*\ connection ]]; then
	pass config_message
else
	fail config_message "$out"
fi
line=$(conns_j $P_ALL | head -n 1)
if has_flag ADOPTED <<<"$line" && [[ "$(json_val family <<<"$line")" == ipv6 &&
	"$(json_obj orig <<<"$line" | json_val src)" == "$CLI6" ]]; then
	pass config_adopted_ipv6
else
	fail config_adopted_ipv6 "entry: ${line:-none}"
fi
wait_pid "$ALL_PID" 20
check_rc track_all_adopted_transfer "$?" "$(head -c 200 "$LAB_TMP/all.j")"
in_cli timeout 10 "$TCPPEER" connect --addr "$SRV4" --port $P_ALL --up 1k --down 1k \
	--timeout 5 >/dev/null 2>&1
check_rc track_all_new_connection $? "tcppeer to $P_ALL failed"
if conns_j $P_ALL | grep -v ADOPTED | grep -q '"family":"ipv4".*"state":"TIME_WAIT"'; then
	pass track_all_tracks_new
else
	fail track_all_tracks_new "$(conns_j $P_ALL | head -c 600)"
fi
no_legit_drops track_all

# ---- the CLI itself ----

X conns "$IF_SRV" >"$LAB_TMP/conns.txt" 2>"$LAB_TMP/conns.err"
check_rc conns_text $? "$(head -c 200 "$LAB_TMP/conns.err")"
n_lines=$(grep -c . "$LAB_TMP/conns.txt")
re='^tcp +6 [0-9]+ [A-Z_2]+ src=[0-9a-f.:]+ dst=[0-9a-f.:]+ sport=[0-9]+ dport=[0-9]+ packets=[0-9]+ bytes=[0-9]+ (\[UNREPLIED\] )?src=[0-9a-f.:]+ dst=[0-9a-f.:]+ sport=[0-9]+ dport=[0-9]+ packets=[0-9]+ bytes=[0-9]+ (\[[A-Z]+\] )*age=[0-9]+s local=[-A-Z_12]+ remote=[-A-Z_12]+$'
assert_eq conns_text_format "$(grep -Evc "$re" "$LAB_TMP/conns.txt")" 0
assert_eq conns_summary_on_stderr "$(cat "$LAB_TMP/conns.err")" "xdpct: $n_lines flow entries"
n_tw=$(X conns "$IF_SRV" --state time_wait 2>/dev/null | grep -c .)
assert_eq conns_state_filter "$n_tw" "$(grep -c ' TIME_WAIT ' "$LAB_TMP/conns.txt")"
X conns "$IF_SRV" --state bogus >/dev/null 2>"$LAB_TMP/err"
rc=$?
assert_eq conns_bad_state "$rc:$(grep -c . "$LAB_TMP/err")" "2:1"
X conns "$IF_SRV" --port 70000 >/dev/null 2>"$LAB_TMP/err"
rc=$?
assert_eq conns_bad_port "$rc:$(grep -c . "$LAB_TMP/err")" "2:1"
X conns nosuchif0 >/dev/null 2>"$LAB_TMP/err"
rc=$?
assert_eq conns_not_attached "$rc:$(grep -c 'not attached' "$LAB_TMP/err")" "1:1"
# bpftool names the state from BTF (a packed enum)
if timeout 10 bpftool map dump pinned "$(pin_of "$IF_SRV")/xdpct_flows4" 2>/dev/null |
	grep -q '"state": "XDPCT_CT_[A-Z_]*"'; then
	pass bpftool_state_name
else
	fail bpftool_state_name "$(timeout 10 bpftool map dump pinned "$(pin_of "$IF_SRV")/xdpct_flows4" 2>&1 | grep -m1 state)"
fi
if "$XDPCT" states | grep -q '^ORIG '; then
	pass states_text
else
	fail states_text "no ORIG table"
fi
if command -v dot >/dev/null; then
	"$XDPCT" states --dot | dot -Tsvg >/dev/null 2>"$LAB_TMP/dot.err"
	check_rc states_dot_renders $? "$(head -c 200 "$LAB_TMP/dot.err")"
else
	skip states_dot_renders "graphviz missing"
fi

stats_snap "$IF_SRV"
note "stats: $(tr -d '\n' <<<"$XSTATS" | head -c 2000)"
lab_finish
