/*
 * util: the few macros every module may use.  No functions, so there is no
 * util.c to link.
 */
#ifndef PORTSHARE_UTIL_H
#define PORTSHARE_UTIL_H

/* The number of elements of an array (not of a pointer). */
#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#endif
