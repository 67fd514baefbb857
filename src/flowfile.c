/*
 * flowfile: see flowfile.h.  Here: the header, the checks that decide
 * whether a file's slots are kept, and the file's locking, sizing and
 * mapping.
 *
 * DESIGN.  The file is mapped MAP_SHARED, so a store into a slot is in the
 * page cache at once, with no write call on the packet path: a daemon that
 * dies at any instant leaves the flows its workers had written, less what
 * flow.c's repair drops.  Nothing is synced, because only a host crash can
 * lose what the page cache holds, and after one the boot id differs and
 * the slots are reset anyway.
 *
 * Who writes what: flowfile writes the header, and only in flowfile_open,
 * before the caller has the mapping; from then on the header is read-only
 * and the slots belong to flow.c, each partition to its owner.  The file is
 * flocked for as long as it is mapped, so a second daemon fails to open it
 * rather than becoming a second writer of every partition.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "flowfile.h"

/* The header's page: the slots after it start page-aligned. */
#define FLOWFILE_HEADER_SIZE 4096
static const char flowfile_magic[8] = "PSFLOWS";

/*
 * The file's first page.  Host order: the file never moves hosts.  The
 * layout comes first, then the boot, then what a new table draws; a change
 * to this struct needs a new FLOW_VERSION, so that old files are reset.
 */
struct flowfile_header {
	char magic[8];
	uint32_t version;
	uint32_t entry_size;
	uint32_t header_size;
	uint32_t partitions;
	uint32_t slots;   /* per partition */
	uint32_t limit;   /* flows per partition */
	char boot_id[FLOW_BOOT_ID_SIZE];
	uint64_t seed[2]; /* the hash key: the slots' dist fields depend on it */
};

_Static_assert(sizeof(struct flowfile_header) <= FLOWFILE_HEADER_SIZE,
	       "the header fits its page");

struct flowfile {
	struct flowfile_header *h; /* the mapping, NULL until mapped */
	size_t len;
	int fd;                    /* -1 for an anonymous mapping */
};

int flowfile_boot_id(char id[FLOW_BOOT_ID_SIZE])
{
	ssize_t len;
	int fd;

	fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	/* A UUID, 36 characters, and a newline that is left out. */
	len = read(fd, id, FLOW_BOOT_ID_SIZE - 1);
	close(fd);
	if (len != FLOW_BOOT_ID_SIZE - 1) {
		errno = len < 0 ? errno : EINVAL;
		return -1;
	}
	id[len] = '\0';
	return 0;
}

/*
 * Whether the file at fd holds slots like want, and else why they must be
 * reinitialised: *st is FLOW_OPEN_RESTORED when the layout matches, and so
 * does the boot if check_boot.  Returns -1 with errno set on a failed read.
 */
static int flowfile_check(int fd, size_t len, const struct flowfile_header *want,
			  bool check_boot, enum flow_open_status *st)
{
	struct flowfile_header have;
	struct stat sb;

	if (fstat(fd, &sb) < 0)
		return -1;
	*st = sb.st_size == 0 ? FLOW_OPEN_NEW : FLOW_OPEN_LAYOUT;
	if ((size_t)sb.st_size != len)
		return 0;
	if (pread(fd, &have, sizeof(have), 0) != (ssize_t)sizeof(have))
		return -1;
	if (memcmp(&have, want, offsetof(struct flowfile_header, boot_id)) != 0)
		return 0;
	*st = FLOW_OPEN_REBOOT;
	if (check_boot && memcmp(have.boot_id, want->boot_id, sizeof(have.boot_id)) != 0)
		return 0;
	*st = FLOW_OPEN_RESTORED;
	return 0;
}

/*
 * Empties the file and gives it len bytes of allocated, zeroed blocks: a
 * zero slot is a free one.  Allocating them now means that writing a page
 * later never needs a block the disk may no longer have, which would be a
 * SIGBUS on the packet path.
 */
static int flowfile_reset(int fd, size_t len)
{
	int err;

	if (ftruncate(fd, 0) < 0 || ftruncate(fd, (off_t)len) < 0)
		return -1;
	err = posix_fallocate(fd, 0, (off_t)len);
	if (err) {
		errno = err;
		return -1;
	}
	return 0;
}

/* Maps f and sets *status; the header is valid on return. */
static int flowfile_map(struct flowfile *f, const char *path,
			const struct flowfile_header *want, bool check_boot,
			enum flow_open_status *status)
{
	int flags = MAP_PRIVATE | MAP_ANONYMOUS;
	void *map;

	*status = FLOW_OPEN_NEW;
	if (path) {
		flags = MAP_SHARED;
		f->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (f->fd < 0)
			return -1;
		if (flock(f->fd, LOCK_EX | LOCK_NB) < 0 ||
		    flowfile_check(f->fd, f->len, want, check_boot, status) < 0)
			return -1;
		if (*status != FLOW_OPEN_RESTORED && flowfile_reset(f->fd, f->len) < 0)
			return -1;
	}
	map = mmap(NULL, f->len, PROT_READ | PROT_WRITE, flags, f->fd, 0);
	if (map == MAP_FAILED)
		return -1;
	f->h = map;
	if (*status == FLOW_OPEN_RESTORED)
		return 0;
	/* The magic goes in last: a crash before it leaves a file to reset. */
	memcpy(f->h, want, sizeof(*f->h));
	memset(f->h->magic, 0, sizeof(f->h->magic));
	if (getrandom(f->h->seed, sizeof(f->h->seed), 0) != (ssize_t)sizeof(f->h->seed))
		return -1;
	__atomic_thread_fence(__ATOMIC_RELEASE);
	memcpy(f->h->magic, want->magic, sizeof(f->h->magic));
	return 0;
}

struct flowfile *flowfile_open(const char *path, const struct flowfile_layout *l,
			       enum flow_open_status *status)
{
	struct flowfile_header want;
	struct flowfile *f;
	int saved;

	memset(&want, 0, sizeof(want));
	memcpy(want.magic, flowfile_magic, sizeof(want.magic));
	want.version = l->version;
	want.entry_size = l->entry_size;
	want.header_size = FLOWFILE_HEADER_SIZE;
	want.partitions = l->partitions;
	want.slots = l->slots;
	want.limit = l->limit;
	if (l->boot_id)
		strncpy(want.boot_id, l->boot_id, sizeof(want.boot_id) - 1);

	f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	f->fd = -1;
	f->len = FLOWFILE_HEADER_SIZE + (size_t)l->partitions * l->slots * l->entry_size;
	if (flowfile_map(f, path, &want, l->boot_id != NULL, status) < 0)
		goto err;
	return f;
err:
	saved = errno;
	flowfile_close(f);
	errno = saved;
	return NULL;
}

void flowfile_close(struct flowfile *f)
{
	if (!f)
		return;
	if (f->h)
		munmap(f->h, f->len);
	if (f->fd >= 0)
		close(f->fd);
	free(f);
}

void *flowfile_slots(const struct flowfile *f)
{
	return (char *)f->h + FLOWFILE_HEADER_SIZE;
}

void flowfile_seed(const struct flowfile *f, uint64_t seed[2])
{
	memcpy(seed, f->h->seed, sizeof(f->h->seed));
}

size_t flowfile_size(const struct flowfile *f)
{
	return f->len;
}
