/* Unit tests of trino_page_apply(): statement responses captured from the stack's Trino 476. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "trino_client.h"

/* SELECT 1 AS n, CAST('12.30' AS decimal(10,2)) AS price, 'x' AS s: queued, running with the
 * row, finished (stats trimmed). */
static const char QUEUED[] =
    "{\"id\":\"20261125_173551_00019_qpv3d\",\"infoUri\":\"http://127.0.0.1:58080/ui/query.html?"
    "20261125_173551_00019_qpv3d\",\"nextUri\":\"http://127.0.0.1:58080/v1/statement/queued/"
    "20261125_173551_00019_qpv3d/ydf9c4db70ac331c0d083bee4091c008c2d5ae804/1\",\"stats\":{"
    "\"state\":\"QUEUED\",\"queued\":true},\"warnings\":[]}";
static const char RUNNING[] =
    "{\"id\":\"20261125_173551_00019_qpv3d\",\"partialCancelUri\":\"http://127.0.0.1:58080/v1/"
    "statement/executing/partialCancel/20261125_173551_00019_qpv3d/0/y1de5/1\",\"nextUri\":"
    "\"http://127.0.0.1:58080/v1/statement/executing/20261125_173551_00019_qpv3d/y1de5/1\","
    "\"columns\":[{\"name\":\"n\",\"type\":\"integer\",\"typeSignature\":{\"rawType\":\"integer\","
    "\"arguments\":[]}},{\"name\":\"price\",\"type\":\"decimal(10, 2)\",\"typeSignature\":{"
    "\"rawType\":\"decimal\",\"arguments\":[{\"kind\":\"LONG\",\"value\":10},{\"kind\":\"LONG\","
    "\"value\":2}]}},{\"name\":\"s\",\"type\":\"varchar(1)\",\"typeSignature\":{\"rawType\":"
    "\"varchar\",\"arguments\":[{\"kind\":\"LONG\",\"value\":1}]}}],\"data\":[[1,\"12.30\",\"x\"]],"
    "\"stats\":{\"state\":\"RUNNING\"},\"warnings\":[]}";
static const char FINISHED[] =
    "{\"id\":\"20261125_173551_00019_qpv3d\",\"columns\":[{\"name\":\"n\",\"type\":\"integer\"},"
    "{\"name\":\"price\",\"type\":\"decimal(10, 2)\"},{\"name\":\"s\",\"type\":\"varchar(1)\"}],"
    "\"stats\":{\"state\":\"FINISHED\"},\"warnings\":[]}";
/* SELEC 1 (failureInfo trimmed). */
static const char SYNTAX_ERROR[] =
    "{\"id\":\"20261125_173555_00020_qpv3d\",\"error\":{\"message\":\"line 1:1: mismatched input "
    "'SELEC'. Expecting: 'ALTER', 'ANALYZE', <query>\",\"errorCode\":1,\"errorName\":"
    "\"SYNTAX_ERROR\",\"errorType\":\"USER_ERROR\",\"errorLocation\":{\"lineNumber\":1,"
    "\"columnNumber\":1},\"failureInfo\":{\"type\":\"io.trino.sql.parser.ParsingException\"}},"
    "\"warnings\":[]}";
/* CREATE SCHEMA IF NOT EXISTS hive.probe_x, final page; and an INSERT's. */
static const char CREATED[] = "{\"id\":\"20261125_173556_00022_qpv3d\",\"columns\":[],\"warnings\":"
                              "[],\"updateType\":\"CREATE SCHEMA\"}";
static const char INSERTED[] =
    "{\"id\":\"q3\",\"columns\":[{\"name\":\"rows\",\"type\":\"bigint\"}],"
    "\"data\":[[3]],\"updateType\":\"INSERT\",\"updateCount\":3}";

static int apply(struct trino_result *r, const char *text, char **next, char *err, size_t size)
{
    return trino_page_apply(r, text, strlen(text), next, err, size);
}

static void pages_of_a_query_accumulate(void **state)
{
    (void)state;
    struct trino_result r = {0};
    char err[256], *next = NULL;
    trino_result_release(&r);
    assert_int_equal(apply(&r, QUEUED, &next, err, sizeof err), TRINO_OK);
    assert_non_null(strstr(next, "/v1/statement/queued/"));
    assert_null(r.columns);
    free(next);
    assert_int_equal(apply(&r, RUNNING, &next, err, sizeof err), TRINO_OK);
    assert_non_null(next);
    free(next);
    assert_int_equal(apply(&r, FINISHED, &next, err, sizeof err), TRINO_OK);
    assert_null(next);
    assert_string_equal(r.query_id, "20261125_173551_00019_qpv3d");
    assert_int_equal(json_array_size(r.columns), 3);
    json_t *price = json_array_get(r.columns, 1);
    assert_string_equal(json_string_value(json_object_get(price, "name")), "price");
    assert_string_equal(json_string_value(json_object_get(price, "type")), "decimal(10, 2)");
    assert_null(json_object_get(price, "typeSignature"));
    json_t *want = json_loads("[[1,\"12.30\",\"x\"]]", 0, NULL);
    assert_true(json_equal(r.rows, want));
    json_decref(want);
    assert_string_equal(r.update_type, "");
    assert_int_equal(r.update_count, -1);
    trino_result_release(&r);
    assert_null(r.rows);
}

static void query_error_names_error_and_message(void **state)
{
    (void)state;
    struct trino_result r = {0};
    char err[256], *next = (char *)"stale";
    assert_int_equal(apply(&r, SYNTAX_ERROR, &next, err, sizeof err), TRINO_ERR_QUERY);
    assert_null(next);
    assert_string_equal(r.error_name, "SYNTAX_ERROR");
    assert_string_equal(r.error_type, "USER_ERROR");
    assert_true(strncmp(err, "SYNTAX_ERROR: line 1:1: mismatched input 'SELEC'", 48) == 0);
    trino_result_release(&r);
}

static void update_statements_report_type_and_count(void **state)
{
    (void)state;
    struct trino_result r = {0};
    char err[256], *next = NULL;
    trino_result_release(&r);
    assert_int_equal(apply(&r, CREATED, &next, err, sizeof err), TRINO_OK);
    assert_string_equal(r.update_type, "CREATE SCHEMA");
    assert_int_equal(json_array_size(r.columns), 0);
    assert_int_equal(json_array_size(r.rows), 0);
    trino_result_release(&r);
    assert_int_equal(apply(&r, INSERTED, &next, err, sizeof err), TRINO_OK);
    assert_string_equal(r.update_type, "INSERT");
    assert_int_equal(r.update_count, 3);
    trino_result_release(&r);
}

static void non_statement_answers_are_protocol_errors(void **state)
{
    (void)state;
    static const char *const bad[] = {"", "<html>502 Bad Gateway</html>", "[1,2]",
                                      "{\"message\":\"no id\"}", "{\"id\":"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct trino_result r = {0};
        char err[256], *next = NULL;
        assert_int_equal(apply(&r, bad[i], &next, err, sizeof err), TRINO_ERR_PROTOCOL);
        assert_null(next);
        assert_non_null(strstr(err, "not a statement response"));
        trino_result_release(&r);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(pages_of_a_query_accumulate),
        cmocka_unit_test(query_error_names_error_and_message),
        cmocka_unit_test(update_statements_report_type_and_count),
        cmocka_unit_test(non_statement_answers_are_protocol_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
