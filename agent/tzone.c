// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * tzone: a TZif reader (RFC 8536) and its POSIX TZ footer, fixed offsets,
 * and local periods over the resulting table (tzone.h). The files are
 * hostile input as far as this code knows (TZDIR is the operator's, a file
 * may be truncated or made up): every count is checked against the bytes
 * there are before anything is read, and every value against its range.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tzone.h"

#define OFF_MAX_S (26 * 3600) /* RFC 8536: -89999..93599 s */
#define SEC_MAX	  (1LL << 40) /* times in ms stay far below 2^53 */

/* --- the table ------------------------------------------------------------- */

/* Append a change to off_s at start_s (the first segment starts at 0),
 * merging equal offsets; of two changes at one instant the later holds.
 * -EINVAL out of order, -E2BIG when full. */
static int seg_push(struct tzone *z, int64_t start_s, int64_t off_s)
{
	struct tzone_seg *last = z->n ? &z->seg[z->n - 1] : NULL;

	if (last && z->n > 1 && start_s * 1000 == last->start_ms) {
		last->off_ms = off_s * 1000;
		if (last[-1].off_ms == last->off_ms)
			z->n--;
		return 0;
	}
	if (last && last->off_ms == off_s * 1000)
		return 0;
	if (last && start_s * 1000 <= last->start_ms)
		return -EINVAL;
	if (z->n >= TZONE_SEGS_MAX)
		return -E2BIG;
	z->seg[z->n].start_ms = z->n ? start_s * 1000 : 0;
	z->seg[z->n].off_ms = off_s * 1000;
	z->n++;
	return 0;
}

/* The floors (local time already reached: the last millisecond of the
 * previous segment, in its offset) and the smallest offset. */
static void seg_finish(struct tzone *z)
{
	uint32_t i;

	z->seg[0].floor_ms = 0;
	z->min_off_ms = z->seg[0].off_ms;
	for (i = 1; i < z->n; i++) {
		int64_t reached = z->seg[i].start_ms - 1 + z->seg[i - 1].off_ms;

		z->seg[i].floor_ms =
			reached > z->seg[i - 1].floor_ms ? reached : z->seg[i - 1].floor_ms;
		if (z->seg[i].off_ms < z->min_off_ms)
			z->min_off_ms = z->seg[i].off_ms;
	}
}

/* --- civil dates ------------------------------------------------------------ */

static bool leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian, y >= 1970). */
static int64_t days_of(int64_t y, int m, int d)
{
	static const int before[] = { 0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334 };
	int64_t p = y - 1; /* leap days before year y, less those before 1970 */
	int64_t days = (y - 1970) * 365 + (p / 4 - p / 100 + p / 400) -
		       (1969 / 4 - 1969 / 100 + 1969 / 400);

	return days + before[m - 1] + (m > 2 && leap(y)) + d - 1;
}

static int month_days(int64_t y, int m)
{
	static const int md[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	return md[m - 1] + (m == 2 && leap(y));
}

static int64_t year_of(int64_t s)
{
	int64_t y = 1970 + (s > 0 ? s / 86400 / 366 : 0);

	while (days_of(y + 1, 1, 1) * 86400 <= s)
		y++;
	return y;
}

/* --- the POSIX TZ string of a TZif footer ----------------------------------- */

/* A date rule of the footer: Jn, n or Mm.w.d, and the local time of day. */
struct rule {
	char kind; /* 'J', 'n' or 'M' */
	int a, b, c;
	int64_t time_s;
};

struct posix_tz {
	int64_t std_off, dst_off; /* seconds east of UTC */
	bool dst;
	struct rule start, end;
};

static bool num(const char **s, int lo, int hi, int *out)
{
	long v = 0;
	int digits = 0;

	while (**s >= '0' && **s <= '9' && digits < 4) {
		v = v * 10 + (**s - '0');
		(*s)++;
		digits++;
	}
	if (!digits || v < lo || v > hi)
		return false;
	*out = (int)v;
	return true;
}

/* [+-]hh[:mm[:ss]] with hh at most max_h, in seconds. */
static bool hms(const char **s, int max_h, int64_t *out)
{
	int sign = 1, h, m = 0, sec = 0;

	if (**s == '+' || **s == '-')
		sign = *(*s)++ == '-' ? -1 : 1;
	if (!num(s, 0, max_h, &h))
		return false;
	if (**s == ':') {
		(*s)++;
		if (!num(s, 0, 59, &m))
			return false;
		if (**s == ':') {
			(*s)++;
			if (!num(s, 0, 59, &sec))
				return false;
		}
	}
	*out = sign * ((int64_t)h * 3600 + m * 60 + sec);
	return true;
}

/* A zone abbreviation: <...> or three or more letters. */
static bool abbrev(const char **s)
{
	const char *p = *s;

	if (*p == '<') {
		for (p++; (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
			  (*p >= '0' && *p <= '9') || *p == '+' || *p == '-';
		     p++)
			;
		if (*p != '>' || p - *s < 4)
			return false;
		*s = p + 1;
		return true;
	}
	while ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z'))
		p++;
	if (p - *s < 3)
		return false;
	*s = p;
	return true;
}

static bool rule(const char **s, struct rule *r)
{
	r->time_s = 2 * 3600;
	if (**s == 'M') {
		(*s)++;
		r->kind = 'M';
		if (!num(s, 1, 12, &r->a) || *(*s)++ != '.' || !num(s, 1, 5, &r->b) ||
		    *(*s)++ != '.' || !num(s, 0, 6, &r->c))
			return false;
	} else if (**s == 'J') {
		(*s)++;
		r->kind = 'J';
		if (!num(s, 1, 365, &r->a))
			return false;
	} else {
		r->kind = 'n';
		if (!num(s, 0, 365, &r->a))
			return false;
	}
	if (**s == '/') {
		(*s)++;
		return hms(s, 167, &r->time_s); /* RFC 8536 allows -167..167 hours */
	}
	return true;
}

/* s: the footer's text (NUL-terminated). UTC offsets are POSIX's negated. */
static bool posix_parse(const char *s, struct posix_tz *tz)
{
	int64_t o;

	memset(tz, 0, sizeof(*tz));
	if (!abbrev(&s) || !hms(&s, 24, &o))
		return false;
	tz->std_off = -o;
	if (!*s)
		return true;
	if (!abbrev(&s))
		return false;
	tz->dst = true;
	tz->dst_off = tz->std_off + 3600;
	if (*s && *s != ',') {
		if (!hms(&s, 24, &o))
			return false;
		tz->dst_off = -o;
	}
	/* A footer always says when DST is: no rules, no guess. */
	if (*s++ != ',' || !rule(&s, &tz->start) || *s++ != ',' || !rule(&s, &tz->end))
		return false;
	return !*s;
}

/* When rule r falls in year y, in seconds of local time since the epoch. */
static int64_t rule_local(const struct rule *r, int64_t y)
{
	int64_t day;

	if (r->kind == 'J') {
		day = days_of(y, 1, 1) + r->a - 1 + (leap(y) && r->a >= 60);
	} else if (r->kind == 'n') {
		day = days_of(y, 1, 1) + r->a;
	} else {
		int64_t first = days_of(y, r->a, 1);
		int wday = (int)((first + 4) % 7); /* 1970-01-01 was a Thursday */
		int d = 1 + (r->c - wday + 7) % 7 + (r->b - 1) * 7;

		while (d > month_days(y, r->a))
			d -= 7;
		day = first + d - 1;
	}
	return day * 86400 + r->time_s;
}

struct change {
	int64_t at_s, off_s;
	size_t seq; /* of two at one instant, the later year's holds */
};

static int change_cmp(const void *a, const void *b)
{
	const struct change *x = a, *y = b;

	if (x->at_s != y->at_s)
		return x->at_s < y->at_s ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* The footer's DST changes after after_s until TZONE_END_YEAR, onto z. */
static int posix_extend(struct tzone *z, const struct posix_tz *tz, int64_t after_s)
{
	struct change *ch;
	int64_t y, y0 = year_of(after_s > 0 ? after_s : 0);
	size_t n = 0, i;
	int err = 0;

	if (y0 > TZONE_END_YEAR)
		return 0;
	ch = calloc((size_t)(TZONE_END_YEAR - y0 + 1) * 2, sizeof(*ch));
	if (!ch)
		return -ENOMEM;
	for (y = y0; y <= TZONE_END_YEAR; y++) {
		/* DST starts in standard time and ends in DST */
		ch[n] = (struct change){ rule_local(&tz->start, y) - tz->std_off, tz->dst_off, n };
		n++;
		ch[n] = (struct change){ rule_local(&tz->end, y) - tz->dst_off, tz->std_off, n };
		n++;
	}
	qsort(ch, n, sizeof(*ch), change_cmp);
	for (i = 0; i < n && !err; i++) {
		if (ch[i].at_s > after_s && ch[i].at_s > 0)
			err = seg_push(z, ch[i].at_s, ch[i].off_s);
	}
	free(ch);
	return err;
}

/* --- TZif ------------------------------------------------------------------- */

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64s(const unsigned char *p)
{
	return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

struct tzif_head {
	uint32_t isut, isstd, leap, time, type, chars;
	uint64_t size; /* of the data block, for times of tsize bytes */
};

static bool head_read(const unsigned char *p, size_t len, unsigned tsize, struct tzif_head *h)
{
	if (len < 44 || memcmp(p, "TZif", 4))
		return false;
	h->isut = be32(p + 20);
	h->isstd = be32(p + 24);
	h->leap = be32(p + 28);
	h->time = be32(p + 32);
	h->type = be32(p + 36);
	h->chars = be32(p + 40);
	/* counts up to 2^32 each: the sum fits in 64 bits */
	h->size = (uint64_t)h->time * (tsize + 1) + (uint64_t)h->type * 6 + h->chars +
		  (uint64_t)h->leap * (tsize + 4) + h->isstd + h->isut;
	return h->type >= 1 && h->type <= 256 && (h->isut == 0 || h->isut == h->type) &&
	       (h->isstd == 0 || h->isstd == h->type) && h->size <= len - 44;
}

static int fail(char *err, size_t errlen, int e, const char *why)
{
	if (err && errlen)
		snprintf(err, errlen, "%s", why);
	return e;
}

int tzone_parse_tzif(const void *buf, size_t len, struct tzone *z, char *err, size_t errlen)
{
	const unsigned char *p = buf, *d, *idx, *types;
	struct tzif_head h;
	unsigned tsize = 4;
	int64_t last = 0, off0;
	bool have_last = false;
	struct posix_tz ptz = { 0 };
	bool footer = false;
	uint32_t i, first = 0;
	int e;

	z->n = 0;
	if (!head_read(p, len, 4, &h))
		return fail(err, errlen, -EINVAL, "not a TZif file");
	if (p[4] >= '2') {
		/* skip the 32-bit data to the 64-bit header and data */
		size_t skip = 44 + (size_t)h.size;

		p += skip;
		len -= skip;
		tsize = 8;
		if (!head_read(p, len, 8, &h))
			return fail(err, errlen, -EINVAL, "not a TZif file (bad version 2 part)");
	}
	if (h.leap)
		return fail(err, errlen, -EINVAL,
			    "a zone with leap seconds (right/...): floodgate counts Unix time");
	d = p + 44;
	idx = d + (size_t)h.time * tsize;
	types = idx + h.time;
	for (i = 0; i < h.type; i++) {
		int32_t o = (int32_t)be32(types + 6 * i);

		if (o < -OFF_MAX_S || o > OFF_MAX_S)
			return fail(err, errlen, -EINVAL, "a UTC offset out of range");
	}
	if (tsize == 8 && len - 44 - h.size >= 2 && p[44 + h.size] == '\n') {
		/* the footer: "\n<POSIX TZ>\n" */
		const char *f = (const char *)p + 44 + h.size + 1;
		size_t room = len - 44 - (size_t)h.size - 1;
		const char *nl = memchr(f, '\n', room);
		char text[128];

		if (!nl || (size_t)(nl - f) >= sizeof(text))
			return fail(err, errlen, -EINVAL, "not a TZif file (bad footer)");
		memcpy(text, f, (size_t)(nl - f));
		text[nl - f] = '\0';
		if (text[0]) {
			if (!posix_parse(text, &ptz))
				return fail(err, errlen, -EINVAL,
					    "a TZ rule in the file this reader does not know");
			footer = true;
		}
	}
	/* The offset at the epoch: the last change at or before it, else type 0
	 * (RFC 8536: before the first transition). */
	off0 = (int32_t)be32(types);
	for (i = 0; i < h.time; i++) {
		int64_t t = tsize == 8 ? be64s(d + 8 * i) : (int32_t)be32(d + 4 * i);

		if (idx[i] >= h.type)
			return fail(err, errlen, -EINVAL, "not a TZif file (bad type index)");
		if (have_last && t <= last)
			return fail(err, errlen, -EINVAL, "not a TZif file (times out of order)");
		if (t < -SEC_MAX || t > SEC_MAX)
			return fail(err, errlen, -EINVAL, "a change out of range");
		last = t;
		have_last = true;
		if (t <= 0) {
			off0 = (int32_t)be32(types + 6 * idx[i]);
			first = i + 1;
		}
	}
	if (!h.time && footer && !ptz.dst)
		off0 = ptz.std_off;
	e = seg_push(z, 0, off0);
	for (i = first; !e && i < h.time; i++) {
		int64_t t = tsize == 8 ? be64s(d + 8 * i) : (int32_t)be32(d + 4 * i);

		e = seg_push(z, t, (int32_t)be32(types + 6 * idx[i]));
	}
	if (!e && footer && ptz.dst)
		e = posix_extend(z, &ptz, have_last ? last : 0);
	if (e) {
		z->n = 0;
		return fail(err, errlen, e,
			    e == -E2BIG	   ? "more changes of offset than floodgate keeps (1024)"
			    : e == -ENOMEM ? "out of memory"
					   : "not a TZif file (times out of order)");
	}
	seg_finish(z);
	return 0;
}

/* --- specs and the kept tables ------------------------------------------------ */

/* "+05:30", "-08:00", "+09": seconds east of UTC. */
static bool fixed_offset(const char *s, int64_t *off)
{
	int h, m = 0;
	int sign;

	if (*s != '+' && *s != '-')
		return false;
	sign = *s++ == '-' ? -1 : 1;
	if (!(s[0] >= '0' && s[0] <= '9' && s[1] >= '0' && s[1] <= '9'))
		return false;
	h = (s[0] - '0') * 10 + (s[1] - '0');
	s += 2;
	if (*s == ':') {
		if (!(s[1] >= '0' && s[1] <= '5' && s[2] >= '0' && s[2] <= '9'))
			return false;
		m = (s[1] - '0') * 10 + (s[2] - '0');
		s += 3;
	}
	if (*s || h > 18 || (h == 18 && m))
		return false;
	*off = sign * ((int64_t)h * 3600 + m * 60);
	return true;
}

/* An IANA name can only name a file under TZDIR: no absolute path, no .. */
static bool zone_name(const char *s)
{
	const char *c;

	if (!*s || *s == '/' || strlen(s) >= TZONE_NAME_MAX)
		return false;
	for (c = s; *c; c++) {
		if (!((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') ||
		      (*c >= '0' && *c <= '9') || *c == '/' || *c == '_' || *c == '-' ||
		      *c == '+' || *c == '.'))
			return false;
		if ((c == s || c[-1] == '/') && *c == '.')
			return false; /* ., .., hidden files */
	}
	return true;
}

/* Config loads run on libuv's thread pool as well as on the loop. */
static pthread_mutex_t kept_lock = PTHREAD_MUTEX_INITIALIZER;
static struct tzone *kept[TZONE_MAX];
static int nkept;

static int load_file(const char *spec, struct tzone *z, char *err, size_t errlen)
{
	const char *dir = getenv("TZDIR");
	char path[512], why[160];
	unsigned char *buf = NULL;
	struct stat st;
	ssize_t r;
	int fd, e;

	if (!dir || !*dir)
		dir = "/usr/share/zoneinfo";
	snprintf(path, sizeof(path), "%s/%s", dir, spec);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		e = errno == ENOENT || errno == ENOTDIR ? -ENOENT : -errno;
		if (e == -ENOENT && access(dir, F_OK))
			snprintf(err, errlen, "no %s: install tzdata or set TZDIR", dir);
		else
			snprintf(err, errlen, "%s: %s", path, strerror(-e));
		return e;
	}
	e = -EINVAL;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size > TZONE_FILE_MAX) {
		snprintf(err, errlen, "%s is not a TZif file", path);
		goto out;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		e = -ENOMEM;
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	r = read(fd, buf, (size_t)st.st_size + 1);
	if (r < 0 || r > st.st_size) {
		snprintf(err, errlen, "%s: could not be read", path);
		goto out;
	}
	e = tzone_parse_tzif(buf, (size_t)r, z, why, sizeof(why));
	if (e)
		snprintf(err, errlen, "%s: %s", path, why);
out:
	free(buf);
	close(fd);
	return e;
}

int tzone_get(const char *spec, const struct tzone **out, char *err, size_t errlen)
{
	struct tzone *z;
	int64_t off;
	int i, e;

	*out = NULL;
	if (!strcmp(spec, "UTC") || (fixed_offset(spec, &off) && !off))
		return 0;
	z = calloc(1, sizeof(*z));
	if (!z)
		return fail(err, errlen, -ENOMEM, "out of memory");
	if (fixed_offset(spec, &off)) {
		seg_push(z, 0, off);
		seg_finish(z);
		e = 0;
	} else if (!zone_name(spec)) {
		e = fail(err, errlen, -EINVAL, "not a zone name");
	} else {
		e = load_file(spec, z, err, errlen);
	}
	if (e) {
		free(z);
		return e;
	}
	snprintf(z->name, sizeof(z->name), "%s", spec);
	/* The same table as one kept: that one (a reload re-reads the file, so
	 * an updated tzdata takes effect, and unchanged zones cost nothing). */
	pthread_mutex_lock(&kept_lock);
	for (i = 0; i < nkept && !*out; i++) {
		if (!strcmp(kept[i]->name, z->name) && kept[i]->n == z->n &&
		    !memcmp(kept[i]->seg, z->seg, z->n * sizeof(z->seg[0])))
			*out = kept[i];
	}
	if (!*out && nkept < TZONE_MAX) {
		/* Kept until exit: policies of older configs may still point at it. */
		kept[nkept++] = z;
		*out = z;
		z = NULL;
	}
	pthread_mutex_unlock(&kept_lock);
	if (z && !*out) {
		free(z);
		snprintf(err, errlen,
			 "more than %d time zone tables since floodgated started: restart it to "
			 "free the ones no longer used",
			 TZONE_MAX);
		return -E2BIG;
	}
	free(z);
	return 0;
}

/* --- periods ---------------------------------------------------------------- */

/* The segment of z that t is in. */
static uint32_t seg_at(const struct tzone *z, int64_t t)
{
	uint32_t lo = 0, hi = z->n;

	while (hi - lo > 1) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (z->seg[mid].start_ms <= t)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

/* Local time reached at t (>= 0; never going back). */
static int64_t local_ms(const struct tzone *z, int64_t t)
{
	const struct tzone_seg *s = &z->seg[seg_at(z, t)];
	int64_t l = t + s->off_ms;

	if (l < s->floor_ms)
		l = s->floor_ms;
	return l > 0 ? l : 0;
}

#define T_MAX ((int64_t)1 << 62)

uint64_t tzone_period(const struct tzone *z, uint64_t now_ms, uint64_t period_ms)
{
	if (!z)
		return now_ms / period_ms;
	return (uint64_t)local_ms(z, now_ms < (uint64_t)T_MAX ? (int64_t)now_ms : T_MAX) /
	       period_ms;
}

uint64_t tzone_period_start(const struct tzone *z, uint64_t n, uint64_t period_ms)
{
	uint32_t lo = 0, hi;
	int64_t target, s;

	if (n > (uint64_t)T_MAX / period_ms)
		return (uint64_t)T_MAX;
	if (!z)
		return n * period_ms;
	target = (int64_t)(n * period_ms);
	/* the first segment whose local time reaches target before it ends */
	hi = z->n - 1;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		int64_t end = z->seg[mid + 1].start_ms - 1 + z->seg[mid].off_ms;

		if (end >= target || z->seg[mid].floor_ms >= target)
			hi = mid;
		else
			lo = mid + 1;
	}
	if (z->seg[lo].floor_ms >= target)
		return (uint64_t)z->seg[lo].start_ms;
	s = target - z->seg[lo].off_ms;
	if (s < z->seg[lo].start_ms)
		s = z->seg[lo].start_ms;
	return (uint64_t)(s > 0 ? s : 0);
}

size_t tzone_window(const struct tzone *z, uint64_t at_ms, struct tzone_seg *out, size_t max,
		    uint64_t *until)
{
	uint32_t i;
	size_t k = 0;

	*until = UINT64_MAX;
	if (!z || !max)
		return 0;
	for (i = seg_at(z, at_ms < (uint64_t)T_MAX ? (int64_t)at_ms : T_MAX); i < z->n && k < max;
	     i++)
		out[k++] = z->seg[i];
	if (i < z->n)
		*until = (uint64_t)z->seg[i].start_ms - 1;
	return k;
}
