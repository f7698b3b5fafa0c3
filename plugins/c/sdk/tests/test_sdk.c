/*
 * Tests of the C SDK, run natively (run.sh) under AddressSanitizer, which
 * also reports leaks: the SDK and the generated bindings are plain C, so
 * the host's compiler can check how they handle the batch and the results
 * without a wasm runtime. Compiled once per kind (-DWEIR_KIND_FILTER,
 * -DWEIR_KIND_SCORER); the plugin functions below act on the record's value.
 */
#include "weir_json.h"
#include "weir_plugin.h"
#include "weir_world.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);               \
            failures++;                                                                            \
        }                                                                                          \
    } while (0)

static bool str_eq(weir_world_string_t s, const char *want) {
    return s.len == strlen(want) && memcmp(s.ptr, want, s.len) == 0;
}

/* The host imports the generated bindings call: log lines are kept. */
static char last_log[256];
void __wasm_import_weir_plugin_log_log(int32_t level, uint8_t *ptr, size_t len) {
    snprintf(last_log, sizeof last_log, "%d %.*s", level, (int)len, ptr);
}
void __wasm_import_weir_plugin_metrics_counter_add(uint8_t *p, size_t n, int64_t d) {}
void __wasm_import_weir_plugin_metrics_gauge_set(uint8_t *p, size_t n, double v) {}
void __wasm_import_weir_plugin_metrics_histogram_observe(uint8_t *p, size_t n, double v) {}
void __wasm_import_weir_plugin_state_get(uint8_t *p, size_t n, uint8_t *ret) { *ret = 0; }
void __wasm_import_weir_plugin_state_set(uint8_t *p, size_t n, uint8_t *v, size_t m) {}
void __wasm_import_weir_plugin_state_delete(uint8_t *p, size_t n) {}
/* get-many answers three empty lists (6 pointer-sized words). */
void __wasm_import_weir_plugin_state_get_many(uint8_t *p, size_t n, uint8_t *ret) {
    memset(ret, 0, 6 * sizeof(void *));
}
void __wasm_import_weir_plugin_state_set_many(uint8_t *k, size_t n, uint8_t *v, size_t m) {}
void __wasm_import_weir_plugin_config_get(uint8_t *p, size_t n, uint8_t *ret) { *ret = 0; }

/* Natively there is no component-type object to link in. */
void __component_type_object_force_link_weir_world(void) {}

/* The plugin. */

static double min_amount;

const char *weir_init(const weir_settings *s) {
    return weir_setting_require_number(s, "min_amount", &min_amount);
}

/* Checks the view of the record with value "view" (index 1 of the batch
 * made by batch_of); counts how often it was seen. */
static int views_checked;

static void check_view(const weir_record *r) {
    CHECK(r->index == 1 && weir_bytes_eq(r->value, "view"));
    CHECK(r->has_key && weir_bytes_eq(r->key, "k1"));
    CHECK(r->timestamp_ms == 1001 && weir_bytes_eq(r->position, "41"));
    CHECK(weir_bytes_eq(r->origin, "topic") && weir_bytes_eq(r->partition, "3"));
    CHECK(r->header_count == 2);
    weir_bytes name, value;
    weir_header(r, 0, &name, &value);
    CHECK(weir_bytes_eq(name, "a") && weir_bytes_eq(value, "x"));
    CHECK(weir_header_get(r, "b", &value) && weir_bytes_eq(value, "yz"));
    CHECK(!weir_header_get(r, "zz", &value));
    views_checked++;
}

static int decide(const weir_record *r) {
    if (weir_bytes_eq(r->value, "drop"))
        return 0;
    if (weir_bytes_eq(r->value, "fail"))
        return weir_fail(r, "boom");
    if (weir_bytes_eq(r->value, "fail-silently"))
        return -1;
    if (weir_bytes_eq(r->value, "fail-and-keep")) {
        weir_fail(r, "first");
        weir_fail(r, "second");
        return 1;
    }
    if (weir_bytes_eq(r->value, "view"))
        check_view(r);
    return 1;
}

int weir_keep(const weir_record *r) { return decide(r); }

#ifdef WEIR_KIND_SCORER
int weir_score(const weir_record *r, double *score) {
    weir_label(r, "one");
    if (weir_bytes_eq(r->value, "two-labels"))
        weir_label(r, "two");
    *score = r->index + 0.5;
    int answer = decide(r);
    return answer < 0 ? answer : 0;
}
#endif

/* Batches: built as the canonical ABI hands them over, every list its own
 * allocation that the SDK frees. */

static void *copy(const void *src, size_t size) {
    if (size == 0)
        return (void *)1; /* what cabi_realloc answers for empty lists */
    void *p = malloc(size);
    memcpy(p, src, size);
    return p;
}

#define LIST(field, data, count) (field).ptr = copy((data), sizeof *(data) * (count)), (field).len = (count)

/* Records with the given values; record 1 has key "k1" and two headers
 * ("a": "x", "b": "yz"), record 0 has an empty key, the others none. */
static exports_kind_batch_t batch_of(const char **values, uint32_t n) {
    exports_kind_batch_t b;
    memset(&b, 0, sizeof b);
    char data[1024];
    uint32_t ends[64], key_ends[64], header_ends[64], pos_ends[64], at = 0, pos_at = 0;
    uint8_t has_key[64];
    int64_t ts[64];
    char positions[256];
    for (uint32_t i = 0; i < n; i++) {
        memcpy(data + at, values[i], strlen(values[i]));
        at += strlen(values[i]);
        ends[i] = at;
        has_key[i] = i <= 1;
        key_ends[i] = i >= 1 ? 2 : 0;
        header_ends[i] = i >= 1 ? 2 : 0;
        ts[i] = 1000 + i;
        pos_at += sprintf(positions + pos_at, "%u", 40 + i);
        pos_ends[i] = pos_at;
    }
    uint32_t header_data_ends[4] = {1, 2, 3, 5};
    LIST(b.origin, "topic", 5);
    LIST(b.partition, "3", 1);
    LIST(b.records.values, (uint8_t *)data, at);
    LIST(b.records.value_ends, ends, n);
    LIST(b.records.keys, (uint8_t *)"k1", n > 1 ? 2 : 0);
    LIST(b.records.key_ends, key_ends, n);
    LIST(b.records.has_key, has_key, n);
    LIST(b.records.header_ends, header_ends, n);
    LIST(b.records.header_data, (uint8_t *)"axbyz", n > 1 ? 5 : 0);
    LIST(b.records.header_data_ends, header_data_ends, n > 1 ? 4 : 0);
    LIST(b.timestamps, ts, n);
    LIST(b.positions, (uint8_t *)positions, pos_at);
    LIST(b.position_ends, pos_ends, n);
    return b;
}

static bool init_with(const char *key, const char *value) {
    weir_world_tuple2_string_string_t pairs[2];
    weir_world_string_dup(&pairs[0].f0, "min_amount");
    weir_world_string_dup(&pairs[0].f1, "1");
    weir_world_string_dup(&pairs[1].f0, key);
    weir_world_string_dup(&pairs[1].f1, value);
    exports_kind_settings_t settings = {copy(pairs, sizeof pairs), 2};
    weir_world_string_t err = {0};
    bool ok = exports_kind_init(&settings, &err);
    if (!ok) {
        snprintf(last_log, sizeof last_log, "%.*s", (int)err.len, err.ptr);
        weir_world_string_free(&err);
    }
    return ok;
}

static bool has_error(exports_kind_list_record_error_t e, uint32_t index, const char *message) {
    for (size_t i = 0; i < e.len; i++)
        if (e.ptr[i].index == index)
            return str_eq(e.ptr[i].message, message);
    return false;
}

static const char *values[] = {"keep", "view", "drop", "fail", "fail-silently", "fail-and-keep", "two-labels"};
#define N 7

#ifdef WEIR_KIND_FILTER
static void test_kind(void) {
    exports_kind_batch_t b = batch_of(values, N);
    exports_kind_verdicts_t v;
    exports_kind_process(&b, &v);
    CHECK(v.keep.len == 0 && v.keep.ptr == NULL); /* not initialised */
    CHECK(v.errors.len == N && has_error(v.errors, 6, "plugin not initialised"));
    exports_kind_verdicts_free(&v);

    CHECK(init_with("min_amount", " 2.5 ") && min_amount == 2.5);
    b = batch_of(values, N);
    exports_kind_process(&b, &v);
    CHECK(v.keep.len == 3 && v.keep.ptr[0] == 0 && v.keep.ptr[1] == 1 && v.keep.ptr[2] == 6);
    CHECK(v.errors.len == 3);
    CHECK(has_error(v.errors, 3, "boom"));
    CHECK(has_error(v.errors, 4, "the plugin failed the record without a message"));
    CHECK(has_error(v.errors, 5, "first"));
    exports_kind_verdicts_free(&v);

    b = batch_of(values, 0);
    exports_kind_process(&b, &v);
    CHECK(v.keep.len == 0 && v.keep.ptr == NULL && v.errors.len == 0 && v.errors.ptr == NULL);
}
#endif

#ifdef WEIR_KIND_SCORER
static void test_kind(void) {
    CHECK(init_with("x", "y"));
    exports_kind_batch_t b = batch_of(values, N);
    exports_kind_scores_t s;
    exports_kind_process(&b, &s);
    CHECK(s.scores.len == N && s.scores.ptr[0] == 0.5 && s.scores.ptr[6] == 6.5);
    CHECK(s.scores.ptr[3] == 0 && s.scores.ptr[4] == 0 && s.scores.ptr[5] == 0);
    /* Labels of failed records (3, 4, 5) are dropped. */
    CHECK(s.labels.len == 5);
    for (size_t i = 0; i < s.labels.len; i++)
        CHECK(s.labels.ptr[i].index < 3 || s.labels.ptr[i].index == 6);
    CHECK(s.labels.ptr[4].index == 6 && str_eq(s.labels.ptr[4].text, "two"));
    CHECK(s.errors.len == 3 && has_error(s.errors, 5, "first"));
    exports_kind_scores_free(&s);
}
#endif

static void test_settings(void) {
    CHECK(!init_with("min_amount", "abc"));
    CHECK(strcmp(last_log, "setting `min_amount`: cannot parse \"abc\" as a number") == 0);
    CHECK(!init_with("min_amount", ""));
    CHECK(init_with("min_amount", "1e3") && min_amount == 1000);
    weir_log(WEIR_WARN, "careful");
    CHECK(strcmp(last_log, "3 careful") == 0);
}

static void test_json(void) {
    static const struct {
        const char *json, *error;
        double value;
    } cases[] = {
        {"{\"amount\":12.5}", NULL, 12.5},
        {" {\"a\":[1,{\"amount\":\"x\"}],\"amount\":-3e2 } ", NULL, -300},
        {"{\"s\":\"q\\\"\\u00e9\\n\",\"amount\":0}", NULL, 0},
        {"{\"amount\":1,\"amount\":2}", "duplicate field `amount`", 0},
        {"{\"amount\":\"1\"}", "`amount` is not a number", 0},
        {"{\"amount\":null}", "`amount` is not a number", 0},
        {"{}", "missing field `amount`", 0},
        {"[1]", "not a JSON object", 0},
        {"", "invalid JSON at byte 0", 0},
        {"{\"amount\":01}", "invalid JSON at byte 11", 0},
        {"{\"amount\":1.}", "invalid JSON at byte 12", 0},
        {"{\"amount\":1}x", "invalid JSON at byte 12", 0},
        {"{\"amount\":1,}", "invalid JSON at byte 12", 0},
        {"{\"s\":\"\\x\",\"amount\":1}", "invalid JSON at byte 8", 0},
        {"{\"amount\":1e400}", "`amount` is out of range", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        double value = -1;
        weir_bytes json = {(const uint8_t *)cases[i].json, strlen(cases[i].json)};
        const char *error = weir_json_number(json, "amount", &value);
        if (cases[i].error ? !error || strcmp(error, cases[i].error) != 0
                           : error || value != cases[i].value) {
            fprintf(stderr, "json case %zu (%s): got %s / %g\n", i, cases[i].json,
                    error ? error : "no error", value);
            failures++;
        }
    }
    /* Nesting deeper than the limit is refused rather than recursed into. */
    char deep[1000];
    memset(deep, '[', sizeof deep);
    weir_bytes json = {(const uint8_t *)deep, sizeof deep};
    double value;
    CHECK(weir_json_number(json, "amount", &value) != NULL);
}

int main(void) {
    test_kind();
    CHECK(views_checked == 1);
    test_settings();
    test_json();
    if (failures) {
        fprintf(stderr, "%d checks failed\n", failures);
        return 1;
    }
    return 0;
}
