// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* status: the status page's data, from exposition text at injected times:
 * rates from counters, the 1 s history ring and its bound, the attack start,
 * counter resets, "starting", hostile label values kept inert in the JSON,
 * and the text form floodctl overview prints. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <microhttpd.h>

#include "policy-t.h"
#include "rules.h"
#include "status.h"

#define SEC  1000000000ull
#define T0NS (1000 * SEC)
#define T0MS 1700000000000ull

static struct status *st;
static struct status_src view;

static void setup(void)
{
	ck_assert_int_eq(status_new(&st), 0);
	memset(&view, 0, sizeof(view));
}

static void teardown(void)
{
	status_free(st);
}

/* The snapshot of second i: rule r1 admits 10/s and drops 5/s at the
 * global level, under attack from second attack_from (-1: never). */
static void feed_late(int i, int attack_from, const char *health, uint64_t late_ns)
{
	char text[2048];
	int n;

	n = snprintf(
		text, sizeof(text),
		"# HELP floodgate_build_info x\n# TYPE floodgate_build_info gauge\n"
		"floodgate_build_info{version=\"9.9\",commit=\"abc\"} 1\n"
		"floodgate_mode_info{mode=\"xdp\"} 1\n"
		"floodgate_xdp_attached{iface=\"eth0\",mode=\"native\"} 1\n"
		"floodgate_xdp_packets_total{iface=\"eth0\",action=\"pass\",reason=\"new_flow\"} "
		"%d\n"
		"floodgate_xdp_packets_total{iface=\"eth0\",action=\"drop\",reason=\"global\"} %d\n"
		"floodgate_xdp_new_flows_total{rule=\"r1\",proto=\"tcp\"} %d\n"
		"floodgate_xdp_admitted_total{rule=\"r1\"} %d\n"
		"floodgate_xdp_dropped_total{rule=\"r1\",level=\"address\"} 0\n"
		"floodgate_xdp_dropped_total{rule=\"r1\",level=\"prefix\"} 0\n"
		"floodgate_xdp_dropped_total{rule=\"r1\",level=\"global\"} %d\n"
		"floodgate_xdp_under_attack{rule=\"r1\"} %d\n"
		"floodgate_xdp_attacks_total{rule=\"r1\"} %d\n"
		"floodgate_rl_decisions_total{policy=\"api\",result=\"allowed\"} %d\n"
		"floodgate_rl_decisions_total{policy=\"api\",result=\"denied\"} %d\n"
		"floodgate_config_last_reload_successful 1\n",
		10 * i, 5 * i, 15 * i, 10 * i, 5 * i, attack_from >= 0 && i >= attack_from,
		attack_from >= 0 && i >= attack_from, 3 * i, i);
	ck_assert_int_eq(status_update_at(st, NULL, &view, text, (size_t)n, health,
					  T0NS + (uint64_t)i * SEC + late_ns,
					  T0MS + (uint64_t)i * 1000 + late_ns / 1000000),
			 0);
}

static void feed(int i, int attack_from, const char *health)
{
	feed_late(i, attack_from, health, 0);
}

static char *json(void)
{
	char *out;
	size_t len;

	ck_assert_int_eq(status_copy(st, false, &out, &len), 0);
	ck_assert_uint_eq(strlen(out), len);
	return out;
}

/* Brackets balance outside strings and no raw control byte is in a string:
 * the shape of valid JSON, as far as a test needs. */
static void assert_json_shape(const char *j)
{
	int depth = 0;
	bool in_str = false;

	for (; *j; j++) {
		if (in_str) {
			ck_assert_msg((unsigned char)*j >= 0x20, "raw control byte in a string");
			if (*j == '\\')
				j++;
			else if (*j == '"')
				in_str = false;
			continue;
		}
		if (*j == '"')
			in_str = true;
		else if (*j == '{' || *j == '[')
			depth++;
		else if (*j == '}' || *j == ']')
			ck_assert_int_ge(--depth, 0);
	}
	ck_assert(!in_str);
	ck_assert_int_eq(depth, 0);
}

/* The numbers of "key":[...] after the first occurrence of after. */
static int array_len(const char *j, const char *after, const char *key, double *last)
{
	const char *p = strstr(j, after);
	int n = 0;

	ck_assert_ptr_nonnull(p);
	p = strstr(p, key);
	ck_assert_ptr_nonnull(p);
	p = strchr(p, '[') + 1;
	while (*p && *p != ']') {
		char *end;

		*last = strtod(p, &end);
		ck_assert_ptr_ne(end, p);
		n++;
		p = *end == ',' ? end + 1 : end;
	}
	return n;
}

START_TEST(test_starting_then_rates)
{
	char *j;

	feed(0, -1, "");
	j = json();
	assert_json_shape(j);
	ck_assert_ptr_nonnull(strstr(j, "\"starting\":true"));
	ck_assert_ptr_nonnull(strstr(j, "\"passed_per_s\":null"));
	ck_assert_ptr_nonnull(strstr(j, "\"version\":\"9.9\",\"mode\":\"xdp\""));
	free(j);
	feed(1, -1, "");
	j = json();
	assert_json_shape(j);
	ck_assert_ptr_nonnull(strstr(j, "\"starting\":false,\"healthy\":true,\"health\":\"ok\""));
	ck_assert_ptr_nonnull(strstr(j, "\"name\":\"r1\",\"proto\":\"tcp\",\"new_per_s\":15.0,"
					"\"passed_per_s\":10.0,\"dropped_per_s\":5.0"));
	ck_assert_ptr_nonnull(strstr(j, "\"global\":5.0"));
	ck_assert_ptr_nonnull(strstr(j, "\"packets_per_s\":{\"pass\":10.0,\"drop\":5.0}"));
	ck_assert_ptr_nonnull(
		strstr(j, "{\"name\":\"api\",\"decisions_per_s\":4.0,\"denied_per_s\":1.0}"));
	ck_assert_ptr_nonnull(strstr(j, "\"interfaces\":[{\"name\":\"eth0\",\"attached\":true"));
	/* no walk without a loop: no top sources yet, said as null */
	ck_assert_ptr_nonnull(strstr(j, "\"top_sources\":null"));
	free(j);
}
END_TEST

START_TEST(test_ring_is_bounded)
{
	double last = -1;
	char *j;
	int i;

	for (i = 0; i < STATUS_RING_S + 100; i++)
		feed(i, -1, "");
	j = json();
	assert_json_shape(j);
	ck_assert_int_eq(array_len(j, "\"history\"", "\"passed_per_s\"", &last), STATUS_RING_S);
	ck_assert(last == 10.0);
	ck_assert_int_eq(array_len(j, "\"history\"", "\"dropped_per_s\"", &last), STATUS_RING_S);
	ck_assert(last == 5.0);
	free(j);
}
END_TEST

START_TEST(test_one_sample_a_second)
{
	double last;
	char *j;
	int n;

	feed(0, -1, "");
	feed(1, -1, "");
	feed(2, -1, "");
	j = json();
	n = array_len(j, "\"history\"", "\"passed_per_s\"", &last);
	free(j);
	/* an extra rendering 0.2 s later (after a map count) takes no sample */
	feed_late(2, -1, "", SEC / 5);
	j = json();
	ck_assert_int_eq(array_len(j, "\"history\"", "\"passed_per_s\"", &last), n);
	free(j);
}
END_TEST

START_TEST(test_attack_start_and_health)
{
	char *j;
	int i;

	for (i = 0; i < 5; i++)
		feed(i, 3, i == 4 ? "eth0: XDP program detached" : "");
	j = json();
	assert_json_shape(j);
	ck_assert_ptr_nonnull(strstr(j, "\"under_attack\":true,\"attack_since_ms\":1700000003000,"
					"\"attacks\":1"));
	ck_assert_ptr_nonnull(
		strstr(j, "\"healthy\":false,\"health\":\"eth0: XDP program detached\""));
	free(j);
	ck_assert_int_eq(status_copy(st, true, &j, &(size_t){ 0 }), 0);
	ck_assert_ptr_nonnull(strstr(j, "UNHEALTHY: eth0: XDP program detached"));
	ck_assert_ptr_nonnull(strstr(j, "\nr1 "));
	ck_assert_ptr_nonnull(strstr(j, "UNDER ATTACK since"));
	free(j);
}
END_TEST

/* Each TCP rule's syn_cookies mode and whether it answers SYNs now, in the
 * JSON and the text; a rule no mode is 1 for (UDP, dry run) has none. */
START_TEST(test_syn_cookies)
{
	static const char a[] = "floodgate_xdp_new_flows_total{rule=\"web\",proto=\"tcp\"} 1\n"
				"floodgate_xdp_new_flows_total{rule=\"media\",proto=\"udp\"} 1\n"
				"floodgate_xdp_new_flows_total{rule=\"api\",proto=\"tcp\"} 1\n"
				"floodgate_xdp_syn_cookies{rule=\"web\",mode=\"auto\"} 1\n"
				"floodgate_xdp_syn_cookies{rule=\"web\",mode=\"off\"} 0\n"
				"floodgate_xdp_syn_cookies{rule=\"web\",mode=\"always\"} 0\n"
				"floodgate_xdp_syn_cookies{rule=\"api\",mode=\"auto\"} 0\n"
				"floodgate_xdp_syn_cookies{rule=\"api\",mode=\"off\"} 1\n"
				"floodgate_xdp_syn_cookies{rule=\"api\",mode=\"always\"} 0\n"
				"floodgate_xdp_syn_cookies_active{rule=\"web\"} 1\n"
				"floodgate_xdp_syn_cookies_active{rule=\"api\"} 0\n";
	/* A reload turned web off and cookies stopped. */
	static const char b[] = "floodgate_xdp_new_flows_total{rule=\"web\",proto=\"tcp\"} 1\n"
				"floodgate_xdp_syn_cookies{rule=\"web\",mode=\"auto\"} 0\n"
				"floodgate_xdp_syn_cookies{rule=\"web\",mode=\"off\"} 1\n"
				"floodgate_xdp_syn_cookies_active{rule=\"web\"} 0\n";
	char *j;

	status_update_at(st, NULL, &view, a, sizeof(a) - 1, "", T0NS, T0MS);
	j = json();
	assert_json_shape(j);
	ck_assert_ptr_nonnull(strstr(j, "\"syn_cookies\":\"auto\",\"syn_cookies_active\":true"));
	ck_assert_ptr_nonnull(strstr(j, "\"syn_cookies\":\"off\",\"syn_cookies_active\":false"));
	ck_assert_ptr_nonnull(strstr(j, "\"syn_cookies\":null,\"syn_cookies_active\":false"));
	free(j);
	ck_assert_int_eq(status_copy(st, true, &j, &(size_t){ 0 }), 0);
	ck_assert_ptr_nonnull(strstr(j, "SYN COOKIES\n"));
	ck_assert_ptr_nonnull(strstr(j, "  auto ACTIVE\n"));
	ck_assert_ptr_nonnull(strstr(j, "  off\n"));
	ck_assert_ptr_nonnull(strstr(j, "  -\n"));
	free(j);
	status_update_at(st, NULL, &view, b, sizeof(b) - 1, "", T0NS + SEC, T0MS + 1000);
	j = json();
	ck_assert_ptr_nonnull(strstr(j, "\"syn_cookies\":\"off\",\"syn_cookies_active\":false"));
	ck_assert_ptr_null(strstr(j, "\"syn_cookies\":\"auto\""));
	free(j);
}
END_TEST

START_TEST(test_counter_reset)
{
	static const char a[] = "floodgate_xdp_admitted_total{rule=\"r1\"} 1000\n";
	static const char b[] = "floodgate_xdp_admitted_total{rule=\"r1\"} 7\n";
	char *j;

	status_update_at(st, NULL, &view, a, sizeof(a) - 1, "", T0NS, T0MS);
	status_update_at(st, NULL, &view, a, sizeof(a) - 1, "", T0NS + SEC, T0MS + 1000);
	status_update_at(st, NULL, &view, b, sizeof(b) - 1, "", T0NS + 2 * SEC, T0MS + 2000);
	j = json();
	ck_assert_ptr_nonnull(strstr(j, "\"passed_per_s\":0.0,"));
	ck_assert_ptr_null(strstr(j, ":-"));
	free(j);
}
END_TEST

/* Label values are the agent's own (config names), but the page inserts
 * them into a document: quotes, backslashes, newlines and markup arrive
 * escaped, and malformed lines are skipped. */
START_TEST(test_hostile_text)
{
	static const char t[] =
		"floodgate_xdp_admitted_total{rule=\"a\\\"b</script><x>\\\\\\n\"} 1\n"
		"floodgate_xdp_admitted_total{rule=\"unterminated} 1\n"
		"floodgate_xdp_admitted_total{rule=\"x\" 1\n"
		"garbage without value\n"
		"floodgate_xdp_admitted_total{rule=\"" /* cut mid-line */;
	char *j;

	ck_assert_int_eq(status_update_at(st, NULL, &view, t, sizeof(t) - 1, "", T0NS, T0MS), 0);
	j = json();
	assert_json_shape(j);
	ck_assert_ptr_nonnull(strstr(j, "\"name\":\"a\\\"b\\u003c/script\\u003e\\u003cx\\u003e\\\\"
					"\\u000a\""));
	ck_assert_ptr_null(strstr(j, "<"));
	ck_assert_ptr_null(strstr(j, "unterminated"));
	free(j);
}
END_TEST

/* The store's topology: the deployment and each node from the node series
 * (a cluster master's slots), the sentinels; a node gone from the exposition
 * (forgotten) is gone from the next snapshot's JSON too. */
START_TEST(test_redis_topology)
{
	static const char t1[] =
		"floodgate_rl_store_keys{store=\"redis\"} 0\n"
		"floodgate_store_fallback_active 1\n"
		"floodgate_store_deployment{deployment=\"cluster\"} 1\n"
		"floodgate_store_node_up{node=\"redis://10.0.0.1:6379\"} 1\n"
		"floodgate_store_node_up{node=\"redis://10.0.0.2:6379\"} 0\n"
		"floodgate_store_node_slots{node=\"redis://10.0.0.1:6379\"} 8192\n"
		"floodgate_store_node_slots{node=\"redis://10.0.0.2:6379\"} 8192\n";
	static const char t2[] = "floodgate_rl_store_keys{store=\"redis\"} 0\n"
				 "floodgate_store_fallback_active 0\n"
				 "floodgate_store_deployment{deployment=\"sentinel\"} 1\n"
				 "floodgate_store_node_up{node=\"m\"} 1\n"
				 "floodgate_store_sentinel_up{sentinel=\"s1:26379\"} 1\n"
				 "floodgate_store_sentinel_up{sentinel=\"s2:26379\"} 0\n";
	char *j;
	size_t len;

	ck_assert_int_eq(status_update_at(st, NULL, &view, t1, sizeof(t1) - 1, "", T0NS, T0MS), 0);
	j = json();
	assert_json_shape(j);
	ck_assert_msg(strstr(j, "\"deployment\":\"cluster\",\"nodes\":[{\"addr\":\"redis://"
				"10.0.0.1:6379\",\"up\":true,\"slots\":8192},{\"addr\":\"redis://"
				"10.0.0.2:6379\",\"up\":false,\"slots\":8192}],\"sentinels\":[]"),
		      "%s", j);
	free(j);
	ck_assert_int_eq(
		status_update_at(st, NULL, &view, t2, sizeof(t2) - 1, "", T0NS + SEC, T0MS + 1000),
		0);
	j = json();
	ck_assert_msg(strstr(j, "\"deployment\":\"sentinel\",\"nodes\":[{\"addr\":\"m\","
				"\"up\":true}],\"sentinels\":[{\"addr\":\"s1:26379\",\"up\":true},"
				"{\"addr\":\"s2:26379\",\"up\":false}]"),
		      "%s", j);
	ck_assert_ptr_null(strstr(j, "10.0.0.2"));
	free(j);
	ck_assert_int_eq(status_copy(st, true, &j, &len), 0);
	ck_assert_msg(strstr(j, "; sentinel: 1 of 2 sentinels reachable"), "%s", j);
	free(j);
}
END_TEST

/* A reload that renames all rules (or policies) of a full config within
 * the chart's 5 minutes: the new names take the slots of the gone ones. */
static void renamed(const char *fmt, int count)
{
	static char text[POLICY_MAX * 128];
	char *j, name[32];
	int k, r, n;

	for (k = 0; k < 2; k++) {
		n = 0;
		for (r = 0; r < count; r++)
			n += snprintf(text + n, sizeof(text) - (size_t)n, fmt, k ? 'b' : 'a', r);
		status_update_at(st, NULL, &view, text, (size_t)n, "", T0NS + (uint64_t)k * SEC,
				 T0MS + (uint64_t)k * 1000);
	}
	j = json();
	for (r = 0; r < count; r++) {
		snprintf(name, sizeof(name), "\"name\":\"b%d\"", r);
		ck_assert_msg(strstr(j, name), "%s missing", name);
		snprintf(name, sizeof(name), "\"name\":\"a%d\"", r);
		ck_assert_ptr_null(strstr(j, name));
	}
	free(j);
}

START_TEST(test_renamed_rules)
{
	renamed("floodgate_xdp_admitted_total{rule=\"%c%d\"} 1\n", FG_MAX_RULES);
}
END_TEST

START_TEST(test_renamed_policies)
{
	renamed("floodgate_rl_decisions_total{policy=\"%c%d\",result=\"allowed\"} 1\n", POLICY_MAX);
}
END_TEST

START_TEST(test_http_routes)
{
	struct MHD_Response *r = NULL;
	const char *type = NULL;

	feed(0, -1, "");
	ck_assert(status_http(st, "/", &r, &type));
	ck_assert_ptr_nonnull(r);
	ck_assert_str_eq(type, "text/html; charset=utf-8");
	ck_assert_ptr_nonnull(MHD_get_response_header(r, "Content-Security-Policy"));
	MHD_destroy_response(r);
	ck_assert(status_http(st, "/status.json", &r, &type));
	ck_assert_str_eq(type, "application/json");
	MHD_destroy_response(r);
	ck_assert(status_http(st, "/status.txt", &r, &type));
	ck_assert_str_eq(type, "text/plain; charset=utf-8");
	MHD_destroy_response(r);
	ck_assert(!status_http(st, "/status.jsonx", &r, &type));
	ck_assert(!status_http(st, "/metrics", &r, &type));
	ck_assert(!status_http(NULL, "/", &r, &type));
}
END_TEST

static Suite *status_suite(void)
{
	Suite *s = suite_create("status");
	TCase *tc = tcase_create("status");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_starting_then_rates);
	tcase_add_test(tc, test_ring_is_bounded);
	tcase_add_test(tc, test_one_sample_a_second);
	tcase_add_test(tc, test_attack_start_and_health);
	tcase_add_test(tc, test_syn_cookies);
	tcase_add_test(tc, test_counter_reset);
	tcase_add_test(tc, test_hostile_text);
	tcase_add_test(tc, test_redis_topology);
	tcase_add_test(tc, test_renamed_rules);
	tcase_add_test(tc, test_renamed_policies);
	tcase_add_test(tc, test_http_routes);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(status_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
