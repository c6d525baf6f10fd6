// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * The memory store: a chained hash table sized once for max_keys (so the
 * request path never rehashes), threaded on one LRU list per namespace.
 * Each operation looks at a couple of entries at its namespace's LRU tail
 * and frees what has expired; the sweep timer walks the buckets. A
 * namespace at its own bound (store_ns_set_max_keys) evicts its own least
 * recently used entry, so one policy's keys never push out another's.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"

/*
 * Entries reclaimed per operation: only the LRU tail, which is hot. The
 * bucket walk (a cache miss per bucket on a large table) runs from the
 * agent's sweep timer instead (store_sweep): measured, one bucket per
 * request cost 14% of RL.CHECK throughput with 1M keys.
 */
#define MEM_TAIL_CHECK	  2
#define MEM_SWEEP_BUCKETS 0
#define MEM_MIN_BUCKETS	  16

struct mentry {
	struct mentry *hnext;
	struct mentry *prev, *next; /* LRU: prev is more recent */
	uint64_t expire_ms;
	uint32_t hash;
	uint16_t ns;
	uint16_t klen;
	uint32_t scap; /* bytes of state allocated: the ns's state_size, or less when it has a
			  used() */
	uint32_t pad;
	uint64_t data[]; /* state (scap bytes), then the key */
};

struct mns {
	uint32_t state_size; /* at most */
	uint32_t min_size;   /* used() of zeroes: what a fresh state has zeroed */
	store_used_fn used;  /* NULL: every key has state_size bytes */
	bool live;
	uint64_t keys;
	uint64_t max_keys;	    /* 0 = bounded by the store's max_keys only */
	uint64_t evictions;	    /* its live keys dropped to stay within a bound */
	struct mentry *head, *tail; /* most and least recently used */
};

struct store {
	struct mentry **buckets;
	uint64_t nbuckets; /* power of 2 */
	uint64_t mask;
	uint64_t cursor;      /* next bucket the sweep looks at */
	uint32_t tail_cursor; /* next namespace whose tail the sweep looks at */
	uint32_t dead_cursor; /* a dropped namespace that may still hold keys */
	uint64_t dead_keys;   /* keys of dropped namespaces, not reclaimed yet */
	uint64_t count;
	uint64_t max_keys;
	uint64_t evictions;
	uint64_t expired;
	uint64_t bytes;
	uint64_t last_now; /* the latest now_ms seen: what had expired by then stays gone */
	uint64_t k0, k1;
	struct mns ns[STORE_NS_MAX];
};

/* --- SipHash-1-3 (Aumasson, Bernstein), as in Redis's and Rust's hash maps */

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND                                                                                   \
	do {                                                                                       \
		v0 += v1;                                                                          \
		v1 = ROTL(v1, 13);                                                                 \
		v1 ^= v0;                                                                          \
		v0 = ROTL(v0, 32);                                                                 \
		v2 += v3;                                                                          \
		v3 = ROTL(v3, 16);                                                                 \
		v3 ^= v2;                                                                          \
		v0 += v3;                                                                          \
		v3 = ROTL(v3, 21);                                                                 \
		v3 ^= v0;                                                                          \
		v2 += v1;                                                                          \
		v1 = ROTL(v1, 17);                                                                 \
		v1 ^= v2;                                                                          \
		v2 = ROTL(v2, 32);                                                                 \
	} while (0)

uint64_t store_siphash(uint64_t k0, uint64_t k1, const void *data, size_t len)
{
	const unsigned char *in = data;
	uint64_t v0 = 0x736f6d6570736575ULL ^ k0;
	uint64_t v1 = 0x646f72616e646f6dULL ^ k1;
	uint64_t v2 = 0x6c7967656e657261ULL ^ k0;
	uint64_t v3 = 0x7465646279746573ULL ^ k1;
	uint64_t b = (uint64_t)len << 56, m;
	size_t left = len & 7;
	const unsigned char *end = in + len - left;

	for (; in != end; in += 8) {
		memcpy(&m, in, 8); /* little-endian hosts only (x86, arm64) */
		v3 ^= m;
		SIPROUND;
		v0 ^= m;
	}
	switch (left) {
	case 7:
		b |= (uint64_t)in[6] << 48;
		/* fall through */
	case 6:
		b |= (uint64_t)in[5] << 40;
		/* fall through */
	case 5:
		b |= (uint64_t)in[4] << 32;
		/* fall through */
	case 4:
		b |= (uint64_t)in[3] << 24;
		/* fall through */
	case 3:
		b |= (uint64_t)in[2] << 16;
		/* fall through */
	case 2:
		b |= (uint64_t)in[1] << 8;
		/* fall through */
	case 1:
		b |= (uint64_t)in[0];
		break;
	default:
		break;
	}
	v3 ^= b;
	SIPROUND;
	v0 ^= b;
	v2 ^= 0xff;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}

static inline uint32_t hash_of(const struct store *m, uint32_t ns, const void *key, size_t klen)
{
	/* The namespace goes into the key so equal keys of two policies spread. */
	uint64_t h = store_siphash(m->k0, m->k1 ^ ns, key, klen);

	return (uint32_t)(h ^ (h >> 32));
}

static inline size_t entry_size(const struct store *m, const struct mentry *e)
{
	(void)m;
	return sizeof(*e) + e->scap + e->klen;
}

static inline unsigned char *entry_key(const struct store *m, struct mentry *e)
{
	(void)m;
	return (unsigned char *)e->data + e->scap;
}

static void lru_unlink(struct store *m, struct mentry *e)
{
	struct mns *n = &m->ns[e->ns];

	if (e->prev)
		e->prev->next = e->next;
	else
		n->head = e->next;
	if (e->next)
		e->next->prev = e->prev;
	else
		n->tail = e->prev;
}

static void lru_push(struct store *m, struct mentry *e)
{
	struct mns *n = &m->ns[e->ns];

	e->prev = NULL;
	e->next = n->head;
	if (n->head)
		n->head->prev = e;
	else
		n->tail = e;
	n->head = e;
}

/* The allocation for used bytes of state: in steps of 128 bytes, so that a
 * growing log is not reallocated on every request. */
static uint32_t cap_for(const struct mns *n, uint32_t used)
{
	uint32_t c = (used + 127) / 128 * 128;

	return c < n->state_size ? c : n->state_size;
}

/* What a state of a sized namespace uses, within its bounds. */
static uint32_t sized_used(const struct mns *n, const void *state)
{
	uint32_t used = n->used(state);

	return used >= n->min_size && used <= n->state_size ? used : n->state_size;
}

static struct mentry *entry_resize(struct store *m, struct mentry *e, uint32_t scap);

static void entry_free(struct store *m, struct mentry *e)
{
	struct mentry **pp = &m->buckets[e->hash & m->mask];

	while (*pp != e)
		pp = &(*pp)->hnext;
	*pp = e->hnext;
	lru_unlink(m, e);
	if (!m->ns[e->ns].live)
		m->dead_keys--;
	m->bytes -= entry_size(m, e);
	m->ns[e->ns].keys--;
	m->count--;
	free(e);
}

static inline bool garbage(const struct store *m, const struct mentry *e, uint64_t now_ms)
{
	return e->expire_ms <= now_ms || !m->ns[e->ns].live;
}

/* The incremental part of expiry: a few entries at the LRU tail of
 * namespace ns per operation, and buckets of the table. */
static size_t reclaim(struct store *m, uint32_t ns, uint64_t now_ms, int tail, uint64_t buckets)
{
	struct mns *s = &m->ns[ns];
	size_t n = 0;
	uint64_t i;

	if (now_ms > m->last_now)
		m->last_now = now_ms;
	while (tail > 0 && s->tail && garbage(m, s->tail, now_ms)) {
		entry_free(m, s->tail);
		n++;
		tail--;
	}
	/* Keys of a dropped namespace are garbage too, a few per operation. */
	for (i = 0; tail > 0 && m->dead_keys && i < STORE_NS_MAX; i++) {
		struct mns *d = &m->ns[m->dead_cursor];

		while (tail > 0 && !d->live && d->tail) {
			entry_free(m, d->tail);
			n++;
			tail--;
		}
		if (!d->live && d->tail)
			break;
		m->dead_cursor = (m->dead_cursor + 1) % STORE_NS_MAX;
	}
	for (i = 0; i < buckets; i++) {
		struct mentry *e = m->buckets[m->cursor], *next;

		for (; e; e = next) {
			next = e->hnext;
			if (garbage(m, e, now_ms)) {
				entry_free(m, e);
				n++;
			}
		}
		m->cursor = (m->cursor + 1) & m->mask;
	}
	m->expired += n;
	return n;
}

static struct mentry *lookup(struct store *m, uint32_t ns, uint32_t h, const void *key, size_t klen)
{
	struct mentry *e;

	for (e = m->buckets[h & m->mask]; e; e = e->hnext) {
		if (e->hash == h && e->ns == ns && e->klen == klen &&
		    !memcmp(entry_key(m, e), key, klen))
			return e;
	}
	return NULL;
}

/* Namespace ns down to at most keep entries, from its LRU tail: garbage
 * is counted as expired, live entries as evictions. */
static void evict_ns(struct store *m, uint32_t ns, uint64_t keep, uint64_t now_ms)
{
	struct mns *s = &m->ns[ns];

	while (s->keys > keep && s->tail) {
		if (garbage(m, s->tail, now_ms)) {
			m->expired++;
		} else {
			m->evictions++;
			s->evictions++;
		}
		entry_free(m, s->tail);
	}
}

/*
 * The whole store down to keep entries: dropped namespaces' entries first,
 * then the LRU tail of the largest namespaces. With per-namespace bounds
 * that add up to no more than the store's, this only reclaims garbage.
 */
static void evict_to(struct store *m, uint64_t keep, uint64_t now_ms)
{
	uint32_t i, big, second;

	for (i = 0; i < STORE_NS_MAX && m->count > keep; i++) {
		uint64_t over = m->count - keep, have = m->ns[i].keys;

		if (!m->ns[i].live && have)
			evict_ns(m, i, have > over ? have - over : 0, now_ms);
	}
	while (m->count > keep) {
		big = second = STORE_NS_MAX;
		for (i = 0; i < STORE_NS_MAX; i++) {
			if (!m->ns[i].keys)
				continue;
			if (big == STORE_NS_MAX || m->ns[i].keys > m->ns[big].keys) {
				second = big;
				big = i;
			} else if (second == STORE_NS_MAX || m->ns[i].keys > m->ns[second].keys) {
				second = i;
			}
		}
		if (big == STORE_NS_MAX)
			break;
		/* Down to the second largest (at least one entry), or to keep. */
		{
			uint64_t floor = second == STORE_NS_MAX ? 0 : m->ns[second].keys;
			uint64_t over = m->count - keep, target;

			if (floor >= m->ns[big].keys)
				floor = m->ns[big].keys - 1;
			target = m->ns[big].keys - floor > over ? m->ns[big].keys - over : floor;
			evict_ns(m, big, target, now_ms);
		}
	}
}

/* e with room for scap bytes of state (its links moved over), or NULL. */
static struct mentry *entry_resize(struct store *m, struct mentry *e, uint32_t scap)
{
	struct mentry *n = malloc(sizeof(*n) + scap + e->klen), **pp;

	if (!n)
		return NULL;
	*n = *e;
	n->scap = scap;
	memcpy((unsigned char *)n->data + scap, entry_key(m, e), e->klen);
	for (pp = &m->buckets[e->hash & m->mask]; *pp != e;)
		pp = &(*pp)->hnext;
	*pp = n;
	if (e->prev)
		e->prev->next = n;
	else
		m->ns[e->ns].head = n;
	if (e->next)
		e->next->prev = n;
	else
		m->ns[e->ns].tail = n;
	m->bytes = m->bytes - e->scap + scap;
	free(e);
	return n;
}

/* A namespace with used(): fn runs on a copy of the key's state in tmp
 * (zeroed up to min_size when fresh; past its used bytes unspecified) and
 * the entry is resized to what it uses. */
static int run_sized(struct store *m, struct mentry *e, uint64_t *tmp, uint64_t now_ms, store_fn fn,
		     void *arg)
{
	struct mns *n = &m->ns[e->ns];
	bool fresh = e->expire_ms <= now_ms;
	uint64_t exp;
	uint32_t used, cap;

	if (fresh)
		memset(tmp, 0, n->min_size);
	else
		memcpy(tmp, e->data, e->scap);
	exp = fn(tmp, fresh, arg);
	if (exp <= now_ms) {
		entry_free(m, e);
		return 0;
	}
	used = n->used(tmp);
	if (used < n->min_size || used > n->state_size) /* cannot happen: a callback's bug */
		used = n->state_size;
	cap = cap_for(n, used);
	if (used > e->scap || cap + 256 < e->scap) {
		struct mentry *r = entry_resize(m, e, cap);

		if (!r && used > e->scap)
			return -ENOMEM;
		e = r ? r : e;
	}
	memcpy(e->data, tmp, used);
	e->expire_ms = exp;
	if (n->head != e) {
		lru_unlink(m, e);
		lru_push(m, e);
	}
	return 0;
}

int store_run(struct store *s, uint32_t ns, const void *key, size_t klen, bool create,
	      uint64_t now_ms, store_fn fn, void *arg)
{
	struct store *m = s;
	uint64_t tmp[STORE_STATE_MAX / 8];
	struct mentry *e;
	uint32_t size, h;
	uint64_t exp;

	if (klen > STORE_KEY_MAX)
		return -E2BIG;
	if (ns >= STORE_NS_MAX || !m->ns[ns].live)
		return -EINVAL;
	size = m->ns[ns].state_size;
	reclaim(m, ns, now_ms, MEM_TAIL_CHECK, MEM_SWEEP_BUCKETS);
	h = hash_of(m, ns, key, klen);
	e = lookup(m, ns, h, key, klen);
	if (e && m->ns[ns].used)
		return run_sized(m, e, tmp, now_ms, fn, arg);
	if (e) {
		bool fresh = e->expire_ms <= now_ms;

		if (fresh)
			memset(e->data, 0, size);
		exp = fn(e->data, fresh, arg);
		if (exp <= now_ms) {
			entry_free(m, e);
			return 0;
		}
		e->expire_ms = exp;
		if (m->ns[ns].head != e) {
			lru_unlink(m, e);
			lru_push(m, e);
		}
		return 0;
	}

	/* A missing key is decided on zeroes first: a refused or read-only
	 * request allocates nothing. */
	memset(tmp, 0, m->ns[ns].used ? m->ns[ns].min_size : size);
	exp = fn(tmp, true, arg);
	if (!create || exp <= now_ms)
		return 0;
	if (m->ns[ns].used) {
		uint32_t used = m->ns[ns].used(tmp);

		size = cap_for(&m->ns[ns],
			       used >= m->ns[ns].min_size && used <= size ? used : size);
	}
	/* Room comes from this namespace's own least recently used keys. */
	if (m->ns[ns].max_keys && m->ns[ns].keys >= m->ns[ns].max_keys)
		evict_ns(m, ns, m->ns[ns].max_keys - 1, now_ms);
	if (m->count >= m->max_keys)
		evict_to(m, m->max_keys - 1, now_ms);
	e = malloc(sizeof(*e) + size + klen);
	if (!e)
		return -ENOMEM;
	e->expire_ms = exp;
	e->hash = h;
	e->ns = (uint16_t)ns;
	e->klen = (uint16_t)klen;
	e->scap = size;
	e->pad = 0;
	memcpy(e->data, tmp, size);
	if (klen)
		memcpy((unsigned char *)e->data + size, key, klen);
	e->hnext = m->buckets[h & m->mask];
	m->buckets[h & m->mask] = e;
	lru_push(m, e);
	m->count++;
	m->ns[ns].keys++;
	m->bytes += entry_size(m, e);
	return 0;
}

int store_del(struct store *s, uint32_t ns, const void *key, size_t klen, uint64_t now_ms)
{
	struct store *m = s;
	struct mentry *e;

	if (klen > STORE_KEY_MAX)
		return -E2BIG;
	if (ns >= STORE_NS_MAX || !m->ns[ns].live)
		return -EINVAL;
	reclaim(m, ns, now_ms, MEM_TAIL_CHECK, MEM_SWEEP_BUCKETS);
	e = lookup(m, ns, hash_of(m, ns, key, klen), key, klen);
	if (e)
		entry_free(m, e);
	return 0;
}

/* Free every entry of dropped namespaces now (rare: all slots in use). */
static void purge_dead(struct store *m)
{
	int i;

	for (i = 0; i < STORE_NS_MAX; i++) {
		while (!m->ns[i].live && m->ns[i].tail) {
			entry_free(m, m->ns[i].tail);
			m->expired++;
		}
	}
}

int store_ns_new(struct store *s, uint32_t state_size, uint32_t *ns)
{
	struct store *m = s;
	int pass, i;

	if (state_size > STORE_STATE_MAX || state_size % 8)
		return -EINVAL;
	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < STORE_NS_MAX; i++) {
			if (!m->ns[i].live && !m->ns[i].keys) {
				m->ns[i].live = true;
				m->ns[i].state_size = state_size;
				m->ns[i].min_size = state_size;
				m->ns[i].used = NULL;
				m->ns[i].max_keys = 0;
				m->ns[i].evictions = 0;
				*ns = (uint32_t)i;
				return 0;
			}
		}
		purge_dead(m);
	}
	return -ENOSPC;
}

int store_ns_set_used(struct store *s, uint32_t ns, store_used_fn used)
{
	static const uint64_t zero[STORE_STATE_MAX / 8];
	struct mns *n;

	if (ns >= STORE_NS_MAX || !s->ns[ns].live || s->ns[ns].keys || !used)
		return -EINVAL;
	n = &s->ns[ns];
	n->min_size = used(zero);
	if (n->min_size > n->state_size || n->min_size % 8)
		return -EINVAL;
	n->used = used;
	return 0;
}

void store_ns_drop(struct store *s, uint32_t ns)
{
	struct store *m = s;

	if (ns < STORE_NS_MAX && m->ns[ns].live) {
		m->ns[ns].live = false;
		m->dead_keys += m->ns[ns].keys;
	}
}

/* An entry of namespace ns like e, with state new_state (ns's size). */
static struct mentry *entry_dup(struct store *m, struct mentry *e, uint32_t ns,
				const uint64_t *new_state, uint64_t exp)
{
	uint32_t size = m->ns[ns].state_size;
	struct mentry *n;
	const unsigned char *key = entry_key(m, e);

	if (m->ns[ns].used)
		size = cap_for(&m->ns[ns], sized_used(&m->ns[ns], new_state));
	n = malloc(sizeof(*n) + size + e->klen);
	if (!n)
		return NULL;
	n->expire_ms = exp;
	n->ns = (uint16_t)ns;
	n->klen = e->klen;
	n->scap = size;
	n->pad = 0;
	n->hash = hash_of(m, ns, key, e->klen);
	memcpy(n->data, new_state, size);
	if (e->klen)
		memcpy((unsigned char *)n->data + size, key, e->klen);
	n->hnext = m->buckets[n->hash & m->mask];
	m->buckets[n->hash & m->mask] = n;
	lru_push(m, n);
	m->count++;
	m->ns[ns].keys++;
	m->bytes += entry_size(m, n);
	return n;
}

uint64_t store_ns_move(struct store *s, uint32_t from, uint32_t to, store_move_fn fn, void *arg)
{
	struct store *m = s;
	uint64_t src[STORE_STATE_MAX / 8], dst[STORE_STATE_MAX / 8], exp, kept = 0;
	struct mentry *e, *prev;

	if (from >= STORE_NS_MAX || to >= STORE_NS_MAX || !m->ns[from].live || !m->ns[to].live)
		return 0;
	/* From the least recently used: each pushed in front keeps the order. */
	for (e = m->ns[from].tail; e; e = prev) {
		prev = e->prev;
		/* A sized key holds scap bytes; what follows reads as zeroes. */
		memcpy(src, e->data, e->scap);
		memset((unsigned char *)src + e->scap, 0, m->ns[from].state_size - e->scap);
		memset(dst, 0, m->ns[to].state_size);
		/* Expired but not reclaimed yet: a longer expiry under the new
		 * config must not bring it back (Redis deleted it already). */
		exp = e->expire_ms > m->last_now ? fn(dst, src, arg) : 0;
		if (from == to && exp && m->ns[to].used) {
			uint32_t used = sized_used(&m->ns[to], dst),
				 cap = cap_for(&m->ns[to], used);
			struct mentry *r = cap != e->scap ? entry_resize(m, e, cap) : e;

			if (r) {
				memcpy(r->data, dst, used);
				r->expire_ms = exp;
				kept++;
			} else {
				entry_free(m, e);
			}
			continue;
		}
		if (from == to && exp) {
			memcpy(e->data, dst, m->ns[to].state_size);
			e->expire_ms = exp;
			kept++;
			continue;
		}
		if (from != to && exp)
			kept += entry_dup(m, e, to, dst, exp) != NULL;
		entry_free(m, e);
	}
	return kept;
}

uint64_t store_ns_keys(const struct store *s, uint32_t ns)
{
	const struct store *m = s;

	return ns < STORE_NS_MAX && m->ns[ns].live ? m->ns[ns].keys : 0;
}

int store_ns_set_max_keys(struct store *s, uint32_t ns, uint64_t max_keys, uint64_t now_ms)
{
	struct store *m = s;

	if (ns >= STORE_NS_MAX || !m->ns[ns].live)
		return -EINVAL;
	m->ns[ns].max_keys = max_keys;
	if (max_keys)
		evict_ns(m, ns, max_keys, now_ms);
	return 0;
}

uint64_t store_ns_evictions(const struct store *s, uint32_t ns)
{
	const struct store *m = s;

	return ns < STORE_NS_MAX && m->ns[ns].live ? m->ns[ns].evictions : 0;
}

static uint64_t buckets_for(uint64_t max_keys)
{
	uint64_t n = MEM_MIN_BUCKETS;

	while (n < max_keys && n < (1ULL << 40))
		n <<= 1;
	return n;
}

int store_set_max_keys(struct store *s, uint64_t max_keys, uint64_t now_ms)
{
	struct store *m = s;
	uint64_t n = buckets_for(max_keys), i;
	struct mentry **nb, *e, *next;

	if (!max_keys)
		return -EINVAL;
	if (n > m->nbuckets) {
		/* Only on a reload that raises max_keys: never on the request path. */
		nb = calloc(n, sizeof(*nb));
		if (!nb)
			return -ENOMEM;
		for (i = 0; i < m->nbuckets; i++) {
			for (e = m->buckets[i]; e; e = next) {
				next = e->hnext;
				e->hnext = nb[e->hash & (n - 1)];
				nb[e->hash & (n - 1)] = e;
			}
		}
		free(m->buckets);
		m->buckets = nb;
		m->bytes += (n - m->nbuckets) * sizeof(*nb);
		m->nbuckets = n;
		m->mask = n - 1;
		m->cursor &= m->mask;
	}
	m->max_keys = max_keys;
	evict_to(m, max_keys, now_ms);
	return 0;
}

size_t store_sweep(struct store *s, uint64_t now_ms, size_t budget)
{
	struct store *m = s;
	int tails = (int)(budget < 1024 ? budget : 1024);
	size_t n = 0;
	uint32_t i;

	/* The hot tails first, namespaces in turn, then a slice of the table. */
	for (i = 0; i < STORE_NS_MAX && (int)n < tails; i++) {
		uint32_t ns = (m->tail_cursor + i) % STORE_NS_MAX;

		if (m->ns[ns].tail)
			n += reclaim(m, ns, now_ms, tails - (int)n, 0);
	}
	m->tail_cursor = (m->tail_cursor + i) % STORE_NS_MAX;
	return n + reclaim(m, 0, now_ms, 0, budget);
}

void store_stats(const struct store *s, struct store_stats *out)
{
	const struct store *m = s;

	out->type = "memory";
	out->keys = m->count;
	out->max_keys = m->max_keys;
	out->evictions = m->evictions;
	out->expired = m->expired;
	out->bytes = m->bytes;
}

void store_free(struct store *s)
{
	struct store *m = s;
	struct mentry *e, *next;
	int i;

	if (!m)
		return;
	for (i = 0; i < STORE_NS_MAX; i++) {
		for (e = m->ns[i].head; e; e = next) {
			next = e->next;
			free(e);
		}
	}
	free(m->buckets);
	free(m);
}

struct store *store_memory_new(uint64_t max_keys, uint64_t seed)
{
	struct store *m;

	if (!max_keys) {
		errno = EINVAL;
		return NULL;
	}
	m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	m->nbuckets = buckets_for(max_keys);
	m->mask = m->nbuckets - 1;
	/* calloc'd pages stay untouched (no RSS) until keys land in them. */
	m->buckets = calloc(m->nbuckets, sizeof(*m->buckets));
	if (!m->buckets) {
		free(m);
		return NULL;
	}
	m->max_keys = max_keys;
	m->bytes = sizeof(*m) + m->nbuckets * sizeof(*m->buckets);
	m->k0 = seed ^ 0x5851f42d4c957f2dULL;
	m->k1 = (seed * 0x9e3779b97f4a7c15ULL) ^ 0x14057b7ef767814fULL;
	return m;
}
