/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * Token buckets in integer nanoseconds, as GCRA: a bucket is one u64, the
 * "theoretical arrival time" (TAT). Taking a token moves TAT forward by the
 * emission interval T = 1e9 / rate; the take is refused when TAT would run
 * more than burst * T ahead of now. One word per bucket means one
 * compare-and-swap makes a take atomic, so a source whose packets arrive on
 * every CPU at once still gets exactly rate + burst (no per-CPU buckets that
 * multiply the limit by the CPU count).
 */
#ifndef FG_BPF_LIMIT_H
#define FG_BPF_LIMIT_H

#include <floodgate/abi.h>

/* Take one token; true if admitted. An unlimited level (rate 0) admits. */
static __always_inline bool bucket_take(__u64 *tat, const struct fg_limit *l, __u64 now)
{
	__u64 t = l->interval_ns;
	__u64 tau = t * l->burst;
	int i;

	if (!l->rate)
		return true;
#pragma unroll
	for (i = 0; i < FG_CAS_TRIES; i++) {
		__u64 old = *(volatile __u64 *)tat;
		__u64 next = (old > now ? old : now) + t;

		if (next - now > tau)
			return false;
		if (__sync_val_compare_and_swap(tat, old, next) == old)
			return true;
	}
	/* Lost every race: other CPUs are taking from this bucket at full
	 * speed, which only a flood does. Refusing is the safe answer. */
	return false;
}

/*
 * True when bucket_take() would refuse at any time in [now, now + lag]: with
 * the coarse clock as now and its largest lag behind the precise clock, the
 * refusal is certain without reading the precise clock. A take is refused
 * when max(tat, now) + T - now > tau; tat + T > now + lag + tau makes that
 * hold for every real now up to now + lag (and tat ahead of it, as tau >= T;
 * with burst 0 every take is refused anyway). A bucket this check passes may
 * still refuse: bucket_clock() names the clock bucket_take() decides on.
 */
static __always_inline bool bucket_surely_refuses(__u64 tat, const struct fg_limit *l, __u64 now,
						  __u64 lag)
{
	return l->rate && tat + l->interval_ns > now + lag + l->interval_ns * l->burst;
}

/*
 * True when bucket_take() may take on the coarse clock (now, at most lag
 * behind the precise one): it admits there, and the burst outlasts the lag
 * (tau > T + lag). Whatever the coarse clock admits, the precise one would
 * (it is never behind): the take is only stamped up to lag early, so the
 * bucket's admissions over any window W stay within burst + (W + lag) x
 * rate, and with tau > T + lag that lag is less than the burst. A finer
 * bucket, or one that would refuse, is left to the precise clock: no
 * tick-sized steps cap a rate. (A take another CPU's take leaves without
 * a token on the coarse clock is refused, as one that loses every race.)
 */
static __always_inline bool bucket_admits_early(__u64 tat, const struct fg_limit *l, __u64 now,
						__u64 lag)
{
	__u64 t = l->interval_ns, tau = t * l->burst;

	return tau > t + lag && tat + t <= now + tau;
}

/*
 * The margin bucket_surely_refuses() is given for the coarse clock's lag:
 * lag, or none while the source floods (now < flood_until: refused within
 * the last tick, or a global budget under attack) and the bucket can wait.
 * Without the margin a token is taken up to lag late, and that costs the
 * bucket nothing when tau > T + lag: the token comes due at
 * A = tat + T - tau, the coarse clock passes A at most lag after the real
 * time does, and the bucket is still owed tat - A = tau - T > lag then (only
 * a take moves tat), so that take moves tat by T as it would have on time.
 * The source's admissions over any window are unchanged, each at most lag
 * later, taken by one of its next packets. Masks, not branches: the
 * verifier walks this on every path of fg_xdp that takes a token (times
 * are below 2^63: rate >= 1, burst < 2^32).
 */
static __always_inline __u64 bucket_margin(const struct fg_limit *l, __u64 now, __u64 lag,
					   __u64 flood_until)
{
	__u64 t = l->interval_ns;
	__s64 floods = (__s64)(now - flood_until) >> 63;   /* all ones: now < flood_until */
	__s64 waits = (__s64)(t + lag - t * l->burst) >> 63; /* all ones: tau > T + lag */

	return lag & ~(__u64)(floods & waits);
}

/* The clock a take needs, from the coarse now (lag: how far it may be
 * behind the precise clock, 0 when it is the precise one). */
enum bucket_clock {
	BUCKET_REFUSE,	/* none: the refusal is certain */
	BUCKET_COARSE,	/* the coarse now admits (bucket_admits_early()) */
	BUCKET_PRECISE, /* bucket_take() at the precise now decides */
};

static __always_inline enum bucket_clock bucket_clock(__u64 tat, const struct fg_limit *l,
						      __u64 now, __u64 lag, __u64 flood_until)
{
	if (bucket_surely_refuses(tat, l, now, bucket_margin(l, now, lag, flood_until)))
		return BUCKET_REFUSE;
	return lag && bucket_admits_early(tat, l, now, lag) ? BUCKET_COARSE : BUCKET_PRECISE;
}

/* Give back a token taken by bucket_take() when a later level refused the
 * flow, so one level's refusal does not also charge the levels before. */
static __always_inline void bucket_refund(__u64 *tat, const struct fg_limit *l)
{
	if (l->rate)
		__sync_fetch_and_add(tat, -l->interval_ns);
}

#endif /* FG_BPF_LIMIT_H */
