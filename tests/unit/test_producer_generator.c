/* Unit tests of producer/generator.c and order_status.c: value ranges, distributions, the
 * reproducibility of a seed, and lifecycle operations that only make valid transitions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "generator.h"
#include "order_status.h"

#define DRAWS 100000
/* Chi-square critical values at p = 0.001: a fair generator fails one seed in a thousand. */
#define CHI2_4DOF_P001 18.47
#define CHI2_9DOF_P001 27.88

static struct generator *make(enum generator_mode mode, uint64_t seed, int delete_percent)
{
    struct generator_config c = {mode, seed, delete_percent, GENERATOR_TS_NOW, 0, 0};
    return generator_new(&c);
}

static double chi_square(const long *observed, int k, double expected)
{
    double x = 0;
    for (int i = 0; i < k; i++)
        x += (observed[i] - expected) * (observed[i] - expected) / expected;
    return x;
}

static void test_seed_mode_values_stay_in_range(void **state)
{
    (void)state;
    struct generator *g = make(GENERATOR_SEED, 1, 0);
    struct generator_op op;
    int min_price = 1 << 30, max_price = 0;
    for (int i = 0; i < DRAWS; i++) {
        generator_next(g, &op);
        assert_int_equal(op.kind, GENERATOR_OP_UPSERT);
        char *end;
        long id = strtol(op.orderid, &end, 10);
        assert_true(*end == '\0' && id >= 1 && id <= 10000);
        assert_true(op.product >= 0 && op.product < GENERATOR_PRODUCT_COUNT);
        assert_true(op.quantity >= 1 && op.quantity <= 5);
        assert_true(op.price_cents >= 1000 && op.price_cents <= 50000);
        assert_true(op.customer_id >= 1 && op.customer_id <= 1000);
        assert_int_equal(op.status_new, ORDER_PLACED);
        assert_true(op.ts_us == GENERATOR_TS_NOW);
        min_price = op.price_cents < min_price ? op.price_cents : min_price;
        max_price = op.price_cents > max_price ? op.price_cents : max_price;
    }
    assert_true(min_price < 1100 && max_price > 49900); /* the whole range is used */
    assert_int_equal(generator_count(g), DRAWS);
    generator_destroy(g);
}

static void test_seed_mode_distributions_are_uniform(void **state)
{
    (void)state;
    struct generator *g = make(GENERATOR_SEED, 2024, 0);
    struct generator_op op;
    long products[GENERATOR_PRODUCT_COUNT] = {0}, quantities[5] = {0}, deciles[10] = {0};
    for (int i = 0; i < DRAWS; i++) {
        generator_next(g, &op);
        products[op.product]++;
        quantities[op.quantity - 1]++;
        deciles[(atoi(op.orderid) - 1) / 1000]++;
    }
    for (int p = 0; p < GENERATOR_PRODUCT_COUNT; p++)
        assert_true(products[p] > 0); /* every product appears */
    assert_true(chi_square(products, 5, DRAWS / 5.0) < CHI2_4DOF_P001);
    assert_true(chi_square(quantities, 5, DRAWS / 5.0) < CHI2_4DOF_P001);
    assert_true(chi_square(deciles, 10, DRAWS / 10.0) < CHI2_9DOF_P001);
    generator_destroy(g);
}

static void test_products_are_the_seeds_five(void **state)
{
    (void)state;
    const char *want[] = {"Laptop", "Phone", "Tablet", "Headphones", "Charger"};
    for (int i = 0; i < GENERATOR_PRODUCT_COUNT; i++)
        assert_string_equal(generator_products[i], want[i]);
}

static void assert_same_stream(enum generator_mode mode, uint64_t seed_a, uint64_t seed_b,
                               int expect_same)
{
    struct generator *a = make(mode, seed_a, 10), *b = make(mode, seed_b, 10);
    struct generator_op x, y;
    int differences = 0;
    for (int i = 0; i < 20000; i++) {
        generator_next(a, &x);
        generator_next(b, &y);
        differences += memcmp(&x, &y, sizeof x) != 0;
    }
    if (expect_same)
        assert_int_equal(differences, 0);
    else
        assert_true(differences > 19000);
    generator_destroy(a);
    generator_destroy(b);
}

static void test_same_seed_gives_same_operations(void **state)
{
    (void)state;
    assert_same_stream(GENERATOR_SEED, 5, 5, 1);
    assert_same_stream(GENERATOR_LIFECYCLE, 5, 5, 1);
}

static void test_different_seed_gives_different_operations(void **state)
{
    (void)state;
    assert_same_stream(GENERATOR_SEED, 5, 6, 0);
    assert_same_stream(GENERATOR_LIFECYCLE, 5, 6, 0);
}

static void test_seed_mode_delete_share_follows_option(void **state)
{
    (void)state;
    struct generator *g = make(GENERATOR_SEED, 3, 20);
    struct generator_op op;
    long deletes = 0;
    for (int i = 0; i < DRAWS; i++) {
        generator_next(g, &op);
        deletes += op.kind == GENERATOR_OP_DELETE;
        if (op.kind == GENERATOR_OP_DELETE)
            assert_true(atoi(op.orderid) >= 1 && atoi(op.orderid) <= 10000);
    }
    assert_true(deletes > 19000 && deletes < 21000);
    generator_destroy(g);
}

static void test_synthetic_clock_advances_per_operation(void **state)
{
    (void)state;
    struct generator_config c = {GENERATOR_LIFECYCLE, 1, 0, 1704067200000000LL, 250000, 0};
    struct generator *g = generator_new(&c);
    struct generator_op op;
    for (int i = 0; i < 100; i++) {
        generator_next(g, &op);
        assert_true(op.ts_us == 1704067200000000LL + i * 250000LL);
    }
    generator_destroy(g);
}

#define UNBORN (-1)
#define DELETED (-2)

/* Replays lifecycle operations against a model of the table and checks each against it. */
struct model {
    int *status; /* by order sequence number */
    size_t size;
    char tag[16];
    long kinds[128];
    long transitions[ORDER_STATUS_COUNT][ORDER_STATUS_COUNT];
};

static size_t seq_of(struct model *m, const char *orderid)
{
    const char *dash = strchr(orderid, '-');
    assert_non_null(dash);
    if (!m->tag[0])
        snprintf(m->tag, sizeof m->tag, "%.*s", (int)(dash - orderid), orderid);
    assert_memory_equal(orderid, m->tag, strlen(m->tag)); /* one run, one prefix */
    size_t seq = strtoull(dash + 1, NULL, 10);
    assert_true(seq >= 1 && seq < m->size);
    return seq;
}

static void apply(struct model *m, const struct generator_op *op)
{
    size_t seq = seq_of(m, op->orderid);
    int *st = &m->status[seq];
    m->kinds[op->kind]++;
    switch (op->kind) {
    case GENERATOR_OP_UPSERT:
        assert_int_equal(*st, UNBORN); /* lifecycle ids are never reused */
        assert_int_equal(op->status_new, ORDER_PLACED);
        *st = ORDER_PLACED;
        break;
    case GENERATOR_OP_ADVANCE:
        assert_true(*st >= 0);
        assert_int_equal(op->status_old, *st);
        assert_true(order_status_can_transition(op->status_old, op->status_new));
        m->transitions[op->status_old][op->status_new]++;
        *st = (int)op->status_new;
        break;
    case GENERATOR_OP_DELETE:
        assert_true(*st >= 0); /* only existing orders are deleted */
        *st = DELETED;
        break;
    }
}

static void test_lifecycle_makes_only_valid_transitions(void **state)
{
    (void)state;
    const long n = 200000;
    struct model m = {.size = (size_t)n + 2};
    m.status = malloc(m.size * sizeof *m.status);
    for (size_t i = 0; i < m.size; i++)
        m.status[i] = UNBORN;
    struct generator *g = make(GENERATOR_LIFECYCLE, 11, 5);
    struct generator_op op;
    for (long i = 0; i < n; i++) {
        generator_next(g, &op);
        apply(&m, &op);
    }
    for (int from = 0; from < ORDER_STATUS_COUNT; from++)
        for (int to = 0; to < ORDER_STATUS_COUNT; to++)
            if (order_status_can_transition(from, to))
                assert_true(m.transitions[from][to] > 0); /* every step of the cycle happens */
    assert_true(m.kinds['d'] > n * 4 / 100 && m.kinds['d'] < n * 6 / 100);
    assert_true(m.kinds['u'] > n / 5 && m.kinds['a'] > n / 3);
    generator_destroy(g);
    free(m.status);
}

static void test_status_machine_allows_only_the_cycle(void **state)
{
    (void)state;
    const int allowed[][2] = {{ORDER_PLACED, ORDER_PAID},
                              {ORDER_PLACED, ORDER_CANCELLED},
                              {ORDER_PAID, ORDER_SHIPPED},
                              {ORDER_PAID, ORDER_CANCELLED},
                              {ORDER_SHIPPED, ORDER_DELIVERED}};
    int n_allowed = 0;
    for (int from = 0; from < ORDER_STATUS_COUNT; from++)
        for (int to = 0; to < ORDER_STATUS_COUNT; to++)
            n_allowed += order_status_can_transition(from, to);
    assert_int_equal(n_allowed, 5);
    for (int i = 0; i < 5; i++)
        assert_true(order_status_can_transition(allowed[i][0], allowed[i][1]));
    assert_false(order_status_can_transition(ORDER_SHIPPED, ORDER_CANCELLED));
    assert_false(order_status_can_transition(ORDER_DELIVERED, ORDER_PLACED));
    assert_false(order_status_can_transition(ORDER_PAID, ORDER_PLACED));
    assert_false(order_status_can_transition(99, ORDER_PAID));
    assert_true(order_status_is_terminal(ORDER_DELIVERED));
    assert_true(order_status_is_terminal(ORDER_CANCELLED));
    assert_false(order_status_is_terminal(ORDER_SHIPPED));
    assert_string_equal(order_status_name(ORDER_CANCELLED), "cancelled");
}

static void test_status_next_draws_only_successors(void **state)
{
    (void)state;
    struct prng p;
    prng_seed(&p, 8);
    long cancelled = 0;
    for (int i = 0; i < 10000; i++) {
        for (int from = ORDER_PLACED; from <= ORDER_SHIPPED; from++) {
            enum order_status to = order_status_next(&p, from);
            assert_true(order_status_can_transition(from, to));
            cancelled += from == ORDER_PLACED && to == ORDER_CANCELLED;
        }
    }
    assert_true(cancelled > 1200 && cancelled < 1800); /* 15% of placed orders */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_seed_mode_values_stay_in_range),
        cmocka_unit_test(test_seed_mode_distributions_are_uniform),
        cmocka_unit_test(test_products_are_the_seeds_five),
        cmocka_unit_test(test_same_seed_gives_same_operations),
        cmocka_unit_test(test_different_seed_gives_different_operations),
        cmocka_unit_test(test_seed_mode_delete_share_follows_option),
        cmocka_unit_test(test_synthetic_clock_advances_per_operation),
        cmocka_unit_test(test_lifecycle_makes_only_valid_transitions),
        cmocka_unit_test(test_status_machine_allows_only_the_cycle),
        cmocka_unit_test(test_status_next_draws_only_successors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
