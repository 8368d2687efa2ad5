#!/bin/bash
# Statistics: `xdpct run --metrics` scraped with curl and checked with a
# strict parser (python3-prometheus-client's text_string_to_metric_families
# under /usr/bin/python3, plus checks of our own: HELP and TYPE for every
# family, no line the parser skipped, no duplicate series), the values
# against real traffic (the TIME_WAIT entries go by the timer wheel: its
# figures too); HTTP errors; a port in use and malformed addresses
# (one line, non-zero, nothing attached); `xdpct stats --watch` (text and
# JSON rates) and `xdpct status -j`.
# shellcheck source=tests/lib.sh
source "$(dirname "$0")/../lib.sh"

PORT=8080
MPORT=9101     # metrics, in the server namespace
BUSY=9102      # a port someone else holds
N_CONN=5

need_build "$XDPCT" "$TCPPEER"
command -v curl >/dev/null || die "curl missing (make deps)" setup
/usr/bin/python3 -c 'import prometheus_client.parser' 2>/dev/null ||
	die "python3-prometheus-client missing (make deps)" setup
lab_up

X() { in_srv timeout 20 "$XDPCT" "$@"; }
scrape() { in_srv curl -sS --max-time 5 "$@"; }
URL=http://127.0.0.1:$MPORT

bg_ns "$NS_SRV" "$LAB_TMP/srv.log" "$TCPPEER" serve --port $PORT --backlog 128
wait_port "$NS_SRV" $PORT 30 || die "no listener on $PORT" servers

LAB_ATTACHED+=("$IF_SRV")
bg_ns "$NS_SRV" "$LAB_TMP/run.log" "$XDPCT" run "$IF_SRV" --ports $PORT \
	--metrics "127.0.0.1:$MPORT" --timeout time_wait=1 --evict-interval 0.2 --key-rotate 30
RUN=$BG_PID
wait_until 30 grep -qs 'running on' "$LAB_TMP/run.log" ||
	die "run did not start: $(head -c 400 "$LAB_TMP/run.log")" run_started
pass run_started

in_cli timeout 20 "$TCPPEER" connect --addr "$SRV4" --port $PORT --count $N_CONN --parallel 1 \
	--up 10k --down 10k --timeout 5 >/dev/null 2>&1
check_rc connections $? "tcppeer failed"
# the TIME_WAIT entries go after 1 s; the metrics then count them
evicted_all() {
	scrape "$URL/metrics" | grep -q "^xdpct_evictions_total{map=\"xdpct_flows4\",reason=\"time_wait\"} $N_CONN\$"
}
wait_until 30 evicted_all
# and a second pass has run (passes stretch to 20 times their own length:
# slow on a loaded machine, while the wheel evicts on time)
passes_ge_2() {
	scrape "$URL/metrics" | awk '/^xdpct_eviction_pass_duration_seconds_count/ {n = $2} END {exit !(n >= 2)}'
}
wait_until 60 passes_ge_2

# ---- the scrape ----
scrape -D "$LAB_TMP/headers" -o "$LAB_TMP/metrics.txt" "$URL/metrics"
check_rc scrape $? "curl $URL/metrics failed"
if grep -qi '^HTTP/1\.[01] 200' "$LAB_TMP/headers" &&
	grep -qi '^Content-Type: text/plain; version=0.0.4' "$LAB_TMP/headers"; then
	pass scrape_headers
else
	fail scrape_headers "$(tr '\r\n' '  ' <"$LAB_TMP/headers")"
fi

cat >"$LAB_TMP/check.py" <<'EOF'
# strict checks of a Prometheus text exposition; prints "key value" facts
import re, sys
from prometheus_client.parser import text_string_to_metric_families

text = open(sys.argv[1]).read()
errors = []
helps, types, order = {}, {}, []
for line in text.splitlines():
    m = re.match(r'# (HELP|TYPE) (\S+) (.*)$', line)
    if m:
        (helps if m.group(1) == 'HELP' else types)[m.group(2)] = m.group(3)
        if m.group(2) not in order:
            order.append(m.group(2))
    elif line.startswith('#') or not line.strip():
        errors.append('stray line: %r' % line)
sample_lines = [l for l in text.splitlines() if l and not l.startswith('#')]
for name in order:
    if name not in helps or name not in types:
        errors.append('%s lacks HELP or TYPE' % name)
try:
    fams = list(text_string_to_metric_families(text))
except Exception as e:
    print('parse_error', repr(e))
    sys.exit(1)
seen, n = set(), 0
values = {}
for f in fams:
    if f.type == 'unknown':
        errors.append('family %s has no type' % f.name)
    for s in f.samples:
        n += 1
        key = (s.name, tuple(sorted(s.labels.items())))
        if key in seen:
            errors.append('duplicate series %s' % (key,))
        seen.add(key)
        if s.value != s.value or s.value < 0:
            errors.append('bad value %s %s' % (key, s.value))
        values[s.name + '{' + ','.join('%s=%s' % kv for kv in sorted(s.labels.items())) + '}'] = s.value
if n != len(sample_lines):
    errors.append('parser saw %d samples, the text has %d sample lines' % (n, len(sample_lines)))
types_by_family = {f.name: f.type for f in fams}
print('families', len(fams))
print('samples', n)
for want, typ in [('xdpct_packets', 'counter'), ('xdpct_cookie_good', 'counter'),
                  ('xdpct_tc_handoff', 'counter'), ('xdpct_event_lost', 'counter'),
                  ('xdpct_connections', 'gauge'), ('xdpct_map_fill_ratio', 'gauge'),
                  ('xdpct_eviction_pass_duration_seconds', 'histogram'),
                  ('xdpct_eviction_lag_seconds', 'histogram'),
                  ('xdpct_evictions', 'counter'), ('xdpct_cookie_key_age_seconds', 'gauge'),
                  ('xdpct_wheel_events', 'counter'),
                  ('xdpct_wheel_entries', 'gauge'), ('xdpct_wheel_checks', 'counter'),
                  ('xdpct_wheel_enabled', 'gauge'), ('xdpct_wheel_seconds', 'counter'),
                  ('xdpct_eviction_pass_interval_seconds', 'gauge')]:
    print('type_' + want, types_by_family.get(want, 'missing'), typ)
def v(k):
    return int(values.get(k, -1))
print('tx_synack', v('xdpct_packets_total{reason=synack,verdict=tx}'))
print('pass_cookie', v('xdpct_packets_total{reason=cookie,verdict=pass}'))
print('cookie_good', v('xdpct_cookie_good_total{}'))
print('evicted_time_wait', v('xdpct_evictions_total{map=xdpct_flows4,reason=time_wait}'))
print('pass_count', v('xdpct_eviction_pass_duration_seconds_count{}'))
print('lag_count', v('xdpct_eviction_lag_seconds_count{by=pass}') +
      v('xdpct_eviction_lag_seconds_count{by=wheel}'))
print('lag_count_wheel', v('xdpct_eviction_lag_seconds_count{by=wheel}'))
print('by_wheel', v('xdpct_eviction_lag_seconds_count{by=wheel}'))
print('by_pass', v('xdpct_eviction_lag_seconds_count{by=pass}'))
# one metric per meaning: no family mixes counters under a label
print('no_mixed_family', int('xdpct_events' not in types_by_family and
                            'xdpct_evictions_by' not in types_by_family))
print('wheel_events', v('xdpct_wheel_events_total{}'))
print('wheel_evicted', v('xdpct_wheel_checks_total{outcome=evicted}'))
print('wheel_enabled', v('xdpct_wheel_enabled{}'))
print('event_lost', v('xdpct_event_lost_total{}'))
print('pass_interval_ok', int(0.2 <= values.get('xdpct_eviction_pass_interval_seconds{}', -1) < 5))
print('capacity4', v('xdpct_map_capacity{map=xdpct_flows4}'))
print('fill_ok', int(0 <= values.get('xdpct_map_fill_ratio{map=xdpct_flows4}', -1) <= 1))
print('key_age_ok', int(0 <= values.get('xdpct_cookie_key_age_seconds{}', -1) < 31))
print('states', sum(1 for k in values if k.startswith('xdpct_connections{')))
for e in errors[:5]:
    print('error', e)
print('errors', len(errors))
EOF
/usr/bin/python3 "$LAB_TMP/check.py" "$LAB_TMP/metrics.txt" >"$LAB_TMP/facts" 2>&1
check_rc strict_parse $? "$(head -c 500 "$LAB_TMP/facts")"
fact() { awk -v k="$1" '$1 == k {print $2; exit}' "$LAB_TMP/facts"; }
note "$(fact families) families, $(fact samples) samples"
assert_eq strict_no_errors "$(fact errors)" 0
grep '^error' "$LAB_TMP/facts" | while IFS= read -r l; do note "$l"; done
while read -r k got want; do
	assert_eq "family_${k#type_}" "$got" "$want"
done < <(grep '^type_' "$LAB_TMP/facts")
assert_ge value_tx_synack "$(fact tx_synack)" $N_CONN
assert_ge value_pass_cookie "$(fact pass_cookie)" $N_CONN
assert_ge value_cookie_good "$(fact cookie_good)" $N_CONN
assert_eq value_evicted_time_wait "$(fact evicted_time_wait)" $N_CONN
assert_ge value_eviction_passes "$(fact pass_count)" 2
assert_ge value_lag_observations "$(fact lag_count)" $N_CONN
# TIME_WAIT: the wheel's, unless it was over a second late (then a pass's)
assert_eq value_wheel_enabled "$(fact wheel_enabled)" 1
assert_ge value_wheel_events "$(fact wheel_events)" $N_CONN
assert_eq value_event_lost "$(fact event_lost)" 0
assert_eq value_evicted_by_wheel_or_pass "$(($(fact by_wheel) + $(fact by_pass)))" $N_CONN
assert_ge value_evicted_by_wheel "$(fact by_wheel)" 1
assert_eq value_wheel_checks_evicted "$(fact wheel_evicted)" "$(fact by_wheel)"
assert_eq one_metric_per_meaning "$(fact no_mixed_family)" 1
assert_eq value_pass_interval "$(fact pass_interval_ok)" 1
note "TIME_WAIT entries removed: $(fact by_wheel) by the wheel, $(fact by_pass) by passes"
assert_eq value_capacity "$(fact capacity4)" 1048576
assert_eq value_fill_ratio "$(fact fill_ok)" 1
assert_eq value_key_age "$(fact key_age_ok)" 1
assert_eq value_states_series "$(fact states)" 20
if command -v promtool >/dev/null; then
	promtool check metrics <"$LAB_TMP/metrics.txt" >"$LAB_TMP/promtool.out" 2>&1
	check_rc promtool "$?" "$(head -c 300 "$LAB_TMP/promtool.out")"
fi

# ---- HTTP ----
code() { scrape -o /dev/null -w '%{http_code}' "$@"; }
assert_eq http_404 "$(code "$URL/nope")" 404
assert_eq http_405 "$(code -X POST "$URL/metrics")" 405
assert_eq http_head "$(code -I "$URL/metrics")" 200

# ---- stats --watch ----
X stats "$IF_SRV" --watch 0.5 --count 2 -j >"$LAB_TMP/watch.j" 2>"$LAB_TMP/watch.err" &
WPID=$!
sleep 0.2
in_cli timeout 20 "$TCPPEER" connect --addr "$SRV4" --port $PORT --count 3 --parallel 1 \
	--up 1k --down 1k --timeout 5 >/dev/null 2>&1
wait "$WPID"
check_rc watch_json $? "$(head -c 300 "$LAB_TMP/watch.err")"
assert_eq watch_json_lines "$(grep -c '^{.*"rates":{.*}}$' "$LAB_TMP/watch.j")" 2
rate=$(grep -o '"tx_synack":[0-9.]*' "$LAB_TMP/watch.j" | tail -n +3 | cut -d: -f2 | sort -n | tail -n 1)
if awk -v r="${rate:-0}" 'BEGIN {exit !(r > 0)}'; then pass watch_rate_nonzero; else
	fail watch_rate_nonzero "tx_synack rates: $(grep -o '"tx_synack":[0-9.]*' "$LAB_TMP/watch.j" | tr '\n' ' ')"
fi
X stats "$IF_SRV" --watch 0.2 --count 1 >"$LAB_TMP/watch.txt" 2>&1
check_rc watch_text $? "$(head -c 200 "$LAB_TMP/watch.txt")"
if grep -q 'per second' "$LAB_TMP/watch.txt" && grep -Eq '^  tx_synack +[0-9]+ +[0-9.]+$' "$LAB_TMP/watch.txt"; then
	pass watch_text_format
else
	fail watch_text_format "$(head -c 300 "$LAB_TMP/watch.txt")"
fi

# ---- stats --prometheus: node_exporter's textfile collector, no run ----
# IFACE is only a label with --pin-dir: one that must be escaped
X stats 'we"ird\if' --pin-dir "$(pin_of "$IF_SRV")" --prometheus >"$LAB_TMP/textfile.prom" \
	2>"$LAB_TMP/prom.err"
check_rc stats_prometheus $? "$(head -c 200 "$LAB_TMP/prom.err")"
js=$(X stats "$IF_SRV" -j)
cat >"$LAB_TMP/prom.py" <<'EOF'
import sys
from prometheus_client.parser import text_string_to_metric_families
fams = list(text_string_to_metric_families(open(sys.argv[1]).read()))
labels, vals = set(), {}
for f in fams:
    for s in f.samples:
        labels.add(s.labels.get('interface'))
        vals[s.name + ''.join('|%s' % s.labels[k] for k in sorted(s.labels) if k != 'interface')] = s.value
print('families', len(fams))
print('interfaces', '+'.join(sorted(str(l) for l in labels)))
print('tx_synack', int(vals.get('xdpct_packets_total|synack|tx', -1)))
print('cookie_good', int(vals.get('xdpct_cookie_good_total', -1)))
EOF
/usr/bin/python3 "$LAB_TMP/prom.py" "$LAB_TMP/textfile.prom" >"$LAB_TMP/prom.facts" 2>&1
check_rc stats_prometheus_parses $? "$(head -c 300 "$LAB_TMP/prom.facts")"
pf() { awk -v k="$1" '$1 == k {print $2; exit}' "$LAB_TMP/prom.facts"; }
assert_eq stats_prometheus_label_escaped "$(pf interfaces)" 'we"ird\if'
assert_eq stats_prometheus_tx_synack "$(pf tx_synack)" "$(json_num tx_synack <<<"$js")"
assert_eq stats_prometheus_cookie_good "$(pf cookie_good)" "$(json_num cookie_good <<<"$js")"
assert_ge stats_prometheus_families "$(pf families)" 30
X stats "$IF_SRV" --watch 0 >/dev/null 2>"$LAB_TMP/err"
assert_eq watch_bad_interval "$?:$(grep -c . "$LAB_TMP/err")" "2:1"

# ---- status ----
X status -j >"$LAB_TMP/status.j" 2>&1
check_rc status_json $? "$(head -c 200 "$LAB_TMP/status.j")"
st=$(tr -d '\n' <"$LAB_TMP/status.j" | grep -o "{\"ifname\":\"$IF_SRV\".*" | head -c 3000)
if [[ "$(json_val mode <<<"$st")" == native && "$(json_num run_pid <<<"$st")" == "$RUN" &&
	"$(grep -o '"protect":\[[0-9,]*\]' <<<"$st")" == "\"protect\":[$PORT]" ]] &&
	grep -q '"xdp":{"id":[1-9][0-9]*,"attached":true}' <<<"$st" &&
	grep -q '"xdpct_flows4":{"entries":[0-9]*,"max_entries":1048576' <<<"$st"; then
	pass status_fields
else
	fail status_fields "$st"
fi

# ---- a metrics port in use, bad addresses ----
kill -TERM "$RUN"
wait_pid "$RUN" 10
check_rc run_stopped $? "$(tail -n 2 "$LAB_TMP/run.log")"
bg_ns "$NS_SRV" "$LAB_TMP/busy.log" socat TCP-LISTEN:$BUSY,bind=127.0.0.1,reuseaddr,fork SYSTEM:true
wait_port "$NS_SRV" $BUSY 30 || fail busy_setup "socat did not listen"
# expect_fail NAME RC REGEX args...
expect_fail() {
	local name=$1 want=$2 re=$3 rc why=
	shift 3
	in_srv timeout 20 "$XDPCT" run "$IF_SRV" --ports $PORT "$@" >"$LAB_TMP/out" 2>"$LAB_TMP/err" </dev/null
	rc=$?
	[[ "$rc" == "$want" ]] || why+="exit status $rc, want $want; "
	[[ "$(grep -c . "$LAB_TMP/err")" == 1 ]] || why+="$(grep -c . "$LAB_TMP/err") lines on stderr; "
	grep -Eqi -- "$re" "$LAB_TMP/err" || why+="stderr does not match /$re/; "
	nothing_attached "$NS_SRV" "$IF_SRV" || why+="$WHY"
	if [[ -z "$why" ]]; then pass "$name"; else
		fail "$name" "${why}stderr: $(head -c 300 "$LAB_TMP/err" | tr '\n' '|')"
	fi
}
expect_fail metrics_port_in_use 1 'in use' --metrics "127.0.0.1:$BUSY"
expect_fail metrics_no_port 2 'metrics' --metrics 9100
expect_fail metrics_port_zero 2 'metrics' --metrics 127.0.0.1:0
expect_fail metrics_bad_port 2 'metrics' --metrics 127.0.0.1:http
expect_fail metrics_bad_host 2 'metrics' --metrics 'no such host!:9100'
lab_finish
