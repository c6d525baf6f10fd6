/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * Made-up TZif files (RFC 8536, version 2) for the tests: changes of UTC
 * offset at chosen instants, and an optional POSIX TZ footer, so a test
 * puts a DST change where its clock is, or checks the footer alone.
 */
#ifndef FG_TZIF_BUILD_H
#define FG_TZIF_BUILD_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

static inline size_t tzb_be32(unsigned char *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
	return 4;
}

/* n changes: at at_s[i] the offset becomes off_s[i] (seconds east); off0
 * before the first. The file into buf (room for 64 + 40 * n + footer):
 * its length. */
static inline size_t tzb_make(unsigned char *buf, int32_t off0, const int64_t *at_s,
			      const int32_t *off_s, uint32_t n, const char *footer)
{
	size_t o = 0, k;
	uint32_t i, part;

	for (part = 0; part < 2; part++) {
		unsigned tsize = part ? 8 : 4;

		memcpy(buf + o, "TZif2", 5);
		memset(buf + o + 5, 0, 15);
		o += 20;
		o += tzb_be32(buf + o, 0);	      /* isut */
		o += tzb_be32(buf + o, 0);	      /* isstd */
		o += tzb_be32(buf + o, 0);	      /* leap */
		o += tzb_be32(buf + o, part ? n : 0); /* v1 data: none */
		o += tzb_be32(buf + o, 1 + (part ? n : 0));
		o += tzb_be32(buf + o, 4);
		if (part) {
			for (i = 0; i < n; i++) {
				o += tzb_be32(buf + o, (uint32_t)((uint64_t)at_s[i] >> 32));
				o += tzb_be32(buf + o, (uint32_t)at_s[i]);
			}
			for (i = 0; i < n; i++)
				buf[o++] = (unsigned char)(i + 1);
		}
		(void)tsize;
		for (k = 0; k < 1 + (part ? n : 0); k++) {
			o += tzb_be32(buf + o, (uint32_t)(k ? off_s[k - 1] : off0));
			buf[o++] = 0;
			buf[o++] = 0;
		}
		memcpy(buf + o, "TST", 4);
		o += 4;
	}
	o += (size_t)sprintf((char *)buf + o, "\n%s\n", footer ? footer : "");
	return o;
}

/* The same into dir/name; 0 or -1. */
static inline int tzb_write(const char *dir, const char *name, int32_t off0, const int64_t *at_s,
			    const int32_t *off_s, uint32_t n, const char *footer)
{
	unsigned char buf[4096];
	char path[256];
	size_t len = tzb_make(buf, off0, at_s, off_s, n, footer);
	FILE *f;
	int err;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f)
		return -1;
	err = fwrite(buf, 1, len, f) == len ? 0 : -1;
	return fclose(f) || err ? -1 : 0;
}

#endif /* FG_TZIF_BUILD_H */
