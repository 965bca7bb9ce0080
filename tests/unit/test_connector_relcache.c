/* Unit tests of connector/relcache.c, fed with recorded Relation and Type messages. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pgoutput.h"
#include "relcache.h"

static char *load(const char *name, size_t *len)
{
    char path[512];
    snprintf(path, sizeof path, "%s/pgoutput/%s", SALESCDC_FIXTURE_DIR, name);
    FILE *fp = fopen(path, "rb");
    if (!fp)
        fail_msg("cannot open fixture %s", path);
    char *buf = malloc(4096);
    *len = fread(buf, 1, 4096, fp);
    fclose(fp);
    return buf;
}

static void decode(struct pgoutput_decoder *dec, const char *name, char **buf,
                   struct pgoutput_msg *m)
{
    char err[256];
    size_t len;
    *buf = load(name, &len);
    if (pgoutput_decode(dec, *buf, len, m, err, sizeof err) != 0)
        fail_msg("%s: %s", name, err);
}

static int ext_freed;
static void count_free(void *ext)
{
    (void)ext;
    ext_freed++;
}

static void test_relation_is_cached_by_id_with_owned_copies(void **state)
{
    (void)state;
    struct pgoutput_decoder *dec = pgoutput_decoder_new();
    struct relcache *rc = relcache_new();
    struct pgoutput_msg m;
    char *buf;
    int changed;
    decode(dec, "v1_002_R.bin", &buf, &m);
    struct relcache_rel *r = relcache_update(rc, &m, &changed);
    uint32_t relid = m.u.relation.relid;
    free(buf); /* the cache must not borrow from the message */
    assert_true(changed);
    assert_ptr_equal(relcache_get(rc, relid), r);
    assert_null(relcache_get(rc, relid + 1));
    assert_string_equal(r->nspname, "public");
    assert_string_equal(r->relname, "fx_items");
    assert_int_equal(r->ncols, 6);
    assert_string_equal(r->cols[2].name, "price");
    assert_int_equal(r->cols[2].type_oid, 1700);
    assert_true(r->cols[0].key && r->cols[0].not_null && !r->cols[1].key);
    relcache_destroy(rc);
    pgoutput_decoder_destroy(dec);
}

static void test_same_relation_again_is_unchanged_and_keeps_ext(void **state)
{
    (void)state;
    struct pgoutput_decoder *dec = pgoutput_decoder_new();
    struct relcache *rc = relcache_new();
    struct pgoutput_msg m;
    char *buf;
    int changed;
    decode(dec, "v1_002_R.bin", &buf, &m);
    struct relcache_rel *r = relcache_update(rc, &m, &changed);
    r->ext = &changed;
    r->ext_free = count_free;
    unsigned gen = r->generation;
    ext_freed = 0;
    assert_ptr_equal(relcache_update(rc, &m, &changed), r);
    assert_false(changed);
    assert_int_equal(r->generation, gen);
    assert_int_equal(ext_freed, 0);

    /* a changed column type (DDL) replaces the entry in place and drops the caller's state */
    ((struct pgoutput_column *)m.u.relation.cols)[2].type_oid = 701;
    assert_ptr_equal(relcache_update(rc, &m, &changed), r);
    assert_true(changed);
    assert_int_equal(r->generation, gen + 1);
    assert_int_equal(ext_freed, 1);
    assert_null(r->ext);
    assert_int_equal(r->cols[2].type_oid, 701);
    free(buf);
    relcache_destroy(rc);
    pgoutput_decoder_destroy(dec);
}

static void test_type_messages_name_custom_types(void **state)
{
    (void)state;
    struct pgoutput_decoder *dec = pgoutput_decoder_new();
    struct relcache *rc = relcache_new();
    struct pgoutput_msg y, r;
    char *ybuf, *rbuf;
    int changed;
    decode(dec, "v1_001_Y.bin", &ybuf, &y);
    relcache_set_type(rc, &y);
    decode(dec, "v1_002_R.bin", &rbuf, &r);
    struct relcache_rel *rel = relcache_update(rc, &r, &changed);
    assert_string_equal(relcache_type_name(rc, rel->cols[3].type_oid), "public.fx_mood");
    assert_null(relcache_type_name(rc, 25));
    free(ybuf);
    free(rbuf);
    relcache_destroy(rc);
    pgoutput_decoder_destroy(dec);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_relation_is_cached_by_id_with_owned_copies),
        cmocka_unit_test(test_same_relation_again_is_unchanged_and_keeps_ext),
        cmocka_unit_test(test_type_messages_name_custom_types),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
