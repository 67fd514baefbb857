/*
 * log: leveled messages to stderr or syslog.  log_warn appends strerror(errno),
 * log_warnx does not; fatal and fatalx log and exit, and are used only at
 * start-up or when an invariant is broken, never for a bad packet or request.
 * Thread-safe: each message is one write.
 */
#ifndef PORTSHARE_LOG_H
#define PORTSHARE_LOG_H

#include <stdbool.h>

enum log_level {
	LOG_LVL_ERR = 0,
	LOG_LVL_WARN,
	LOG_LVL_INFO,
	LOG_LVL_DEBUG,
};

/* Parses "error", "warn", "info", "debug"; returns false for anything else. */
bool log_level_parse(const char *s, enum log_level *lvl);
void log_init(const char *ident, enum log_level lvl, bool use_syslog);

void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void fatal(const char *fmt, ...)
	__attribute__((format(printf, 1, 2), noreturn));
void fatalx(const char *fmt, ...)
	__attribute__((format(printf, 1, 2), noreturn));

#endif
