/* Allocation wrappers that abort on out-of-memory, so callers carry no dead NULL checks. */
#ifndef SALESCDC_XALLOC_H
#define SALESCDC_XALLOC_H

#include <stddef.h>

/* Like malloc/calloc/realloc/strdup, but never return NULL: print and abort instead.
 * Caller frees with free(). */
void *xmalloc(size_t size);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *ptr, size_t size);
char *xstrdup(const char *s);
/* printf into a new string; caller frees with free(). */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
