// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "table.h"

void table_init(struct table *t, int ncols, const char *align, const char *const *headers)
{
	int i;

	memset(t, 0, sizeof(*t));
	t->ncols = ncols > TABLE_MAX_COLS ? TABLE_MAX_COLS : ncols < 1 ? 1 : ncols;
	for (i = 0; i < t->ncols; i++)
		t->align[i] = align && align[i] == 'r' ? 'r' : 'l';
	t->cur = t->ncols;
	if (headers)
		for (i = 0; i < t->ncols; i++)
			table_cell(t, "%s", headers[i]);
}

/* Take ownership of s (may be NULL after a failed allocation). */
static void table_put(struct table *t, char *s)
{
	if (t->cur == t->ncols) {
		if (t->nrows == t->cap) {
			size_t cap = t->cap ? t->cap * 2 : 16;
			char **cells = realloc(t->cells, cap * t->ncols * sizeof(*cells));

			if (!cells) {
				t->oom = 1;
				free(s);
				return;
			}
			t->cells = cells;
			t->cap = cap;
		}
		memset(t->cells + t->nrows * t->ncols, 0, t->ncols * sizeof(*t->cells));
		t->nrows++;
		t->cur = 0;
	}
	if (!s)
		t->oom = 1;
	t->cells[(t->nrows - 1) * t->ncols + t->cur++] = s;
}

void table_cell(struct table *t, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	table_put(t, s);
}

void table_cell_bin(struct table *t, const char *p, size_t len)
{
	char *s = malloc(len * 4 + 1), *o = s;
	size_t i;

	if (s) {
		for (i = 0; i < len; i++) {
			unsigned char c = p[i];

			if (c < 0x20 || c >= 0x7f || c == '\\')
				o += sprintf(o, c == '\\' ? "\\\\" : "\\x%02x", c);
			else
				*o++ = c;
		}
		*o = '\0';
	}
	table_put(t, s);
}

void table_print(const struct table *t, FILE *f)
{
	size_t w[TABLE_MAX_COLS] = { 0 }, r;
	int c;

	for (r = 0; r < t->nrows; r++)
		for (c = 0; c < t->ncols; c++) {
			const char *s = t->cells[r * t->ncols + c];
			size_t n = s ? strlen(s) : 0;

			if (n > w[c])
				w[c] = n;
		}
	for (r = 0; r < t->nrows; r++) {
		int last = t->ncols - 1;

		/* Trailing empty left-aligned cells would only add spaces. */
		while (last > 0 && t->align[last] == 'l' &&
		       (!t->cells[r * t->ncols + last] || !*t->cells[r * t->ncols + last]))
			last--;
		for (c = 0; c <= last; c++) {
			const char *s = t->cells[r * t->ncols + c];

			if (!s)
				s = t->oom ? "?" : "";
			if (c == last && t->align[c] == 'l')
				fputs(s, f);
			else
				fprintf(f, t->align[c] == 'r' ? "%*s" : "%-*s", (int)w[c], s);
			if (c < last)
				fputs("  ", f);
		}
		fputc('\n', f);
	}
}

void table_free(struct table *t)
{
	size_t i;

	for (i = 0; i < t->nrows * (size_t)t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	memset(t, 0, sizeof(*t));
}
