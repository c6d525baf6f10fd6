// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cidr.h"

static int cidr_maxlen(uint8_t family)
{
	return family == FG_AF_INET ? 32 : 128;
}

/* Parse s into out; host bits beyond the prefix are cleared when mask is
 * set, an error otherwise. */
static int cidr_parse_common(const char *s, struct fg_cidr *out, bool mask)
{
	char buf[INET6_ADDRSTRLEN];
	const char *slash, *p;
	struct fg_cidr c;
	size_t alen;
	int plen, max;

	if (!s || !*s)
		return -EINVAL;
	slash = strchr(s, '/');
	alen = slash ? (size_t)(slash - s) : strlen(s);
	if (alen == 0 || alen >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, alen);
	buf[alen] = '\0';

	memset(&c, 0, sizeof(c));
	/* inet_pton is strict: no spaces, no leading zeros, no junk. */
	if (strchr(buf, ':')) {
		c.family = FG_AF_INET6;
		if (inet_pton(AF_INET6, buf, c.addr) != 1)
			return -EINVAL;
	} else {
		c.family = FG_AF_INET;
		if (inet_pton(AF_INET, buf, &c.addr[0]) != 1)
			return -EINVAL;
	}
	max = cidr_maxlen(c.family);

	if (!slash) {
		plen = max;
	} else {
		p = slash + 1;
		/* At most three digits: rejects "", "-1", "+8", " 8", "8 ". */
		if (!*p || strlen(p) > 3)
			return -EINVAL;
		for (plen = 0; *p; p++) {
			if (*p < '0' || *p > '9')
				return -EINVAL;
			plen = plen * 10 + (*p - '0');
		}
		if (plen > max)
			return -EINVAL;
	}

	c.prefixlen = (uint8_t)max;
	if (plen < max) {
		struct fg_cidr m = c;

		cidr_mask(&m, (uint8_t)plen);
		if (!mask && memcmp(m.addr, c.addr, sizeof(c.addr)))
			return -EINVAL;
		c = m;
	}
	/* Two spellings of one trie key must not be two entries. */
	cidr_unmap(&c);
	*out = c;
	return 0;
}

/* Shorter prefixes that cover the mapped block (::/0, ::/64) stay IPv6:
 * they never match IPv4 packets, and mapped sources are dropped on the wire. */
void cidr_unmap(struct fg_cidr *c)
{
	if (c->family == FG_AF_INET6 && c->prefixlen >= 96 && !c->addr[0] && !c->addr[1] &&
	    c->addr[2] == htonl(0xffff)) {
		c->family = FG_AF_INET;
		c->prefixlen = (uint8_t)(c->prefixlen - 96);
		c->addr[0] = c->addr[3];
		c->addr[2] = c->addr[3] = 0;
	}
}

int cidr_parse(const char *s, struct fg_cidr *out)
{
	return cidr_parse_common(s, out, false);
}

int cidr_parse_loose(const char *s, struct fg_cidr *out)
{
	return cidr_parse_common(s, out, true);
}

int cidr_parse_addr(const char *s, struct fg_cidr *out)
{
	struct fg_cidr c;
	int err;

	err = cidr_parse(s, &c);
	if (err)
		return err;
	if (c.prefixlen != cidr_maxlen(c.family))
		return -EINVAL;
	*out = c;
	return 0;
}

char *cidr_format(const struct fg_cidr *c, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];
	int af = c->family == FG_AF_INET ? AF_INET : AF_INET6;

	if (!inet_ntop(af, c->addr, a, sizeof(a)))
		snprintf(a, sizeof(a), "?");
	if (cidr_is_address(c))
		snprintf(buf, len, "%s", a);
	else
		snprintf(buf, len, "%s/%u", a, c->prefixlen);
	return buf;
}

void cidr_to_lpm(const struct fg_cidr *c, struct fg_lpm_key *key)
{
	memset(key, 0, sizeof(*key));
	if (c->family == FG_AF_INET) {
		key->prefixlen = c->prefixlen + 96u;
		key->addr[2] = htonl(0xffff);
		key->addr[3] = c->addr[0];
	} else {
		key->prefixlen = c->prefixlen;
		memcpy(key->addr, c->addr, sizeof(key->addr));
	}
}

void cidr_from_lpm(const struct fg_lpm_key *key, struct fg_cidr *c)
{
	memset(c, 0, sizeof(*c));
	/* Anything at or under ::ffff:0:0/96 is how IPv4 is stored. */
	if (key->prefixlen >= 96 && key->prefixlen <= 128 && !key->addr[0] && !key->addr[1] &&
	    key->addr[2] == htonl(0xffff)) {
		c->family = FG_AF_INET;
		c->prefixlen = (uint8_t)(key->prefixlen - 96);
		c->addr[0] = key->addr[3];
	} else {
		c->family = FG_AF_INET6;
		c->prefixlen = (uint8_t)(key->prefixlen > 128 ? 128 : key->prefixlen);
		memcpy(c->addr, key->addr, sizeof(c->addr));
	}
}

void cidr_to_src_key(const struct fg_cidr *c, uint16_t rule, struct fg_src_key *key)
{
	memset(key, 0, sizeof(*key));
	key->family = c->family;
	key->prefixlen = c->prefixlen;
	key->rule = rule;
	if (c->family == FG_AF_INET)
		key->addr[0] = c->addr[0];
	else
		memcpy(key->addr, c->addr, sizeof(key->addr));
}

void cidr_from_src_key(const struct fg_src_key *key, struct fg_cidr *c)
{
	memset(c, 0, sizeof(*c));
	c->family = key->family;
	c->prefixlen = key->prefixlen;
	if (key->family == FG_AF_INET)
		c->addr[0] = key->addr[0];
	else
		memcpy(c->addr, key->addr, sizeof(c->addr));
}

void cidr_mask(struct fg_cidr *c, uint8_t prefixlen)
{
	uint8_t *b = (uint8_t *)c->addr;
	int max = cidr_maxlen(c->family);
	int i;

	if (prefixlen > max)
		prefixlen = (uint8_t)max;
	for (i = 0; i < 16; i++) {
		int bits = prefixlen - i * 8;

		if (bits >= 8)
			continue;
		b[i] &= bits <= 0 ? 0 : (uint8_t)(0xff << (8 - bits));
	}
	c->prefixlen = prefixlen;
}

bool cidr_is_address(const struct fg_cidr *c)
{
	return c->prefixlen == cidr_maxlen(c->family);
}

bool cidr_equal(const struct fg_cidr *a, const struct fg_cidr *b)
{
	return a->family == b->family && a->prefixlen == b->prefixlen &&
	       !memcmp(a->addr, b->addr, sizeof(a->addr));
}

int cidr_find(const struct fg_cidr *list, int n, const struct fg_cidr *c)
{
	int i;

	for (i = 0; i < n; i++)
		if (cidr_equal(&list[i], c))
			return i;
	return -1;
}

bool cidr_contains(const struct fg_cidr *a, const struct fg_cidr *b)
{
	struct fg_cidr m;

	if (a->family != b->family || a->prefixlen > b->prefixlen)
		return false;
	m = *b;
	cidr_mask(&m, a->prefixlen);
	return !memcmp(m.addr, a->addr, sizeof(m.addr));
}
