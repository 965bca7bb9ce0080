/* Unit tests of producer/batch.c: rounds never repeat an orderid and keep each orderid's order;
 * the COPY text is exact and escaped. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "batch.h"

static struct generator_op *add_upsert(struct batch *b, const char *orderid)
{
    struct generator_op *op = batch_add(b);
    memset(op, 0, sizeof *op);
    op->kind = GENERATOR_OP_UPSERT;
    snprintf(op->orderid, sizeof op->orderid, "%s", orderid);
    op->product = 3;
    op->quantity = 2;
    op->price_cents = 1005;
    op->customer_id = 77;
    op->status_new = ORDER_PLACED;
    op->ts_us = GENERATOR_TS_NOW;
    return op;
}

static void test_repeated_orderids_go_to_later_rounds(void **state)
{
    (void)state;
    struct batch *b = batch_new(8);
    const char *ids[] = {"1", "2", "1", "3", "1", "2"};
    for (int i = 0; i < 6; i++)
        add_upsert(b, ids[i]);
    b->ops[4].kind = GENERATOR_OP_DELETE;
    batch_seal(b);
    const int want[] = {0, 0, 1, 0, 2, 1};
    for (int i = 0; i < 6; i++)
        assert_int_equal(b->round[i], want[i]);
    assert_int_equal(b->n_rounds, 3);
    assert_int_equal(b->rounds[0].upserts, 3);
    assert_int_equal(b->rounds[1].upserts, 2);
    assert_int_equal(b->rounds[2].upserts, 0);
    assert_int_equal(b->rounds[2].deletes, 1);
    batch_destroy(b);
}

static void test_generated_batches_have_unique_orderids_per_round(void **state)
{
    (void)state;
    struct generator_config c = {GENERATOR_SEED, 9, 10, GENERATOR_TS_NOW, 0, 0};
    struct generator *g = generator_new(&c);
    struct batch *b = batch_new(20000);
    for (int i = 0; i < 20000; i++)
        generator_next(g, batch_add(b));
    batch_seal(b);
    assert_true(b->n_rounds > 1); /* 20000 draws from 10000 ids must repeat */
    size_t total = 0;
    for (int r = 0; r < b->n_rounds; r++)
        total += b->rounds[r].upserts + b->rounds[r].advances + b->rounds[r].deletes;
    assert_int_equal(total, 20000);
    /* per orderid: rounds are 0, 1, 2, ... in operation order */
    int *next_round = calloc(10001, sizeof *next_round);
    for (size_t i = 0; i < b->n; i++) {
        int id = atoi(b->ops[i].orderid);
        assert_int_equal(b->round[i], next_round[id]);
        next_round[id]++;
    }
    free(next_round);
    batch_destroy(b);
    generator_destroy(g);
}

static void test_copy_text_is_exact(void **state)
{
    (void)state;
    struct batch *b = batch_new(4);
    add_upsert(b, "42");
    struct generator_op *adv = batch_add(b);
    memset(adv, 0, sizeof *adv);
    adv->kind = GENERATOR_OP_ADVANCE;
    strcpy(adv->orderid, "42");
    adv->status_old = ORDER_PLACED;
    adv->status_new = ORDER_PAID;
    adv->ts_us = 1704067200123456LL;
    struct generator_op *del = batch_add(b);
    memset(del, 0, sizeof *del);
    del->kind = GENERATOR_OP_DELETE;
    strcpy(del->orderid, "7");
    del->ts_us = GENERATOR_TS_NOW;
    batch_seal(b);
    const char *want = "0\tu\t42\tHeadphones\t2\t10.05\t77\t\\N\tplaced\t\\N\n"
                       "1\ta\t42\t\\N\t\\N\t\\N\t\\N\tplaced\tpaid\t"
                       "2024-01-01 00:00:00.123456+00\n"
                       "0\td\t7\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\n";
    assert_int_equal(b->copy_len, strlen(want));
    assert_memory_equal(b->copy, want, strlen(want));
    batch_destroy(b);
}

static void test_copy_text_escapes_special_characters(void **state)
{
    (void)state;
    struct batch *b = batch_new(1);
    add_upsert(b, "a\tb\\c\nd\re");
    batch_seal(b);
    assert_non_null(strstr(b->copy, "\ta\\tb\\\\c\\nd\\re\t"));
    assert_int_equal(b->copy[b->copy_len - 1], '\n');
    assert_null(memchr(b->copy, '\n', b->copy_len - 1)); /* one line */
    batch_destroy(b);
}

static void test_prices_render_with_two_decimals(void **state)
{
    (void)state;
    const int cents[] = {1000, 1001, 1010, 50000, 12345};
    const char *want[] = {"\t10.00\t", "\t10.01\t", "\t10.10\t", "\t500.00\t", "\t123.45\t"};
    for (int i = 0; i < 5; i++) {
        struct batch *b = batch_new(1);
        add_upsert(b, "1")->price_cents = cents[i];
        batch_seal(b);
        assert_non_null(strstr(b->copy, want[i]));
        batch_destroy(b);
    }
}

static void test_timestamps_render_in_utc_with_microseconds(void **state)
{
    (void)state;
    char out[48];
    batch_format_ts(0, out, sizeof out);
    assert_string_equal(out, "1970-01-01 00:00:00.000000+00");
    batch_format_ts(-1, out, sizeof out);
    assert_string_equal(out, "1969-12-31 23:59:59.999999+00");
    batch_format_ts(1709251199000001LL, out, sizeof out);
    assert_string_equal(out, "2024-02-29 23:59:59.000001+00");
}

static void test_reset_empties_the_batch_for_reuse(void **state)
{
    (void)state;
    struct batch *b = batch_new(2);
    add_upsert(b, "1");
    add_upsert(b, "1");
    batch_seal(b);
    assert_int_equal(b->n_rounds, 2);
    batch_reset(b);
    add_upsert(b, "2");
    batch_seal(b);
    assert_int_equal(b->n, 1);
    assert_int_equal(b->n_rounds, 1);
    assert_int_equal(b->round[0], 0);
    batch_destroy(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_repeated_orderids_go_to_later_rounds),
        cmocka_unit_test(test_generated_batches_have_unique_orderids_per_round),
        cmocka_unit_test(test_copy_text_is_exact),
        cmocka_unit_test(test_copy_text_escapes_special_characters),
        cmocka_unit_test(test_prices_render_with_two_decimals),
        cmocka_unit_test(test_timestamps_render_in_utc_with_microseconds),
        cmocka_unit_test(test_reset_empties_the_batch_for_reuse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
