/* Unit tests of connector/pgoutput.c on messages recorded from PostgreSQL 15
 * (tests/fixtures/pgoutput) and on hand-made malformed messages. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pgoutput.h"

struct fixture {
    char *data;
    size_t len;
};

/* Loads tests/fixtures/pgoutput/NAME into an exactly sized buffer (so ASan sees overreads). */
static struct fixture load(const char *name)
{
    char path[512];
    struct fixture f = {NULL, 0};
    snprintf(path, sizeof path, "%s/pgoutput/%s", SALESCDC_FIXTURE_DIR, name);
    FILE *fp = fopen(path, "rb");
    if (!fp)
        fail_msg("cannot open fixture %s", path);
    fseek(fp, 0, SEEK_END);
    f.len = (size_t)ftell(fp);
    fseek(fp, 0, SEEK_SET);
    f.data = malloc(f.len ? f.len : 1);
    assert_int_equal(fread(f.data, 1, f.len, fp), f.len);
    fclose(fp);
    return f;
}

/* Decodes fixture NAME with DEC; fails the test on a decode error. Returns the fixture (the
 * message borrows from it; caller frees .data). */
static struct fixture decode(struct pgoutput_decoder *dec, const char *name, struct pgoutput_msg *m)
{
    char err[256];
    struct fixture f = load(name);
    if (pgoutput_decode(dec, f.data, f.len, m, err, sizeof err) != 0)
        fail_msg("%s: %s", name, err);
    return f;
}

static void assert_value(const struct pgoutput_value *v, const char *text)
{
    if (!text) {
        assert_int_equal(v->kind, PGOUTPUT_COL_NULL);
        return;
    }
    assert_int_equal(v->kind, PGOUTPUT_COL_TEXT);
    assert_int_equal(v->len, strlen(text));
    assert_memory_equal(v->data, text, v->len);
}

static int setup(void **state)
{
    *state = pgoutput_decoder_new();
    return 0;
}

static int teardown(void **state)
{
    pgoutput_decoder_destroy(*state);
    return 0;
}

static void test_begin_and_commit_carry_lsns_and_xid(void **state)
{
    struct pgoutput_msg b, c;
    struct fixture fb = decode(*state, "v1_000_B.bin", &b);
    struct fixture fc = decode(*state, "v1_004_C.bin", &c);
    assert_int_equal(b.type, PGOUTPUT_BEGIN);
    assert_true(b.xid != 0);
    assert_true(b.u.begin.final_lsn != 0);
    assert_true(b.u.begin.commit_time > 0);
    assert_int_equal(c.type, PGOUTPUT_COMMIT);
    assert_int_equal(c.u.commit.flags, 0);
    assert_true(c.u.commit.commit_lsn == b.u.begin.final_lsn);
    assert_true(c.u.commit.end_lsn > c.u.commit.commit_lsn);
    assert_true(c.u.commit.commit_time == b.u.begin.commit_time);
    free(fb.data);
    free(fc.data);
}

static void test_type_names_the_enum(void **state)
{
    struct pgoutput_msg m;
    struct fixture f = decode(*state, "v1_001_Y.bin", &m);
    assert_int_equal(m.type, PGOUTPUT_TYPE);
    assert_string_equal(m.u.type.nspname, "public");
    assert_string_equal(m.u.type.typname, "fx_mood");
    assert_true(m.u.type.oid >= 16384);
    free(f.data);
}

static void test_relation_lists_columns_types_and_key(void **state)
{
    static const char *const names[] = {"id", "name", "price", "mood", "note", "born"};
    static const uint32_t oids[] = {23, 25, 1700, 0, 25, 1184};
    struct pgoutput_msg m;
    struct fixture f = decode(*state, "v1_002_R.bin", &m);
    assert_int_equal(m.type, PGOUTPUT_RELATION);
    assert_string_equal(m.u.relation.nspname, "public");
    assert_string_equal(m.u.relation.relname, "fx_items");
    assert_int_equal(m.u.relation.replident, 'd');
    assert_int_equal(m.u.relation.ncols, 6);
    for (int i = 0; i < 6; i++) {
        assert_string_equal(m.u.relation.cols[i].name, names[i]);
        assert_int_equal(m.u.relation.cols[i].flags, i == 0 ? PGOUTPUT_COLUMN_KEY : 0);
        if (oids[i])
            assert_int_equal(m.u.relation.cols[i].type_oid, oids[i]);
    }
    assert_int_equal(m.u.relation.cols[2].typmod, (10 << 16 | 2) + 4); /* numeric(10,2) */
    assert_int_equal(m.u.relation.cols[1].typmod, -1);
    free(f.data);
}

static void test_insert_has_text_values_and_nulls(void **state)
{
    struct pgoutput_msg r, m;
    struct fixture fr = decode(*state, "v1_002_R.bin", &r);
    struct fixture f = decode(*state, "v1_003_I.bin", &m);
    assert_int_equal(m.type, PGOUTPUT_INSERT);
    assert_int_equal(m.xid, 0);
    assert_int_equal(m.u.insert.relid, r.u.relation.relid);
    const struct pgoutput_tuple *t = &m.u.insert.new_tuple;
    assert_int_equal(t->ncols, 6);
    assert_value(&t->cols[0], "1");
    assert_value(&t->cols[1], "Laptop");
    assert_value(&t->cols[2], "499.99");
    assert_value(&t->cols[3], "happy");
    assert_value(&t->cols[4], NULL);
    assert_value(&t->cols[5], "2024-02-29 12:34:56.789+00");
    free(fr.data);
    free(f.data);
}

static void test_update_without_old_tuple(void **state)
{
    struct pgoutput_msg m;
    struct fixture f = decode(*state, "v1_006_U.bin", &m);
    assert_int_equal(m.type, PGOUTPUT_UPDATE);
    assert_int_equal(m.u.update.old_kind, 0);
    assert_int_equal(m.u.update.old_tuple.ncols, 0);
    assert_value(&m.u.update.new_tuple.cols[1], "Phone");
    free(f.data);
}

static void test_update_of_key_sends_old_key(void **state)
{
    struct pgoutput_msg m;
    struct fixture f = decode(*state, "v1_009_U.bin", &m);
    assert_int_equal(m.u.update.old_kind, 'K');
    assert_int_equal(m.u.update.old_tuple.ncols, 6);
    assert_value(&m.u.update.old_tuple.cols[0], "1");
    assert_value(&m.u.update.old_tuple.cols[1], NULL); /* non-key columns are sent as null */
    assert_value(&m.u.update.new_tuple.cols[0], "2");
    free(f.data);
}

static void test_update_marks_unchanged_toast(void **state)
{
    struct pgoutput_msg m;
    struct fixture f = decode(*state, "v1_015_U.bin", &m);
    assert_value(&m.u.update.new_tuple.cols[1], "Charger");
    assert_int_equal(m.u.update.new_tuple.cols[4].kind, PGOUTPUT_COL_UNCHANGED_TOAST);
    assert_null(m.u.update.new_tuple.cols[4].data);
    free(f.data);
}

static void test_replica_identity_full_sends_old_row(void **state)
{
    struct pgoutput_msg r, u, d;
    struct fixture fr = decode(*state, "v1_018_R.bin", &r);
    assert_string_equal(r.u.relation.relname, "fx_full");
    assert_int_equal(r.u.relation.replident, 'f');
    assert_int_equal(r.u.relation.cols[1].flags, PGOUTPUT_COLUMN_KEY); /* FULL: every column */
    /* a message's tuples live until the next decode */
    struct fixture fu = decode(*state, "v1_022_U.bin", &u);
    assert_int_equal(u.u.update.old_kind, 'O');
    assert_value(&u.u.update.old_tuple.cols[1], "one");
    assert_value(&u.u.update.new_tuple.cols[1], "uno");
    struct fixture fd = decode(*state, "v1_025_D.bin", &d);
    assert_int_equal(d.type, PGOUTPUT_DELETE);
    assert_int_equal(d.u.delete_.old_kind, 'O');
    assert_value(&d.u.delete_.old_tuple.cols[1], "uno");
    free(fr.data);
    free(fu.data);
    free(fd.data);
}

static void test_delete_sends_key(void **state)
{
    struct pgoutput_msg m;
    struct fixture f = decode(*state, "v1_028_D.bin", &m);
    assert_int_equal(m.u.delete_.old_kind, 'K');
    assert_value(&m.u.delete_.old_tuple.cols[0], "2");
    assert_value(&m.u.delete_.old_tuple.cols[1], NULL);
    free(f.data);
}

static void test_truncate_lists_relations_and_options(void **state)
{
    struct pgoutput_msg a, b, m;
    struct fixture fa = decode(*state, "v1_035_R.bin", &a);
    uint32_t first = a.u.relation.relid;
    struct fixture fb = decode(*state, "v1_036_R.bin", &b);
    struct fixture f = decode(*state, "v1_037_T.bin", &m);
    assert_int_equal(m.type, PGOUTPUT_TRUNCATE);
    assert_int_equal(m.u.truncate.options,
                     PGOUTPUT_TRUNCATE_CASCADE | PGOUTPUT_TRUNCATE_RESTART_IDENTITY);
    assert_int_equal(m.u.truncate.nrelids, 2);
    assert_int_equal(m.u.truncate.relids[0], first);
    assert_int_equal(m.u.truncate.relids[1], b.u.relation.relid);
    free(fa.data);
    free(fb.data);
    free(f.data);
}

static void test_logical_messages(void **state)
{
    struct pgoutput_msg t, n;
    struct fixture ft = decode(*state, "v1_040_M.bin", &t);
    struct fixture fn = decode(*state, "v1_042_M.bin", &n);
    assert_int_equal(t.u.message.flags, 1);
    assert_string_equal(t.u.message.prefix, "fx");
    assert_int_equal(t.u.message.len, strlen("transactional"));
    assert_memory_equal(t.u.message.content, "transactional", t.u.message.len);
    assert_int_equal(n.u.message.flags, 0);
    assert_memory_equal(n.u.message.content, "non-transactional", n.u.message.len);
    assert_true(n.u.message.lsn != 0);
    free(ft.data);
    free(fn.data);
}

static void test_origin(void **state)
{
    struct pgoutput_msg m;
    struct fixture f = decode(*state, "v1_044_O.bin", &m);
    assert_int_equal(m.type, PGOUTPUT_ORIGIN);
    assert_true(m.u.origin.lsn == 0x12345678);
    assert_string_equal(m.u.origin.name, "fx_origin");
    free(f.data);
}

static void test_binary_values(void **state)
{
    static const char int5[] = {0, 0, 0, 5};
    struct pgoutput_msg m;
    struct fixture f = decode(*state, "bin_003_I.bin", &m);
    const struct pgoutput_value *c = m.u.insert.new_tuple.cols;
    assert_int_equal(c[0].kind, PGOUTPUT_COL_BINARY);
    assert_int_equal(c[0].len, 4);
    assert_memory_equal(c[0].data, int5, 4);
    assert_int_equal(c[1].kind, PGOUTPUT_COL_BINARY);
    assert_memory_equal(c[1].data, "Phone", 5);
    free(f.data);
}

static void test_streamed_transaction_data_carries_xid(void **state)
{
    struct pgoutput_msg s, r, i, e, c;
    struct fixture fs = decode(*state, "v2_000_S.bin", &s);
    struct fixture fr = decode(*state, "v2_002_R.bin", &r);
    struct fixture fi = decode(*state, "v2_003_I.bin", &i);
    struct fixture fe = decode(*state, "v2_006_E.bin", &e);
    struct fixture fc = decode(*state, "v2_011_c_.bin", &c);
    assert_int_equal(s.type, PGOUTPUT_STREAM_START);
    assert_int_equal(s.u.stream_start.first_segment, 1);
    assert_true(s.xid != 0);
    assert_int_equal(r.xid, s.xid);
    assert_string_equal(r.u.relation.relname, "fx_items");
    assert_int_equal(i.xid, s.xid);
    assert_value(&i.u.insert.new_tuple.cols[0], "100");
    assert_value(&i.u.insert.new_tuple.cols[1], "row 100");
    assert_int_equal(e.type, PGOUTPUT_STREAM_STOP);
    assert_int_equal(c.type, PGOUTPUT_STREAM_COMMIT);
    assert_int_equal(c.xid, s.xid);
    assert_true(c.u.commit.end_lsn > c.u.commit.commit_lsn);
    free(fs.data);
    free(fr.data);
    free(fi.data);
    free(fe.data);
    free(fc.data);
}

static void test_stream_abort_of_transaction_and_subtransaction(void **state)
{
    struct pgoutput_msg whole, sub;
    struct fixture fw = decode(*state, "v2_014_A.bin", &whole);
    struct fixture fs = decode(*state, "v2_017_A.bin", &sub);
    assert_int_equal(whole.type, PGOUTPUT_STREAM_ABORT);
    assert_int_equal(whole.u.stream_abort.subxid, whole.xid);
    assert_true(sub.u.stream_abort.subxid != sub.xid);
    free(fw.data);
    free(fs.data);
}

/* Outside a streamed block the same Insert bytes have no xid: decoding them as such must fail
 * cleanly (trailing bytes), not misread. */
static void test_streamed_insert_outside_stream_is_rejected(void **state)
{
    char err[256];
    struct pgoutput_msg m;
    struct fixture f = load("v2_003_I.bin");
    assert_int_equal(pgoutput_decode(*state, f.data, f.len, &m, err, sizeof err), -1);
    assert_non_null(strstr(err, "Insert"));
    free(f.data);
}

/* Proto 3 two-phase messages, built by hand (the stack has max_prepared_transactions=0). */
static void test_two_phase_messages(void **state)
{
    static const unsigned char prepare[] = {'P', 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0,   0,   0, 0,
                                            2,   0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 9, 'g', '1', 0};
    static const unsigned char rollback[] = {'r', 0, 0, 0, 0, 0, 0, 0, 0, 1, 0,   0,   0, 0,
                                             0,   0, 0, 2, 0, 0, 0, 0, 0, 0, 0,   3,   0, 0,
                                             0,   0, 0, 0, 0, 4, 0, 0, 0, 9, 'g', '1', 0};
    char err[256];
    struct pgoutput_msg m;
    assert_int_equal(pgoutput_decode(*state, prepare, sizeof prepare, &m, err, sizeof err), 0);
    assert_int_equal(m.type, PGOUTPUT_PREPARE);
    assert_true(m.u.twophase.lsn1 == 1 && m.u.twophase.lsn2 == 2 && m.u.twophase.time == 3);
    assert_int_equal(m.xid, 9);
    assert_string_equal(m.u.twophase.gid, "g1");
    assert_int_equal(pgoutput_decode(*state, rollback, sizeof rollback, &m, err, sizeof err), 0);
    assert_int_equal(m.type, PGOUTPUT_ROLLBACK_PREPARED);
    assert_true(m.u.twophase.time == 3 && m.u.twophase.time2 == 4);
    assert_string_equal(m.u.twophase.gid, "g1");
}

/* Every proper prefix of every recorded message fails with an error naming the message type and
 * an offset; nothing is read past the end (ASan checks the exactly sized copies). */
static void test_every_truncation_fails_cleanly(void **state)
{
    static const char *const names[] = {"v1_000_B.bin", "v1_002_R.bin", "v1_003_I.bin",
                                        "v1_004_C.bin", "v1_009_U.bin", "v1_015_U.bin",
                                        "v1_022_U.bin", "v1_028_D.bin", "v1_037_T.bin",
                                        "v1_040_M.bin", "v1_044_O.bin", "bin_003_I.bin"};
    char err[256];
    struct pgoutput_msg m;
    for (size_t n = 0; n < sizeof names / sizeof names[0]; n++) {
        struct fixture f = load(names[n]);
        for (size_t len = 1; len < f.len; len++) {
            char *copy = malloc(len);
            memcpy(copy, f.data, len);
            if (pgoutput_decode(*state, copy, len, &m, err, sizeof err) == 0)
                fail_msg("%s cut to %zu bytes decoded without error", names[n], len);
            assert_non_null(strstr(err, pgoutput_msg_type_name(f.data[0])));
            assert_non_null(strstr(err, "offset "));
            free(copy);
        }
        free(f.data);
    }
}

static void test_malformed_messages_name_type_and_offset(void **state)
{
    static const unsigned char bad_marker[] = {'I', 0, 0, 0, 1, 'X', 0, 0};
    static const unsigned char bad_kind[] = {'I', 0, 0, 0, 1, 'N', 0, 1, 'z'};
    static const unsigned char huge_len[] = {'I', 0,   0,    0,    1,    'N', 0,
                                             1,   't', 0xff, 0xff, 0xff, 0xff};
    static const unsigned char trailing[] = {'E', 0};
    static const unsigned char unknown[] = {'?'};
    char err[256];
    struct pgoutput_msg m;
    assert_int_equal(pgoutput_decode(*state, bad_marker, sizeof bad_marker, &m, err, sizeof err),
                     -1);
    assert_non_null(strstr(err, "Insert"));
    assert_non_null(strstr(err, "offset 5: tuple marker 0x58 is not one of N"));
    assert_int_equal(pgoutput_decode(*state, bad_kind, sizeof bad_kind, &m, err, sizeof err), -1);
    assert_non_null(strstr(err, "offset 8: tuple column kind"));
    assert_int_equal(pgoutput_decode(*state, huge_len, sizeof huge_len, &m, err, sizeof err), -1);
    assert_non_null(strstr(err, "offset 13: tuple column value truncated"));
    assert_int_equal(pgoutput_decode(*state, trailing, sizeof trailing, &m, err, sizeof err), -1);
    assert_non_null(strstr(err, "Stream Stop"));
    assert_non_null(strstr(err, "1 unexpected bytes"));
    assert_int_equal(pgoutput_decode(*state, unknown, sizeof unknown, &m, err, sizeof err), -1);
    assert_non_null(strstr(err, "unknown message type 0x3f"));
    assert_int_equal(pgoutput_decode(*state, unknown, 0, &m, err, sizeof err), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_begin_and_commit_carry_lsns_and_xid, setup, teardown),
        cmocka_unit_test_setup_teardown(test_type_names_the_enum, setup, teardown),
        cmocka_unit_test_setup_teardown(test_relation_lists_columns_types_and_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_insert_has_text_values_and_nulls, setup, teardown),
        cmocka_unit_test_setup_teardown(test_update_without_old_tuple, setup, teardown),
        cmocka_unit_test_setup_teardown(test_update_of_key_sends_old_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_update_marks_unchanged_toast, setup, teardown),
        cmocka_unit_test_setup_teardown(test_replica_identity_full_sends_old_row, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delete_sends_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_truncate_lists_relations_and_options, setup, teardown),
        cmocka_unit_test_setup_teardown(test_logical_messages, setup, teardown),
        cmocka_unit_test_setup_teardown(test_origin, setup, teardown),
        cmocka_unit_test_setup_teardown(test_binary_values, setup, teardown),
        cmocka_unit_test_setup_teardown(test_streamed_transaction_data_carries_xid, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_stream_abort_of_transaction_and_subtransaction, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_streamed_insert_outside_stream_is_rejected, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_two_phase_messages, setup, teardown),
        cmocka_unit_test_setup_teardown(test_every_truncation_fails_cleanly, setup, teardown),
        cmocka_unit_test_setup_teardown(test_malformed_messages_name_type_and_offset, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
