/*
 * flowfile: the file that keeps the flow table (flow.h) over a daemon
 * restart.  It opens, locks, sizes and maps the file, and owns the file's
 * first page: a header saying which layout and which boot the slots after
 * it belong to, and the hash key they were placed with.  What the slots
 * hold, and repairing what a crash left in them, is flow.c's business.
 */
#ifndef PORTSHARE_FLOWFILE_H
#define PORTSHARE_FLOWFILE_H

#include <stddef.h>
#include <stdint.h>

#include "flow.h"

/* What a file must match for the slots in it to be used as they are. */
struct flowfile_layout {
	uint32_t version;    /* the slots' format: flow.c's FLOW_VERSION */
	uint32_t entry_size; /* bytes per slot */
	uint32_t partitions;
	uint32_t slots;      /* per partition */
	uint32_t limit;      /* flows per partition */
	const char *boot_id; /* 36 characters at most; NULL: not checked */
};

struct flowfile;

/*
 * Opens (creating it if needed) the file at path, mode 0600, locks it until
 * flowfile_close, and maps it sized for l; or, when path is NULL, maps
 * anonymous memory.  *status is FLOW_OPEN_RESTORED when the file matched l
 * and its slots are kept; otherwise it says why the slots are new, all
 * zero (a zero slot is a free one), and the hash key freshly drawn.
 *
 * Returns NULL with errno set: EWOULDBLOCK when another process has the
 * file open; or what open, fstat, pread, ftruncate, posix_fallocate, mmap
 * or getrandom failed with.
 */
struct flowfile *flowfile_open(const char *path, const struct flowfile_layout *l,
			       enum flow_open_status *status);
/* Unmaps the file and releases its lock; the file keeps the slots.  f may be NULL. */
void flowfile_close(struct flowfile *f);

/* The first slot, page-aligned; partitions * slots * entry_size bytes follow. */
void *flowfile_slots(const struct flowfile *f);
/* The hash key the slots were placed with. */
void flowfile_seed(const struct flowfile *f, uint64_t seed[2]);
/* The mapping's size in bytes, header included. */
size_t flowfile_size(const struct flowfile *f);

/* Reads the kernel's boot id (a UUID).  Returns 0, or -1 with errno set. */
int flowfile_boot_id(char id[FLOW_BOOT_ID_SIZE]);

#endif
