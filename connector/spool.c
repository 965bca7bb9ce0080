/* Spool files of streamed transactions: one unlinked temporary file per top-level xid. */
#include "spool.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xalloc.h"

#define SPOOL_BUFFER 65536 /* stdio buffer per spool file */
#define FLAG_KEEP 1

/* One record in a spool file, native byte order (the file never leaves this process):
 *   UInt32 length of the message, UInt32 subtransaction xid, UInt64 LSN, UInt8 flags
 *   (FLAG_KEEP), then the message's bytes. */
struct record_header {
    uint32_t len;
    uint32_t subxid;
    uint64_t lsn;
    uint8_t flags;
};
#define HEADER_SIZE (4 + 4 + 8 + 1)

struct spool {
    uint32_t xid;
    uint64_t tag;
    FILE *f;
    uint64_t bytes, records;
    uint32_t *aborted; /* aborted subtransactions */
    size_t naborted, aborted_cap;
    struct spool *next;
};

struct spool_set {
    char *dir;
    struct spool *head;
};

struct spool_set *spool_set_new(const char *dir)
{
    struct spool_set *s = xcalloc(1, sizeof *s);
    const char *tmp = getenv("TMPDIR");
    s->dir = xstrdup(dir && *dir ? dir : tmp && *tmp ? tmp : "/tmp");
    return s;
}

static void spool_free(struct spool *sp)
{
    fclose(sp->f);
    free(sp->aborted);
    free(sp);
}

void spool_set_destroy(struct spool_set *s)
{
    if (!s)
        return;
    while (s->head) {
        struct spool *sp = s->head;
        s->head = sp->next;
        spool_free(sp);
    }
    free(s->dir);
    free(s);
}

static struct spool *find(const struct spool_set *s, uint32_t xid)
{
    for (struct spool *sp = s->head; sp; sp = sp->next)
        if (sp->xid == xid)
            return sp;
    return NULL;
}

int spool_open(struct spool_set *s, uint32_t xid, uint64_t tag, char *errstr, size_t errstr_size)
{
    if (find(s, xid))
        return 0;
    char *path = xasprintf("%s/salescdc-spool-%u-XXXXXX", s->dir, xid);
    int fd = mkstemp(path);
    FILE *f = fd >= 0 ? fdopen(fd, "w+b") : NULL;
    if (!f) {
        snprintf(errstr, errstr_size,
                 "create the spool file of streamed transaction %u in %s: %s (set spool.dir to a "
                 "writable directory)",
                 xid, s->dir, strerror(errno));
        if (fd >= 0)
            close(fd);
        free(path);
        return -1;
    }
    unlink(path); /* the open file is all we need: a crash leaves nothing behind */
    free(path);
    setvbuf(f, NULL, _IOFBF, SPOOL_BUFFER);
    struct spool *sp = xcalloc(1, sizeof *sp);
    sp->xid = xid;
    sp->tag = tag;
    sp->f = f;
    sp->next = s->head;
    s->head = sp;
    return 1;
}

int spool_tag(const struct spool_set *s, uint32_t xid, uint64_t *tag)
{
    const struct spool *sp = find(s, xid);
    if (!sp)
        return -1;
    *tag = sp->tag;
    return 0;
}

int spool_append(struct spool_set *s, uint32_t xid, uint32_t subxid, uint64_t lsn, int keep,
                 const void *head, size_t head_len, const void *body, size_t body_len, char *errstr,
                 size_t errstr_size)
{
    struct spool *sp = find(s, xid);
    if (!sp) {
        snprintf(errstr, errstr_size, "spool of streamed transaction %u is not open", xid);
        return -1;
    }
    unsigned char h[HEADER_SIZE];
    struct record_header rh = {(uint32_t)(head_len + body_len), subxid, lsn, keep ? FLAG_KEEP : 0};
    memcpy(h, &rh.len, 4);
    memcpy(h + 4, &rh.subxid, 4);
    memcpy(h + 8, &rh.lsn, 8);
    h[16] = rh.flags;
    if (fwrite(h, 1, sizeof h, sp->f) != sizeof h ||
        (head_len && fwrite(head, 1, head_len, sp->f) != head_len) ||
        (body_len && fwrite(body, 1, body_len, sp->f) != body_len)) {
        snprintf(errstr, errstr_size, "write the spool file of streamed transaction %u in %s: %s",
                 xid, s->dir, strerror(errno));
        return -1;
    }
    sp->bytes += sizeof h + head_len + body_len;
    sp->records++;
    return 0;
}

void spool_discard(struct spool_set *s, uint32_t xid)
{
    for (struct spool **pp = &s->head; *pp; pp = &(*pp)->next) {
        if ((*pp)->xid == xid) {
            struct spool *sp = *pp;
            *pp = sp->next;
            spool_free(sp);
            return;
        }
    }
}

void spool_abort(struct spool_set *s, uint32_t xid, uint32_t subxid)
{
    struct spool *sp = find(s, xid);
    if (!sp)
        return;
    if (subxid == xid) {
        spool_discard(s, xid);
        return;
    }
    if (sp->naborted == sp->aborted_cap) {
        sp->aborted_cap = sp->aborted_cap ? sp->aborted_cap * 2 : 8;
        sp->aborted = xrealloc(sp->aborted, sp->aborted_cap * sizeof *sp->aborted);
    }
    sp->aborted[sp->naborted++] = subxid;
}

static int is_aborted(const struct spool *sp, uint32_t subxid)
{
    for (size_t i = 0; i < sp->naborted; i++)
        if (sp->aborted[i] == subxid)
            return 1;
    return 0;
}

/* Reads the next record into *BUF (grown as needed). Returns 1, 0 at the end, -1 on error. */
static int read_record(FILE *f, struct record_header *rh, unsigned char **buf, size_t *cap)
{
    unsigned char h[HEADER_SIZE];
    size_t n = fread(h, 1, sizeof h, f);
    if (n == 0 && feof(f))
        return 0;
    if (n != sizeof h)
        return -1;
    memcpy(&rh->len, h, 4);
    memcpy(&rh->subxid, h + 4, 4);
    memcpy(&rh->lsn, h + 8, 8);
    rh->flags = h[16];
    if (rh->len > *cap) {
        *cap = rh->len;
        *buf = xrealloc(*buf, *cap);
    }
    return fread(*buf, 1, rh->len, f) == rh->len ? 1 : -1;
}

int64_t spool_replay(struct spool_set *s, uint32_t xid, spool_replay_fn fn, void *arg, char *errstr,
                     size_t errstr_size)
{
    struct spool *sp = find(s, xid);
    if (!sp)
        return 0;
    unsigned char *buf = NULL;
    size_t cap = 0;
    int64_t replayed = 0;
    struct record_header rh;
    int rc = fflush(sp->f) == 0 && fseek(sp->f, 0, SEEK_SET) == 0 ? 1 : -1;
    while (rc > 0 && (rc = read_record(sp->f, &rh, &buf, &cap)) > 0) {
        if (!(rh.flags & FLAG_KEEP) && is_aborted(sp, rh.subxid))
            continue;
        if (fn(arg, rh.lsn, buf, rh.len, errstr, errstr_size) < 0) {
            replayed = -1;
            break;
        }
        replayed++;
    }
    if (rc < 0) {
        snprintf(errstr, errstr_size, "read the spool file of streamed transaction %u in %s: %s",
                 xid, s->dir, ferror(sp->f) ? strerror(errno) : "truncated record");
        replayed = -1;
    }
    free(buf);
    spool_discard(s, xid);
    return replayed;
}

size_t spool_count(const struct spool_set *s)
{
    size_t n = 0;
    for (const struct spool *sp = s->head; sp; sp = sp->next)
        n++;
    return n;
}

uint64_t spool_bytes(const struct spool_set *s)
{
    uint64_t n = 0;
    for (const struct spool *sp = s->head; sp; sp = sp->next)
        n += sp->bytes;
    return n;
}
