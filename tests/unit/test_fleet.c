// SPDX-License-Identifier: GPL-2.0
/* The fleet's pieces without etcd (user/fleet.c, user/etcd.c): the record
 * in etcd, the next record a leader writes, and the install into a config
 * that the data path reads meanwhile, checked against the key choice of
 * include/xdpct.h (key_sel). e2e_fleet runs the whole against etcd. */
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "etcd.h"
#include "fleet.h"

static const struct xdpct_siphash_key K0 = { 0x1010101010101010ull, 0x2020202020202020ull },
	K1 = { 0x0123456789abcdefull, 0xfedcba9876543210ull },
	K2 = { 0xdeadbeefcafef00dull, 0x0011223344556677ull },
	KX = { 0x5555555555555555ull, 0xaaaaaaaaaaaaaaaaull },
	KY = { 0x7777777777777777ull, 0x8888888888888888ull };

static bool keq(const struct xdpct_siphash_key *a, const struct xdpct_siphash_key *b)
{
	return a->k0 == b->k0 && a->k1 == b->k1;
}

/* The key the data path takes for absolute slot abs (bpf/cookie.h). */
static const struct xdpct_siphash_key *key_for(const struct xdpct_config *c, uint64_t abs)
{
	unsigned int i = c->key_sel & 1;

	return &c->keys[abs < (c->key_sel >> 1) ? i ^ 1 : i];
}

static void test_b64_json(void)
{
	char out[64], v[64];
	unsigned char bin[64];
	long n;

	ck_begin("fleet.base64");
	b64_encode("hello", 5, out);
	CK(!strcmp(out, "aGVsbG8="), "hello -> %s", out);
	for (size_t len = 0; len <= 20; len++) {
		unsigned char in[20];

		for (size_t i = 0; i < len; i++)
			in[i] = (unsigned char)(i * 37 + len);
		b64_encode(in, len, out);
		n = b64_decode(out, strlen(out), bin, sizeof(bin));
		CK(n == (long)len && !memcmp(in, bin, len), "round trip of %zu bytes: %ld", len, n);
	}
	CK(b64_decode("aGV*bG8=", 8, bin, sizeof(bin)) < 0, "a character outside the alphabet");
	CK(b64_decode("aGVsbG8=", 8, bin, 3) < 0, "more than the buffer holds");
	ck_end();

	ck_begin("fleet.json_field");
	{
		/* an etcd range answer, as its gateway gives it */
		const char *range =
			"{\"header\":{\"cluster_id\":\"1484\",\"revision\":\"2\"},\"kvs\":[{\"key\":"
			"\"L3gva2V5\",\"create_revision\":\"2\",\"mod_revision\":\"7\",\"version\":"
			"\"1\",\"value\":\"aGVsbG8=\"}],\"count\":\"1\"}";

		CK(!json_field(range, "mod_revision", v, sizeof(v)) && !strcmp(v, "7"), "mod %s", v);
		CK(!json_field(range, "value", v, sizeof(v)) && !strcmp(v, "aGVsbG8="), "value %s", v);
		CK(!json_field("{\"succeeded\":true,\"x\":1}", "succeeded", v, sizeof(v)) &&
		   !strcmp(v, "true"), "bare token %s", v);
		CK(json_field(range, "succeeded", v, sizeof(v)) < 0, "absent field found: %s", v);
		CK(json_field(range, "value", v, 4) < 0, "a value longer than the buffer");
	}
	ck_end();

	ck_begin("fleet.endpoints");
	{
		struct etcd e;

		CK(!etcd_init(&e, "http://10.0.0.1:2379,[fd00::1]:2380,etcd.local:1", 1000) && e.n == 3 &&
		   !strcmp(e.ep[1].host, "fd00::1") && !strcmp(e.ep[1].port, "2380") &&
		   !strcmp(e.ep[2].host, "etcd.local"), "parsed %d", e.n);
		CK(etcd_init(&e, "https://10.0.0.1:2379", 1000) < 0 && strstr(e.err, "https"),
		   "https taken: %s", e.err);
		CK(etcd_init(&e, "http://10.0.0.1", 1000) < 0, "no port taken");
		CK(etcd_init(&e, "http://10.0.0.1:99999", 1000) < 0, "port 99999 taken");
		CK(etcd_init(&e, "", 1000) < 0, "empty list taken");
		CK(etcd_init(&e, "h:1,,h:2", 1000) < 0, "empty endpoint taken");
	}
	ck_end();
}

static void test_record(void)
{
	struct fleet_record r = { .epoch = 7, .shift = 30, .first = 1234567890123ull,
				  .set_ns = 1765000000123456789ull, .key = K1, .prev = K2 }, p;
	char buf[300];

	ck_begin("fleet.record_round_trip");
	CK(!fleet_record_format(&r, buf, sizeof(buf)), "format");
	CK(!fleet_record_parse(buf, &p), "parse of '%s'", buf);
	CK(p.epoch == 7 && p.shift == 30 && p.first == r.first && p.set_ns == r.set_ns &&
	   keq(&p.key, &K1) && keq(&p.prev, &K2) && !p.has_next, "fields differ after '%s'", buf);
	r.has_next = true;
	r.next = KX;
	CK(!fleet_record_format(&r, buf, sizeof(buf)) && !fleet_record_parse(buf, &p) &&
	   p.has_next && keq(&p.next, &KX), "staged key lost in '%s'", buf);
	r.has_next = false;
	CK(fleet_record_format(&r, buf, 40) < 0, "truncated record formatted");
	ck_end();

	ck_begin("fleet.record_rejects");
	fleet_record_format(&r, buf, sizeof(buf));
	{
		char bad[320];

		CK(fleet_record_parse("hello", &p) < 0, "garbage taken");
		snprintf(bad, sizeof(bad), "%s trailing", buf);
		CK(fleet_record_parse(bad, &p) < 0, "trailing text taken");
		snprintf(bad, sizeof(bad), "%s", buf);
		strstr(bad, " next=")[-1] = 'z'; /* prev: not hex */
		CK(fleet_record_parse(bad, &p) < 0, "a previous key that is not hex taken");
		snprintf(bad, sizeof(bad), "%s", buf);
		memcpy(strstr(bad, "shift=") + 6, "29", 2);
		CK(fleet_record_parse(bad, &p) < 0, "slot shift 29 taken");
		snprintf(bad, sizeof(bad), "%s", buf);
		*strstr(bad, "key=") = 'K';
		CK(fleet_record_parse(bad, &p) < 0, "misspelt field taken");
		snprintf(bad, sizeof(bad), "%s", buf);
		strstr(bad, "key=")[5] = 'g';
		CK(fleet_record_parse(bad, &p) < 0, "non-hex key taken");
	}
	ck_end();
}

static void test_steps(void)
{
	const unsigned int sh = 30;
	struct fleet_record cur = { .epoch = 3, .shift = sh, .first = 1000, .key = K1, .prev = K0 },
			    st, sw;
	uint64_t now;

	ck_begin("fleet.stage_waits_for_idle_key");
	/* slots before cur.first are K0's, valid through cur.first: K0 is
	 * the members' idle key only from cur.first + 1 on */
	CK(!fleet_record_stage(&cur, (1000ull << sh) + 5, &K2, &st), "staged in cur's first slot");
	CK(!fleet_record_stage(&cur, 999ull << sh, &K2, &st), "staged before cur's first slot");
	CK(fleet_record_stage(&cur, 1001ull << sh, &K2, &st), "not staged at first + 1");
	CK(st.has_next && keq(&st.next, &K2) && keq(&st.key, &K1) && keq(&st.prev, &K0) &&
	   st.epoch == 3 && st.first == 1000, "staged record's fields");
	CK(!fleet_record_stage(&st, 1005ull << sh, &KX, &sw), "staged over a staged key");
	CK(!fleet_record_switch(&cur, 1005ull << sh, &sw), "switched with nothing staged");
	ck_end();

	ck_begin("fleet.switch");
	now = (1010ull << sh) + 12345;
	CK(fleet_record_switch(&st, now, &sw), "not switched");
	CK(sw.epoch == 4 && keq(&sw.key, &K2) && keq(&sw.prev, &K1) && !sw.has_next &&
	   sw.first == 1011 && sw.set_ns == now && sw.shift == sh, "switched record's fields");
	ck_end();

	ck_begin("fleet.member_state");
	{
		char a[64], b[64];

		fleet_member_state(&cur, a, sizeof(a));
		fleet_member_state(&st, b, sizeof(b));
		CK(strcmp(a, b), "staged and not staged read the same: %s", a);
		fleet_member_state(&sw, b, sizeof(b));
		CK(strcmp(a, b), "two epochs read the same: %s", a);
	}
	ck_end();
}

static void set_map(struct xdpct_config *m, const struct xdpct_siphash_key *a,
		    const struct xdpct_siphash_key *b, uint64_t first, unsigned int cur)
{
	memset(m, 0, sizeof(*m));
	m->flags = XDPCT_CFG_ENABLED;
	m->keys[cur] = *a;
	m->keys[cur ^ 1] = *b;
	m->key_sel = first << 1 | cur;
	m->slot_shift = 30;
}

static void test_install(void)
{
	struct fleet_record r = { .epoch = 5, .shift = 30, .first = 2000, .set_ns = 5000000000ull,
				  .key = K2, .prev = K1 };
	const int64_t off = 1765000000000000000ll;
	struct xdpct_config m, before;

	for (unsigned int cur = 0; cur < 2; cur++) {
		/* a member that runs its own keys joins */
		ck_begin("fleet.install_join.keys_in_slot_%u", cur);
		set_map(&m, &KX, &KY, 7, cur);
		CK(fleet_install(&m, &r, off), "nothing changed");
		CK(keq(key_for(&m, 2000), &K2) && keq(key_for(&m, 5000), &K2), "slots from first: not K2");
		CK(keq(key_for(&m, 1999), &K1) && keq(key_for(&m, 1), &K1), "slots before first: not K1");
		CK(m.clock_offset_ns == off && m.slot_shift == 30, "clock %lld shift %u",
		   (long long)m.clock_offset_ns, m.slot_shift);
		CK(m.key_epoch == 5 && m.key_set_ns == r.set_ns - off, "epoch %u set %llu", m.key_epoch,
		   (unsigned long long)m.key_set_ns);
		CK((m.flags & (XDPCT_CFG_FLEET | XDPCT_CFG_PREV_KEY | XDPCT_CFG_ENABLED)) ==
			   (XDPCT_CFG_FLEET | XDPCT_CFG_PREV_KEY | XDPCT_CFG_ENABLED),
		   "flags 0x%x", m.flags);
		before = m;
		CK(!fleet_install(&m, &r, off), "the same record again changed something");
		CK(!memcmp(&m, &before, sizeof(m)), "the same record again rewrote the map");
		ck_end();

		/* the usual rotation: K1 signs now (from slot 1000), K0 idle */
		ck_begin("fleet.install_rotation.keys_in_slot_%u", cur);
		set_map(&m, &K1, &K0, 1000, cur);
		m.clock_offset_ns = off;
		m.flags |= XDPCT_CFG_FLEET | XDPCT_CFG_PREV_KEY;
		CK(fleet_install(&m, &r, off), "nothing changed");
		/* the key in use is never written: only the idle slot */
		CK(keq(&m.keys[cur], &K1), "the key in use was rewritten");
		CK(keq(&m.keys[cur ^ 1], &K2), "the new key is not in the idle slot");
		CK(m.key_sel == (2000ull << 1 | (cur ^ 1)), "key_sel 0x%llx",
		   (unsigned long long)m.key_sel);
		CK(keq(key_for(&m, 1999), &K1) && keq(key_for(&m, 2000), &K2), "slot keys");
		ck_end();

		/* the two steps of a rotation: stage, then switch; the key that
		 * signs now is never written */
		ck_begin("fleet.install_stage_then_switch.keys_in_slot_%u", cur);
		{
			struct fleet_record a = { .epoch = 4, .shift = 30, .first = 1000, .key = K1,
						  .prev = K0, .has_next = true, .next = K2 },
					    b = { .epoch = 5, .shift = 30, .first = 1011, .key = K2,
						  .prev = K1 };

			set_map(&m, &K1, &K0, 1000, cur);
			m.clock_offset_ns = off;
			CK(fleet_install(&m, &a, off), "staging changed nothing");
			CK(keq(&m.keys[cur], &K1) && keq(&m.keys[cur ^ 1], &K2) &&
			   m.key_sel == (1000ull << 1 | cur), "staged: keys or key_sel 0x%llx",
			   (unsigned long long)m.key_sel);
			CK(keq(key_for(&m, 1005), &K1), "the staged key signs");
			CK(fleet_install(&m, &b, off), "switching changed nothing");
			CK(keq(&m.keys[cur], &K1) && keq(&m.keys[cur ^ 1], &K2) &&
			   m.key_sel == (1011ull << 1 | (cur ^ 1)), "switched: key_sel 0x%llx",
			   (unsigned long long)m.key_sel);
			CK(keq(key_for(&m, 1010), &K1) && keq(key_for(&m, 1011), &K2), "slot keys");
		}
		ck_end();

		/* a member that missed a rotation (etcd outage): two behind */
		ck_begin("fleet.install_two_behind.keys_in_slot_%u", cur);
		set_map(&m, &K0, &KX, 500, cur);
		m.clock_offset_ns = off;
		CK(fleet_install(&m, &r, off), "nothing changed");
		CK(keq(key_for(&m, 1999), &K1) && keq(key_for(&m, 2000), &K2), "slot keys");
		ck_end();

		/* the key in place, dated otherwise (a local write): re-dated */
		ck_begin("fleet.install_redates.keys_in_slot_%u", cur);
		set_map(&m, &K2, &K1, 1500, cur);
		m.clock_offset_ns = off;
		CK(fleet_install(&m, &r, off), "nothing changed");
		CK(m.key_sel == (2000ull << 1 | cur) && keq(&m.keys[cur], &K2), "key_sel 0x%llx",
		   (unsigned long long)m.key_sel);
		ck_end();
	}

	/* the clock: a step of more than a millisecond is taken, the rest is
	 * the caller's (user/fleet.c keeps the mapped offset within 1 ms) */
	ck_begin("fleet.install_clock_offset");
	set_map(&m, &K2, &K1, 2000, 0);
	m.clock_offset_ns = off;
	m.flags |= XDPCT_CFG_FLEET | XDPCT_CFG_PREV_KEY;
	m.key_epoch = 5;
	m.key_set_ns = r.set_ns - off;
	CK(!fleet_install(&m, &r, off), "in step, yet changed");
	CK(fleet_install(&m, &r, off + 5000000) && m.clock_offset_ns == off + 5000000, "offset %lld",
	   (long long)m.clock_offset_ns);
	ck_end();
}

int main(void)
{
	test_b64_json();
	test_record();
	test_steps();
	test_install();
	return ck_finish("test_fleet");
}
