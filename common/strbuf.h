/* A growable string buffer for building responses, JSON text and metrics output. */
#ifndef SALESCDC_STRBUF_H
#define SALESCDC_STRBUF_H

#include <stddef.h>

struct strbuf {
    char *data; /* always NUL-terminated once anything was appended; NULL when empty */
    size_t len;
    size_t cap;
};

#define STRBUF_INIT                                                                                \
    {                                                                                              \
        NULL, 0, 0                                                                                 \
    }

/* Appends N bytes of S (need not be NUL-terminated). Aborts on out-of-memory. */
void strbuf_append(struct strbuf *sb, const char *s, size_t n);
/* Appends the NUL-terminated string S. */
void strbuf_puts(struct strbuf *sb, const char *s);
/* Appends printf-formatted text. */
void strbuf_printf(struct strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Returns the text (never NULL; "" when empty) and leaves SB empty; caller frees with free(). */
char *strbuf_detach(struct strbuf *sb);
/* Frees the text and leaves SB empty. */
void strbuf_release(struct strbuf *sb);

#endif
