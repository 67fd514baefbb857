/*
 * testdb.h: the temporary database that the tests of the stores and their
 * control planes share (test_store, test_gstore, test_fstore, test_gctl,
 * test_fctl).  A test defines TESTDB_NAME, which names its directory,
 * before including this.  The directory is created and removed by the
 * parent process (make_dir and remove_dir as the unchecked fixture), so
 * that it goes away even when a forked test fails; each test starts by
 * removing what the previous one left (remove_db, from its own setup).
 * Everything is static inline, so a test may leave out what it does not
 * need.
 */
#ifndef PORTSHARE_TESTDB_H
#define PORTSHARE_TESTDB_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store.h"

#ifndef TESTDB_NAME
#error "define TESTDB_NAME before including testdb.h"
#endif

static char dir[64];
static char db_path[128];
static char errbuf[512];

static inline void make_dir(void)
{
	strcpy(dir, "/tmp/portshare-test-" TESTDB_NAME "-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(db_path, sizeof(db_path), "%s/portshare.db", dir);
}

/* sqlite only ever creates the database and these companions next to it. */
static inline void remove_db(void)
{
	static const char *const suffixes[] = { "", "-wal", "-shm", "-journal" };
	char path[160];

	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		snprintf(path, sizeof(path), "%s%s", db_path, suffixes[i]);
		unlink(path);
	}
}

static inline void remove_dir(void)
{
	remove_db();
	rmdir(dir);
}

/* Opens the database, failing the test when it cannot. */
static inline struct store *open_store(void)
{
	struct store *st = store_open(db_path, errbuf, sizeof(errbuf));

	ck_assert_msg(st != NULL, "store_open: %s", errbuf);
	return st;
}

#endif
