/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * tbucket: a token bucket on an injected clock, for the agent's own rates
 * (the fleet's TCP proofs it publishes, each socket peer's vouches): rate
 * tokens a second, at most burst at once. The level is kept in token-nanoseconds (a token is
 * NS_PER_S of them), so any rate up to TBUCKET_RATE_MAX refills exactly,
 * without rounding an interval of 1/rate s.
 */
#ifndef FG_TBUCKET_H
#define FG_TBUCKET_H

#include <stdbool.h>
#include <stdint.h>

#define TBUCKET_NS_PER_S 1000000000ULL
#define TBUCKET_RATE_MAX 1000000000ULL /* and burst: level <= 1e18 < 2^63 */

struct tbucket {
	uint64_t rate, burst; /* tokens a second; at most this many at once */
	uint64_t level;	      /* token-ns in the bucket */
	uint64_t at_ns;	      /* when level was last brought up to date */
};

/* Full (burst tokens) at now_ns. */
static inline void tbucket_init(struct tbucket *b, uint64_t rate, uint64_t burst, uint64_t now_ns)
{
	b->rate = rate < TBUCKET_RATE_MAX ? rate : TBUCKET_RATE_MAX;
	b->burst = burst < TBUCKET_RATE_MAX ? burst : TBUCKET_RATE_MAX;
	b->level = b->burst * TBUCKET_NS_PER_S;
	b->at_ns = now_ns;
}

/* Another rate and burst (a reload): what the bucket holds stays, at most
 * the new burst. */
static inline void tbucket_set(struct tbucket *b, uint64_t rate, uint64_t burst)
{
	b->rate = rate < TBUCKET_RATE_MAX ? rate : TBUCKET_RATE_MAX;
	b->burst = burst < TBUCKET_RATE_MAX ? burst : TBUCKET_RATE_MAX;
	if (b->level > b->burst * TBUCKET_NS_PER_S)
		b->level = b->burst * TBUCKET_NS_PER_S;
}

/* Refill for the time since the last call (a clock that went back adds
 * nothing), then take one token if there is one. */
static inline bool tbucket_take(struct tbucket *b, uint64_t now_ns)
{
	uint64_t cap = b->burst * TBUCKET_NS_PER_S;

	if (now_ns > b->at_ns) {
		unsigned __int128 add = (unsigned __int128)(now_ns - b->at_ns) * b->rate;

		b->level = add >= cap - b->level ? cap : b->level + (uint64_t)add;
		b->at_ns = now_ns;
	}
	if (b->level < TBUCKET_NS_PER_S)
		return false;
	b->level -= TBUCKET_NS_PER_S;
	return true;
}

#endif /* FG_TBUCKET_H */
