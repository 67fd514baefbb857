/*
 * log: see log.h.  Messages are formatted into one buffer and written with
 * a single call so lines from different threads never interleave.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "log.h"

static enum log_level log_threshold = LOG_LVL_INFO;
static bool log_to_syslog;
static const char *log_ident = "portshared";

static const struct {
	const char *name;
	int syslog_prio;
} log_levels[] = {
	[LOG_LVL_ERR] = { "error", LOG_ERR },
	[LOG_LVL_WARN] = { "warn", LOG_WARNING },
	[LOG_LVL_INFO] = { "info", LOG_INFO },
	[LOG_LVL_DEBUG] = { "debug", LOG_DEBUG },
};

bool log_level_parse(const char *s, enum log_level *lvl)
{
	for (size_t i = 0; i < sizeof(log_levels) / sizeof(log_levels[0]); i++) {
		if (strcmp(s, log_levels[i].name) == 0) {
			*lvl = (enum log_level)i;
			return true;
		}
	}
	return false;
}

void log_init(const char *ident, enum log_level lvl, bool use_syslog)
{
	log_ident = ident;
	log_threshold = lvl;
	log_to_syslog = use_syslog;
	if (use_syslog)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

static void log_emit(enum log_level lvl, int errnum, const char *fmt, va_list ap)
{
	char msg[1024];
	int n;

	if (lvl > log_threshold)
		return;
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	if (n < 0)
		return;
	if (errnum && (size_t)n < sizeof(msg))
		snprintf(msg + n, sizeof(msg) - (size_t)n, ": %s", strerror(errnum));
	if (log_to_syslog) {
		syslog(log_levels[lvl].syslog_prio, "%s", msg);
		return;
	}
	dprintf(STDERR_FILENO, "%s[%d]: %s: %s\n", log_ident, (int)getpid(),
		log_levels[lvl].name, msg);
}

#define LOG_BODY(lvl, errnum)                 \
	do {                                  \
		va_list ap;                   \
		va_start(ap, fmt);            \
		log_emit(lvl, errnum, fmt, ap); \
		va_end(ap);                   \
	} while (0)

void log_warn(const char *fmt, ...)
{
	int e = errno;

	LOG_BODY(LOG_LVL_WARN, e);
}

void log_warnx(const char *fmt, ...)
{
	LOG_BODY(LOG_LVL_WARN, 0);
}

void log_info(const char *fmt, ...)
{
	LOG_BODY(LOG_LVL_INFO, 0);
}

void log_debug(const char *fmt, ...)
{
	LOG_BODY(LOG_LVL_DEBUG, 0);
}

void fatal(const char *fmt, ...)
{
	int e = errno;

	LOG_BODY(LOG_LVL_ERR, e);
	exit(1);
}

void fatalx(const char *fmt, ...)
{
	LOG_BODY(LOG_LVL_ERR, 0);
	exit(1);
}
