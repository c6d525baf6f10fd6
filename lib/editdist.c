// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
#include <string.h>

#include "editdist.h"

int editdist(const char *a, const char *b)
{
	int la = (int)strlen(a), lb = (int)strlen(b), row[EDITDIST_MAX + 1], i, j;

	if (la > EDITDIST_MAX || lb > EDITDIST_MAX)
		return EDITDIST_MAX;
	for (j = 0; j <= lb; j++)
		row[j] = j;
	/* one row of the table at a time: row[j] is a[0..i) against b[0..j) */
	for (i = 1; i <= la; i++) {
		int diag = row[0];

		row[0] = i;
		for (j = 1; j <= lb; j++) {
			int up = row[j], v = diag + (a[i - 1] != b[j - 1]);

			if (up + 1 < v)
				v = up + 1;
			if (row[j - 1] + 1 < v)
				v = row[j - 1] + 1;
			row[j] = v;
			diag = up;
		}
	}
	return row[lb];
}
