/*
 * config: see config.h.  It runs on the HTTP threads; control serialises
 * the store and the table, and nothing here keeps state.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

bool config_check(struct mapping *rows, size_t n, size_t *bad,
		  struct mapping_error *err)
{
	for (size_t i = 0; i < n; i++) {
		*bad = i;
		if (!mapping_validate(&rows[i], err))
			return false;
	}
	for (size_t i = 0; i < n; i++) {
		struct mapping a = rows[i];

		/*
		 * Rows get distinct negative ids for the comparison:
		 * mapping_check_conflicts skips a row with the id it checks,
		 * and rows without an id all have 0.
		 */
		*bad = i;
		a.id = -1 - (int64_t)i;
		for (size_t j = 0; j < i; j++) {
			struct mapping b = rows[j];
			struct mapping_error e;
			const char *rule;

			b.id = -1 - (int64_t)j;
			if (mapping_check_conflicts(&a, &b, 1, &e))
				continue;
			/*
			 * The message names the other row by its id, a
			 * stand-in here: name it by its index instead.
			 */
			rule = strstr(e.message, " already ");
			return mapping_fail(err, e.status, e.code, e.field,
					    "mappings[%zu] %s", j,
					    rule != NULL ? rule + 1 : e.message);
		}
	}
	*bad = SIZE_MAX;
	return true;
}

int config_replace(struct control *ctl, struct mapping *rows, size_t n,
		   struct control_cond *cond, size_t *bad,
		   struct mapping_error *err)
{
	*bad = SIZE_MAX;
	if (!config_check(rows, n, bad, err))
		return -1;
	return control_table_replace(ctl, rows, n, cond, err);
}

int config_export(struct control *ctl, struct mapping **rows, size_t *n,
		  uint64_t *version, struct mapping_error *err)
{
	struct control_mapping *live = NULL;
	int rc = -1;

	*rows = NULL;
	if (control_mapping_list(ctl, &live, n, version, err) < 0)
		goto out;
	*rows = calloc(*n + 1, sizeof(**rows));
	if (*rows == NULL) {
		mapping_fail(err, 500, "internal", "", "out of memory");
		goto out;
	}
	for (size_t i = 0; i < *n; i++)
		(*rows)[i] = live[i].m;
	rc = 0;
out:
	free(live);
	return rc;
}
