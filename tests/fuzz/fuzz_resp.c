// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * libFuzzer target: the RESP request parser on hostile bytes, fed whole and
 * split at a point the input chooses (a request that arrives in two reads).
 * Any crash, hang or sanitizer report is a bug; `make fuzz` runs it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "resp.h"

/* Parse every request in buf[0..len), as the server loop does. */
static void parse_all(char *buf, size_t len, size_t split)
{
	struct resp_parser p;
	size_t off = 0, avail = split < len ? split : len;

	resp_parser_init(&p);
	while (off < len) {
		const struct resp_arg *argv;
		size_t used = 0;
		int argc = 0, i, rc;

		rc = resp_parse(&p, buf + off, avail - off, &used, &argc, &argv);
		if (rc == RESP_AGAIN) {
			if (avail == len)
				break;
			avail = len; /* the second read arrives */
			continue;
		}
		if (rc < 0)
			break;
		for (i = 0; i < argc; i++) /* touch every argument */
			if (argv[i].len && argv[i].ptr[argv[i].len - 1] == '\a')
				off += 0;
		if (!used)
			break;
		off += used;
		if (avail < off)
			avail = off;
	}
	resp_parser_free(&p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf;
	size_t split;

	if (size < 1)
		return 0;
	split = data[0] % (size + 1);
	buf = malloc(size - 1 + 1);
	if (!buf)
		return 0;
	memcpy(buf, data + 1, size - 1);
	parse_all(buf, size - 1, split);
	free(buf);
	return 0;
}
