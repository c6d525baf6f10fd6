/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * table: floodctl's human output. Rows of cells are collected, then printed
 * with every column as wide as its widest cell (header included), two
 * spaces apart; cells with non-printable bytes are shown escaped (\xNN).
 */
#ifndef FG_CLI_TABLE_H
#define FG_CLI_TABLE_H

#include <stddef.h>
#include <stdio.h>

#ifndef TABLE_MAX_COLS
#define TABLE_MAX_COLS 8
#endif

struct table {
	int ncols;
	char align[TABLE_MAX_COLS]; /* 'l' or 'r' */
	char **cells;		    /* nrows * ncols, malloc'd, row 0 the header (may be absent) */
	size_t nrows, cap;
	int cur; /* cells filled in the last row */
	int oom; /* a cell could not be stored: missing cells print as "?" */
};

/*
 * Start a table of ncols columns; align is one 'l'/'r' per column ("lrr").
 * headers: ncols names, or NULL for a table without a header line.
 */
void table_init(struct table *t, int ncols, const char *align, const char *const *headers);
/* Append a cell (printf format) to the current row; a new row starts when
 * the last one is full. */
void table_cell(struct table *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A binary-safe cell: non-printable bytes become \xNN. */
void table_cell_bin(struct table *t, const char *p, size_t len);
/* Print and keep; table_free() releases the cells. */
void table_print(const struct table *t, FILE *f);
void table_free(struct table *t);

#endif /* FG_CLI_TABLE_H */
