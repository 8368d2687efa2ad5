#!/bin/bash
# `xdpct events`: the connection tracking events of real connections, like
# `conntrack -E`. One connection's whole life in order (NEW, each state
# and end-state change, DESTROY with its reason), IPv4 on a protected port
# (cookies) and IPv6 on an observed one; removals by `xdpct evict`
# (timeout, closed) and by `xdpct run`'s wheel; an idle connection removed
# and brought back from its socket (NEW, no "evicted"); one pushed out by
# a full table's LRU (DESTROY evicted when its next packet comes); one
# removed by `xdpct conns --delete` (DESTROY removed, then NEW); a burst
# larger than the ring buffer, whose losses are reported and add up; no
# reader, nothing sent; one reader at a time; the text format; errors.
# shellcheck source=tests/lib.sh
source "$(dirname "$0")/../lib.sh"

P=8080  # protected
PO=8090 # observed

need_build "$XDPCT" "$TCPPEER" "$SYNFLOOD" "$BUILD/mapfill"
command -v python3 >/dev/null || die "python3 missing" setup
lab_up attacker
xdpct_attach "$IF_SRV" $P --observe $PO >"$LAB_TMP/attach.out" 2>&1 ||
	die "attach: $(cat "$LAB_TMP/attach.out")" attach
for port in $P $PO; do
	bg_ns "$NS_SRV" "$LAB_TMP/server$port.log" "$TCPPEER" serve --port $port --backlog 1024 --timeout 300
	wait_port "$NS_SRV" $port 10 || die "tcppeer serve did not listen on $port" server
done

# ev_start IFACE NAME [args]: a reader in the background, its JSON lines in
# $LAB_TMP/NAME.j; returns once it listens
ev_start() {
	local ifc=$1 name=$2
	shift 2
	nsenter --net="/run/netns/$NS_SRV" -- "$XDPCT" events "$ifc" "$@" \
		>"$LAB_TMP/$name.j" 2>"$LAB_TMP/$name.err" &
	EV_PID=$!
	LAB_PIDS+=("$EV_PID")
	wait_grep 10 "events of $ifc" cat "$LAB_TMP/$name.err" || die "xdpct events did not start: $(cat "$LAB_TMP/$name.err")" events
}
ev_stop() { kill -INT "$1" 2>/dev/null; wait_pid "$1" 10; }
X() { in_srv timeout 30 "$XDPCT" "$@"; }

# evcheck FILE ARGS..: tests/e2e/events_check.py on a reader's output
cat >"$LAB_TMP/check.py" <<'PY'
# Checks one connection's events (JSON lines of `xdpct events -j`).
# argv: file, src addr, dport, then checks:
#   first=EVENT:STATE  last=EVENT:STATE  reason=R (of the last DESTROY)
#   has=EVENT:STATE  hasnot=EVENT[:REASON]  flag=FLAG (of the first)
#   chain (each UPDATE's old_state is the previous event's state, times
#   never go back)  endstates=L,R (local/remote state of the last UPDATE)
# Prints the sequence; exit 1 with the first failed check.
import json, sys
f, src, dport = sys.argv[1], sys.argv[2], int(sys.argv[3])
evs = []
for line in open(f):
    try:
        e = json.loads(line)
    except ValueError:
        continue
    if e.get("event") == "LOST":
        continue
    o = e["orig"]
    t = (o["src"], o["dport"]) if o["dport"] == dport else (e["reply"]["src"], e["reply"]["dport"])
    if src in (o["src"], o["dst"]) and dport in (o["dport"], o["sport"]):
        evs.append(e)
seq = " ".join("%s:%s%s[%s,%s]" % (e["event"], e["state"], "(" + e["reason"] + ")" if "reason" in e else "", e["local_state"], e["remote_state"]) for e in evs)
print(seq)
def bad(m):
    print("FAILED: " + m)
    sys.exit(1)
if not evs:
    bad("no events")
for c in sys.argv[4:]:
    k, _, v = c.partition("=")
    if k == "first" and "%s:%s" % (evs[0]["event"], evs[0]["state"]) != v:
        bad("first is not " + v)
    if k == "last" and "%s:%s" % (evs[-1]["event"], evs[-1]["state"]) != v:
        bad("last is not " + v)
    if k == "reason" and evs[-1].get("reason") != v:
        bad("last reason is not " + v)
    if k == "has" and not any("%s:%s" % (e["event"], e["state"]) == v for e in evs):
        bad("no " + v)
    if k == "hasnot":
        ev, _, r = v.partition(":")
        if any(e["event"] == ev and (not r or e.get("reason") == r) for e in evs):
            bad("has " + v)
    if k == "flag" and v not in evs[0]["flags"]:
        bad("first lacks flag " + v)
    if k == "endstates":
        u = [e for e in evs if e["event"] == "UPDATE"]
        if not u or "%s,%s" % (u[-1]["local_state"], u[-1]["remote_state"]) != v:
            bad("end states are not " + v)
    if k == "chain":
        for a, b in zip(evs, evs[1:]):
            if b["time"] < a["time"]:
                bad("time goes back")
            if b["event"] == "UPDATE" and b["old_state"] != a["state"]:
                bad("UPDATE from %s after %s" % (b["old_state"], a["state"]))
            if b["event"] == "UPDATE" and b["state"] == a["state"] and \
               (b["local_state"], b["remote_state"]) == (a.get("local_state"), a.get("remote_state")):
                bad("UPDATE with nothing changed")
PY
evcheck() { # NAME FILE SRC DPORT CHECKS..
	local name=$1 out
	shift
	if out=$(python3 "$LAB_TMP/check.py" "$@" 2>&1); then
		note "$name: $(head -n 1 <<<"$out")"
		pass "$name"
	else
		fail "$name" "$(tr '\n' ' ' <<<"$out")"
	fi
}
conn() { # SRC DST PORT: 100 KB each way, digests checked
	in_cli timeout 20 "$TCPPEER" connect --src "$1" --addr "$2" --port "$3" --up 100k \
		--down 100k --timeout 10 --json >"$LAB_TMP/conn.j" 2>&1 &&
		grep -q '"ok":true' "$LAB_TMP/conn.j"
}
tw_gone() { ! X conns "$IF_SRV" 2>/dev/null | grep -q "src=$1 .*dport=$2 "; }

# ---- one connection's life: protected (IPv4, cookies), observed (IPv6) ----
ev_start "$IF_SRV" life -j
check life_conn4 "connection failed" conn $CLI4 $SRV4 $P
check life_conn6 "connection failed" conn $CLI6 $SRV6 $PO
sleep 0.5 # the last ACKs
sleep 1.1
out=$(X evict "$IF_SRV" --timeout time_wait=1,close=1 2>&1) || fail life_evict "$out"
wait_until 5 grep -q '"DESTROY"' "$LAB_TMP/life.j"
sleep 0.5
ev_stop "$EV_PID"
evcheck life4 "$LAB_TMP/life.j" $CLI4 $P first=NEW:SYN_RECV flag=COOKIE has=UPDATE:ESTABLISHED \
	has=UPDATE:TIME_WAIT last=DESTROY:TIME_WAIT reason=closed chain
evcheck life6 "$LAB_TMP/life.j" $CLI6 $PO first=NEW:SYN_SENT flag=OBSERVED has=UPDATE:SYN_RECV \
	has=UPDATE:ESTABLISHED has=UPDATE:TIME_WAIT last=DESTROY:TIME_WAIT reason=closed chain
# who closed first is tcppeer's choice: one end in TIME_WAIT, the other CLOSED
tw=$(python3 - "$LAB_TMP/life.j" <<'PY'
import json, sys
u = [json.loads(l) for l in open(sys.argv[1]) if '"UPDATE"' in l and '"state":"TIME_WAIT"' in l]
print(" ".join(sorted([u[0]["local_state"], u[0]["remote_state"]])) if u else "")
PY
)
assert_eq life_time_wait_ends "$tw" "CLOSED TIME_WAIT"
grep -q "events, 0 lost" "$LAB_TMP/life.err" && pass life_summary ||
	fail life_summary "$(tail -n 1 "$LAB_TMP/life.err")"

# ---- the text format, like conntrack -E ----
ev_start "$IF_SRV" text -c 1
check text_conn "connection failed" conn $CLI4 $SRV4 $P
wait_pid "$EV_PID" 10
line=$(head -n 1 "$LAB_TMP/text.j")
if [[ "$line" =~ ^\ {4}\[NEW\]\ tcp\ +6\ [0-9]+\ SYN_RECV\ src=$CLI4\ dst=$SRV4\ sport=[0-9]+\ dport=$P\ packets=1\ .*\[COOKIE\].*local=SYN_RECEIVED\ remote=ESTABLISHED$ ]]; then
	pass text_new_line
else
	fail text_new_line "$line"
fi

# held NS SRC DST NAME: a connection that stops after its header until
# $LAB_TMP/NAME.go exists (HELD: its pid); release NAME: let it finish
held() {
	rm -f "$LAB_TMP/$4.go"
	bg_ns "$1" "$LAB_TMP/$4.j" "$TCPPEER" connect ${2:+--src $2} --addr "$3" --port $P \
		--up 200k --down 200k --hold "$LAB_TMP/$4.go" --timeout 30 --json
	HELD=$BG_PID
}
release() { # NAME CHECK
	touch "$LAB_TMP/$1.go"
	wait_pid "$HELD" 30
	grep -q '"ok":true' "$LAB_TMP/$1.j" && pass "$2" || fail "$2" "$(cat "$LAB_TMP/$1.j")"
}
# then_adopted NAME FILE SRC REASON: a DESTROY with REASON, and right after
# it the NEW of the entry restored from the socket
then_adopted() {
	python3 - "$2" "$3" "$4" <<'PY' && pass "$1" || fail "$1" "no DESTROY $4 followed by NEW ADOPTED"
import json, sys
e = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{") and sys.argv[2] in l]
i = next((i for i, x in enumerate(e) if x["event"] == "DESTROY" and x["reason"] == sys.argv[3]), None)
sys.exit(0 if i is not None and i + 1 < len(e) and e[i + 1]["event"] == "NEW" and
         "ADOPTED" in e[i + 1]["flags"] else 1)
PY
}
established() { X conns "$IF_SRV" --state established 2>/dev/null | grep -q "src=$CLI4 "; }

# ---- idle timeout: DESTROY timeout, then NEW from the socket (not evicted) ----
ev_start "$IF_SRV" idle -j
held "$NS_CLI" $CLI4 $SRV4 held
wait_until 10 established || fail idle_established "no ESTABLISHED entry"
sleep 1.2
out=$(X evict "$IF_SRV" --timeout established=1 2>&1) || fail idle_evict "$out"
release held idle_conn_completed
sleep 0.5
ev_stop "$EV_PID"
evcheck idle_timeout "$LAB_TMP/idle.j" $CLI4 $P first=NEW:SYN_RECV has=DESTROY:ESTABLISHED \
	hasnot=DESTROY:evicted
then_adopted idle_then_adopted "$LAB_TMP/idle.j" $CLI4 timeout

# ---- removed by the operator (conns --delete, like conntrack -D) ----
ev_start "$IF_SRV" removed -j
held "$NS_CLI" $CLI4 $SRV4 held
wait_until 10 established || fail removed_established "no ESTABLISHED entry"
out=$(X conns "$IF_SRV" --state established --port $P --delete 2>&1)
[[ "$out" == *"src=$CLI4 "* && "$out" == *"1 flow entry deleted"* ]] && pass removed_listed ||
	fail removed_listed "$out"
if established; then fail removed_gone "still there"; else pass removed_gone; fi
release held removed_conn_completed
sleep 0.5
ev_stop "$EV_PID"
evcheck removed "$LAB_TMP/removed.j" $CLI4 $P first=NEW:SYN_RECV has=DESTROY:ESTABLISHED \
	hasnot=DESTROY:evicted hasnot=DESTROY:timeout
then_adopted removed_then_adopted "$LAB_TMP/removed.j" $CLI4 removed

# ---- LRU eviction, a burst beyond the ring: on the attacker link ----
MAXC=4096
xdpct_attach "$IF_SRVA" $P --observe $PO --max-conns $MAXC >"$LAB_TMP/attach2.out" 2>&1 ||
	die "attach: $(cat "$LAB_TMP/attach2.out")" attach
ev_start "$IF_SRVA" lru -j
held "$NS_ATK" "" $SRVA4 held2
established2() { X conns "$IF_SRVA" --state established 2>/dev/null | grep -q "src=$ATK4 "; }
wait_until 10 established2 || fail lru_established "no ESTABLISHED entry"
# rounds, each from another CPU: an entry stays in the list of the CPU that
# made it until that CPU makes others, and the LRU keeps recent ones a while
for ((r = 0; r < 8; r++)); do
	in_srv taskset -c $((r % $(nproc))) "$BUILD/mapfill" fill "$(pin_of "$IF_SRVA")/xdpct_flows4" $MAXC --start $((r * MAXC)) \
		--laddr $SRVA4 --lport 9 >>"$LAB_TMP/fill.out" 2>&1
	established2 || break
done
if established2; then
	# the LRU kept it (a recently used entry may outlive rounds): it goes
	# as the LRU takes one, behind xdpct's back
	sport=$(X conns "$IF_SRVA" --state established 2>/dev/null | grep "src=$ATK4 " |
		grep -o 'sport=[0-9]*' | head -n 1 | cut -d= -f2)
	hex4() { local IFS=.; printf '%02x %02x %02x %02x' $1; }
	hex16() { printf '%02x %02x' $(($1 >> 8)) $(($1 & 255)); }
	# shellcheck disable=SC2046
	bpftool map delete pinned "$(pin_of "$IF_SRVA")/xdpct_flows4" key hex $(hex4 $ATK4) \
		$(hex4 $SRVA4) $(hex16 "${sport:-0}") $(hex16 $P)
	note "the LRU kept the entry through $r rounds: deleted by the test"
fi
if established2; then fail lru_entry_gone "the entry is still there"; else pass lru_entry_gone; fi
release held2 lru_conn_completed
sleep 0.5
ev_stop "$EV_PID"
evcheck lru_evicted "$LAB_TMP/lru.j" $ATK4 $P first=NEW:SYN_RECV has=DESTROY:ESTABLISHED
then_adopted lru_destroy_then_new "$LAB_TMP/lru.j" $ATK4 evicted

# a burst of NEWs (spoofed SYNs to the observed port) while the reader is
# stopped: what the ring cannot hold is counted, and reported
st() { in_srv timeout 10 "$XDPCT" stats "$IF_SRVA" -j 2>/dev/null | json_num "$1"; }
ev_start "$IF_SRVA" burst -j
DMAC=$(link_mac "$NS_SRV" "$IF_SRVA")
# spoofed SYNs to the protected port make no entry, hence no event
tx0=$(st tx_synack)
in_ns "$NS_ATK" timeout 20 "$SYNFLOOD" --dev "$IF_ATK" --dmac "$DMAC" --dst $SRVA4 --dport $P \
	--src-net 10.205.0.0/16 --count 5000 --rate 20000 --timeout 10 --seed $$ >"$LAB_TMP/flood0.j" 2>&1 ||
	die "synflood failed" flood
assert_ge protected_flood_answered "$(diff_num "$(st tx_synack)" "$tx0")" 4000
sleep 1.2 # just renewed: the claim holds 3 s, the burst takes 0.5 s
kill -STOP "$EV_PID"
new0=$(st pass_ct_new)
in_ns "$NS_ATK" timeout 20 "$SYNFLOOD" --dev "$IF_ATK" --dmac "$DMAC" --dst $SRVA4 --dport $PO \
	--src-net 10.203.0.0/16 --count 15000 --rate 30000 --timeout 10 --seed $$ >"$LAB_TMP/flood.j" 2>&1 ||
	die "synflood failed" flood
made=$(diff_num "$(st pass_ct_new)" "$new0")
kill -CONT "$EV_PID"
sleep 1.5
ev_stop "$EV_PID"
seen=$(grep -c '"event":"NEW".*"dport":'$PO "$LAB_TMP/burst.j")
lost=$(grep -o '"event":"LOST".*"count":[0-9]*' "$LAB_TMP/burst.j" | grep -o '[0-9]*$' | paste -sd+ | bc 2>/dev/null || echo 0)
note "burst: $made entries made, $seen NEW events read, $lost lost"
assert_ge burst_made "${made:-0}" 10000
assert_eq protected_flood_no_events "$(grep -c '"src":"10\.205\.' "$LAB_TMP/burst.j")" 0
assert_gt burst_lost_reported "${lost:-0}" 0
assert_eq burst_seen_plus_lost "$((seen + lost))" "$made"
grep -q "events, $lost lost" "$LAB_TMP/burst.err" && pass burst_summary ||
	fail burst_summary "$(tail -n 1 "$LAB_TMP/burst.err")"

# no reader: the claim is released, and a burst beyond the ring's size
# sends nothing (nothing lost either)
evsub() { bpftool -j map dump pinned "$(pin_of "$IF_SRVA")/xdpct_evsub" 2>/dev/null | json_num "$1"; }
assert_eq no_reader_claim_released "$(evsub until_ns)" 0
lost0=$(evsub lost) new0=$(st pass_ct_new)
in_ns "$NS_ATK" timeout 20 "$SYNFLOOD" --dev "$IF_ATK" --dmac "$DMAC" --dst $SRVA4 --dport $PO \
	--src-net 10.204.0.0/16 --count 10000 --rate 30000 --timeout 10 --seed $$ >"$LAB_TMP/flood2.j" 2>&1 ||
	die "synflood failed" flood
assert_ge no_reader_entries_made "$(diff_num "$(st pass_ct_new)" "$new0")" 8000
assert_eq no_reader_nothing_lost "$(evsub lost)" "$lost0"

# ---- one reader at a time; errors ----
ev_start "$IF_SRV" one -j
X status "$IF_SRV" | grep -q "events     reader pid $EV_PID," && pass status_reader ||
	fail status_reader "$(X status "$IF_SRV" | grep events)"
X status "$IF_SRV" -j | grep -q "\"events_pid\":$EV_PID," && pass status_reader_json ||
	fail status_reader_json "$(X status "$IF_SRV" -j | grep -o '"events_pid":[0-9]*')"
out=$(X events "$IF_SRV" 2>&1)
assert_eq second_reader_exit $? 1
[[ "$(wc -l <<<"$out")" -eq 1 && "$out" == *"another xdpct events is reading $IF_SRV"* ]] &&
	pass second_reader_one_line || fail second_reader_one_line "$out"
# detach ends the stream
RING_ID=$(bpftool -j map show pinned "$(pin_of "$IF_SRV")/xdpct_ctevents" | json_num id)
[[ -e /run/xdpct/events-$RING_ID.lock ]] && pass reader_lock_file || fail reader_lock_file "no /run/xdpct/events-$RING_ID.lock"
out=$(X detach "$IF_SRV" 2>&1) || fail detach "$out"
wait_pid "$EV_PID" 5
check_rc detached_reader_exits $? "events after detach"
grep -q "detached" "$LAB_TMP/one.err" && pass detached_said || fail detached_said "$(cat "$LAB_TMP/one.err")"
out=$(X events "$IF_SRV" 2>&1)
assert_eq not_attached_exit $? 1
[[ "$out" == *"not attached to $IF_SRV"* ]] && pass not_attached_one_line || fail not_attached_one_line "$out"
out=$(X events "$IF_SRVA" --count 0 2>&1)
assert_eq bad_count_exit $? 2

# ---- xdpct run: the wheel's DESTROY ----
bg_ns "$NS_SRV" "$LAB_TMP/run.log" "$XDPCT" run "$IF_SRV" --ports $P --timeout time_wait=1 \
	--metrics 127.0.0.1:9791
LAB_ATTACHED+=("$IF_SRV")
RUN=$BG_PID
wait_until 20 test -e "$(pin_of "$IF_SRV")/xdpct_ctevents" || die "run did not attach: $(cat "$LAB_TMP/run.log")" run
sleep 1
ev_start "$IF_SRV" run -j
# the lock of the ring gone with the detach went with the next reader
[[ ! -e /run/xdpct/events-$RING_ID.lock ]] && pass stale_lock_removed || fail stale_lock_removed "events-$RING_ID.lock left"
scrape() { in_srv curl -s --max-time 5 http://127.0.0.1:9791/metrics; }
assert_eq metric_reader_listening "$(scrape | grep '^xdpct_ctevents_reader ' | cut -d' ' -f2)" 1
check run_conn "connection failed" conn $CLI4 $SRV4 $P
wait_until 10 grep -q '"DESTROY"' "$LAB_TMP/run.j"
ev_stop "$EV_PID"
assert_eq metric_reader_gone "$(scrape | grep '^xdpct_ctevents_reader ' | cut -d' ' -f2)" 0
assert_eq metric_lost "$(scrape | grep '^xdpct_ctevents_lost_total ' | cut -d' ' -f2)" 0
evcheck run_wheel "$LAB_TMP/run.j" $CLI4 $P first=NEW:SYN_RECV last=DESTROY:TIME_WAIT reason=closed chain
kill -TERM "$RUN"
wait_pid "$RUN" 20

lab_finish
