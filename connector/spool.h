/* Spool files of streamed (in-progress) transactions: with pgoutput streaming, the server sends
 * a large transaction in blocks before it commits. Each block's messages are appended to a
 * temporary file per top-level transaction, tagged with the (sub)transaction that made them, so
 * memory stays bounded; at Stream Commit the file is read back in order (without the changes of
 * aborted subtransactions), at Stream Abort it is dropped. */
#ifndef SALESCDC_SPOOL_H
#define SALESCDC_SPOOL_H

#include <stddef.h>
#include <stdint.h>

struct spool_set;

/* Creates an empty set whose files go to directory DIR (copied; "" = $TMPDIR or /tmp). Files
 * are unlinked as soon as they are created, so nothing is left behind by a crash. Caller frees
 * with spool_set_destroy() (closing every file). */
struct spool_set *spool_set_new(const char *dir);
void spool_set_destroy(struct spool_set *s);

/* Opens the spool of top-level transaction XID, remembering TAG with it (the caller's handle,
 * e.g. an LSN tracker sequence). Returns 1 when it was created, 0 when it existed, -1 with
 * errstr when the file could not be created. */
int spool_open(struct spool_set *s, uint32_t xid, uint64_t tag, char *errstr, size_t errstr_size);

/* Copies XID's tag into *TAG; returns 0, or -1 when XID has no spool. */
int spool_tag(const struct spool_set *s, uint32_t xid, uint64_t *tag);

/* Appends one message of subtransaction SUBXID (XID itself for the top level) at LSN to XID's
 * spool (which must be open): the bytes HEAD[0..HEAD_LEN) followed by BODY[0..BODY_LEN). KEEP:
 * replayed even when SUBXID aborts (e.g. schema messages that later changes rely on). Returns 0,
 * or -1 with errstr (disk full, I/O error). */
int spool_append(struct spool_set *s, uint32_t xid, uint32_t subxid, uint64_t lsn, int keep,
                 const void *head, size_t head_len, const void *body, size_t body_len, char *errstr,
                 size_t errstr_size);

/* Subtransaction SUBXID of XID aborted: its messages (but kept ones) will not be replayed.
 * SUBXID == XID drops the whole spool, as spool_discard(). Unknown XIDs are ignored. */
void spool_abort(struct spool_set *s, uint32_t xid, uint32_t subxid);

/* Drops XID's spool (closing and freeing its file), if any. */
void spool_discard(struct spool_set *s, uint32_t xid);

/* Called by spool_replay() for each message in order: LSN and the bytes appended (borrowed,
 * valid during the call). Returns 0, or -1 with errstr to stop the replay. */
typedef int (*spool_replay_fn)(void *arg, uint64_t lsn, const unsigned char *msg, size_t len,
                               char *errstr, size_t errstr_size);

/* Reads XID's spool back in order, calling FN for every message that is not from an aborted
 * subtransaction (or is kept), then drops the spool. No spool: nothing is called. Returns the
 * number of messages replayed, or -1 with errstr (a read error, or FN's error). */
int64_t spool_replay(struct spool_set *s, uint32_t xid, spool_replay_fn fn, void *arg, char *errstr,
                     size_t errstr_size);

/* Spools open now, and the bytes they hold. */
size_t spool_count(const struct spool_set *s);
uint64_t spool_bytes(const struct spool_set *s);

#endif
