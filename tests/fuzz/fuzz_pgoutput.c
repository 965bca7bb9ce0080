/* libFuzzer target for the pgoutput decoder and the replication framing (SALESCDC_FUZZ=ON).
 * The input's first byte picks the decoder state (inside a streamed block or not); the rest is
 * one message. Seed corpus: tests/fixtures/pgoutput. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pgoutput.h"
#include "repl_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const unsigned char stream_start[] = {'S', 0, 0, 0, 1, 1};
    struct pgoutput_decoder *dec = pgoutput_decoder_new();
    struct pgoutput_msg m;
    struct repl_proto_msg rm;
    char err[256];

    if (size > 0 && (data[0] & 1) && data[0] != 'S' && data[0] != 'E')
        pgoutput_decode(dec, stream_start, sizeof stream_start, &m, err, sizeof err);
    /* an exactly sized copy, so that any overread is caught */
    unsigned char *copy = malloc(size ? size : 1);
    memcpy(copy, data, size);
    if (pgoutput_decode(dec, copy, size, &m, err, sizeof err) == 0 && m.type == PGOUTPUT_INSERT) {
        for (uint16_t i = 0; i < m.u.insert.new_tuple.ncols; i++) {
            const struct pgoutput_value *v = &m.u.insert.new_tuple.cols[i];
            if (v->data && v->len) /* touch the first and last byte of every value */
                err[0] = (char)(v->data[0] ^ v->data[v->len - 1]);
        }
    }
    repl_proto_parse(copy, size, &rm, err, sizeof err);
    free(copy);
    pgoutput_decoder_destroy(dec);
    return 0;
}
