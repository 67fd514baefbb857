/*
 * config: the whole port-sharing table as one document, the way
 * GET /api/v1/config exports it and PUT /api/v1/config imports it (like
 * ipvsadm -S and -R).  An import is all or nothing: every row is checked
 * on its own and against every other before control stores any of them.
 */
#ifndef PORTSHARE_CONFIG_H
#define PORTSHARE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "control.h"
#include "mapping.h"

/*
 * Checks a whole new table: each row on its own (normalising its address),
 * then each against the rows before it, so that a conflict is reported at
 * the later of the two and names the earlier one by its index.  Of several
 * conflicts it reports the one at the lowest row, against the lowest
 * earlier row.  Returns true, or false with err filled and *bad the index
 * of the row at fault (SIZE_MAX when out of memory, a 500).  Pure, and
 * O(n log n): it sorts a temporary array of two small keys per row (a
 * pointer and three numbers), freed before it returns.
 */
bool config_check(struct mapping *rows, size_t n, size_t *bad,
		  struct mapping_error *err);

/*
 * Replaces the table with rows[0..n-1] (see control_table_replace, which
 * also says what rows holds afterwards).  Returns 0, or -1 with err filled
 * (see control.h) and *bad the index of the row at fault, or SIZE_MAX when
 * no one row is.
 */
int config_replace(struct control *ctl, struct mapping *rows, size_t n,
		   struct control_cond *cond, size_t *bad,
		   struct mapping_error *err);

/*
 * Copies the table's rows, without their live state, into a new array of
 * *n rows (the caller frees it), and the version they are at.  Returns 0,
 * or -1 with err filled.
 */
int config_export(struct control *ctl, struct mapping **rows, size_t *n,
		  uint64_t *version, struct mapping_error *err);

#endif
