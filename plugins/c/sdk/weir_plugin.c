/*
 * weir_plugin.c: the glue between the plugin's functions (weir_plugin.h)
 * and the bindings wit-bindgen generates for the kind's world.
 *
 * `weir plugin build` generates the bindings with the world renamed `weir_world`
 * and the kind's interface renamed to `kind`, so the generated names are the
 * same for every kind (weir_world.h, exports_kind_init, ...); this file is
 * compiled with -DWEIR_KIND_FILTER or -DWEIR_KIND_SCORER to pick the
 * `process` to export.
 *
 * Memory: the canonical ABI hands the export's arguments over as allocations
 * this module owns (freed here once the batch is decided), and the results
 * are freed by the generated post-return functions after weir has read them,
 * which free a list only when its length is not zero; so an empty result
 * list must not hold an allocation.
 */
#include "weir_plugin.h"
#include "weir_world.h"

#include <stdlib.h>
#include <string.h>

#if defined(WEIR_KIND_FILTER) + defined(WEIR_KIND_SCORER) != 1
#error "compile with exactly one of -DWEIR_KIND_FILTER, -DWEIR_KIND_SCORER"
#endif

/* What the Rust SDK answers for records processed after a failed init. */
#define NOT_INITIALISED "plugin not initialised"

struct weir_settings {
    const exports_kind_settings_t *list;
};

static bool initialised;

/* The batch being processed and the failures of its records so far. */
static const exports_kind_batch_t *batch;
static struct {
    exports_kind_record_error_t *ptr;
    size_t len, cap;
} errors;
/* Whether the record being decided has failed. */
static bool failed;

/* Makes room for one more item in a growable list; out of memory traps. */
static void *reserve(void *ptr, size_t len, size_t *cap, size_t size) {
    if (len < *cap)
        return ptr;
    *cap = *cap ? *cap * 2 : 16;
    ptr = realloc(ptr, *cap * size);
    if (!ptr)
        abort();
    return ptr;
}

/* A list handed to weir: an empty one owns no allocation (see the top). */
#define HAND_OVER(list, items, count)                                                              \
    do {                                                                                           \
        if ((count) == 0) {                                                                        \
            free(items);                                                                           \
            (list).ptr = NULL;                                                                     \
        } else {                                                                                   \
            (list).ptr = (items);                                                                  \
        }                                                                                          \
        (list).len = (count);                                                                      \
    } while (0)

bool weir_bytes_eq(weir_bytes b, const char *s) {
    size_t n = strlen(s);
    return b.len == n && memcmp(b.ptr, s, n) == 0;
}

static weir_bytes bytes_of(const uint8_t *ptr, size_t len) { return (weir_bytes){ptr, len}; }

/* Item `i` of a buffer cut by end offsets (the `*-ends` columns). weir
 * builds consistent columns; if they are not, the call traps rather than
 * read outside the buffer. */
static weir_bytes item(const uint8_t *data, size_t data_len, const uint32_t *ends, size_t i) {
    uint32_t start = i ? ends[i - 1] : 0, end = ends[i];
    if (start > end || end > data_len)
        __builtin_trap();
    return bytes_of(data + start, end - start);
}

/* The number of records of `b`, after checking that every per-record column
 * has one entry per record. */
static size_t record_count(const exports_kind_batch_t *b) {
    const weir_plugin_types_columns_t *c = &b->records;
    size_t n = c->value_ends.len;
    if (c->key_ends.len != n || c->has_key.len != n || c->header_ends.len != n ||
        b->timestamps.len != n || b->position_ends.len != n)
        __builtin_trap();
    return n;
}

static weir_record record_at(const exports_kind_batch_t *b, uint32_t i) {
    const weir_plugin_types_columns_t *c = &b->records;
    weir_record r;
    r.index = i;
    r.value = item(c->values.ptr, c->values.len, c->value_ends.ptr, i);
    r.has_key = c->has_key.ptr[i] != 0;
    r.key = item(c->keys.ptr, c->keys.len, c->key_ends.ptr, i);
    r.timestamp_ms = b->timestamps.ptr[i];
    r.position = item(b->positions.ptr, b->positions.len, b->position_ends.ptr, i);
    r.origin = bytes_of(b->origin.ptr, b->origin.len);
    r.partition = bytes_of(b->partition.ptr, b->partition.len);
    r.first_header = i ? c->header_ends.ptr[i - 1] : 0;
    if (c->header_ends.ptr[i] < r.first_header ||
        (size_t)c->header_ends.ptr[i] * 2 > c->header_data_ends.len)
        __builtin_trap();
    r.header_count = c->header_ends.ptr[i] - r.first_header;
    return r;
}

void weir_header(const weir_record *r, uint32_t i, weir_bytes *name, weir_bytes *value) {
    const weir_plugin_types_columns_t *c = &batch->records;
    size_t h = (size_t)r->first_header + i;
    if (i >= r->header_count)
        __builtin_trap();
    *name = item(c->header_data.ptr, c->header_data.len, c->header_data_ends.ptr, 2 * h);
    *value = item(c->header_data.ptr, c->header_data.len, c->header_data_ends.ptr, 2 * h + 1);
}

bool weir_header_get(const weir_record *r, const char *name, weir_bytes *value) {
    for (uint32_t i = 0; i < r->header_count; i++) {
        weir_bytes n, v;
        weir_header(r, i, &n, &v);
        if (weir_bytes_eq(n, name)) {
            *value = v;
            return true;
        }
    }
    return false;
}

int weir_fail_n(const weir_record *r, const char *message, size_t len) {
    /* A record fails once: the first message is the one reported. */
    if (!batch || failed)
        return WEIR_FAILED;
    failed = true;
    errors.ptr = reserve(errors.ptr, errors.len, &errors.cap, sizeof *errors.ptr);
    exports_kind_record_error_t *e = &errors.ptr[errors.len++];
    e->index = r->index;
    weir_world_string_dup_n(&e->message, message, len);
    return WEIR_FAILED;
}

int weir_fail(const weir_record *r, const char *message) {
    return weir_fail_n(r, message, strlen(message));
}

/* Settings. */

bool weir_setting(const weir_settings *s, const char *key, weir_bytes *value) {
    for (size_t i = s->list->len; i-- > 0;) {
        const weir_world_tuple2_string_string_t *kv = &s->list->ptr[i];
        if (weir_bytes_eq(bytes_of(kv->f0.ptr, kv->f0.len), key)) {
            *value = bytes_of(kv->f1.ptr, kv->f1.len);
            return true;
        }
    }
    return false;
}

/* The message of a bad setting, kept until the next one. */
static char setting_message[256];

static void append(size_t *n, const void *text, size_t len) {
    size_t room = sizeof setting_message - 1 - *n;
    if (len > room)
        len = room;
    memcpy(setting_message + *n, text, len);
    *n += len;
    setting_message[*n] = 0;
}

static const char *setting_error(const char *key, const weir_bytes *raw) {
    size_t n = 0;
    append(&n, "setting `", 9);
    append(&n, key, strlen(key) > 64 ? 64 : strlen(key));
    if (!raw) {
        append(&n, "` is required but not set", 25);
    } else {
        append(&n, "`: cannot parse \"", 17);
        append(&n, raw->ptr, raw->len > 64 ? 64 : raw->len);
        append(&n, "\" as a number", 13);
    }
    return setting_message;
}

static bool is_space(uint8_t c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

/* A whole trimmed string as a number (strtod wants a terminated copy). */
static bool parse_number(weir_bytes raw, double *value) {
    const uint8_t *p = raw.ptr, *end = raw.ptr + raw.len;
    while (p < end && is_space(*p))
        p++;
    while (end > p && is_space(end[-1]))
        end--;
    char text[64];
    size_t len = (size_t)(end - p);
    if (len == 0 || len >= sizeof text)
        return false;
    memcpy(text, p, len);
    text[len] = 0;
    char *stop;
    double x = strtod(text, &stop);
    if (stop != text + len)
        return false;
    *value = x;
    return true;
}

const char *weir_setting_number(const weir_settings *s, const char *key, double *value) {
    weir_bytes raw;
    if (!weir_setting(s, key, &raw))
        return NULL;
    return parse_number(raw, value) ? NULL : setting_error(key, &raw);
}

const char *weir_setting_require_number(const weir_settings *s, const char *key, double *value) {
    weir_bytes raw;
    if (!weir_setting(s, key, &raw))
        return setting_error(key, NULL);
    return parse_number(raw, value) ? NULL : setting_error(key, &raw);
}

void weir_log(weir_level level, const char *message) {
    weir_world_string_t text = {(uint8_t *)message, strlen(message)};
    weir_plugin_log_log((weir_plugin_log_level_t)level, &text);
}

/* The exports. */

bool exports_kind_init(exports_kind_settings_t *settings, weir_world_string_t *err) {
    weir_settings s = {settings};
    const char *message = weir_init(&s);
    initialised = message == NULL;
    if (message)
        weir_world_string_dup(err, message);
    exports_kind_settings_free(settings);
    return initialised;
}

/* Starts deciding a batch; returns its number of records. */
static size_t begin(const exports_kind_batch_t *b) {
    batch = b;
    errors.ptr = NULL;
    errors.len = errors.cap = 0;
    return record_count(b);
}

/* The outcome of a record whose function answered `answer`: WEIR_FAILED
 * when it failed (with or without a message), else the answer. */
static int settle(const weir_record *r, int answer) {
    if (answer < 0 && !failed)
        weir_fail(r, "the plugin failed the record without a message");
    return failed ? WEIR_FAILED : answer;
}

/* Ends a batch: hands over the errors and frees the batch. */
static void end(exports_kind_batch_t *b, exports_kind_list_record_error_t *out) {
    HAND_OVER(*out, errors.ptr, errors.len);
    exports_kind_batch_free(b);
    batch = NULL;
}

#ifdef WEIR_KIND_FILTER
void exports_kind_process(exports_kind_batch_t *b, exports_kind_verdicts_t *ret) {
    size_t n = begin(b), kept = 0;
    uint32_t *keep = malloc(n * sizeof *keep);
    if (n && !keep)
        abort();
    for (uint32_t i = 0; i < n; i++) {
        weir_record r = record_at(b, i);
        failed = false;
        int answer = initialised ? weir_keep(&r) : weir_fail(&r, NOT_INITIALISED);
        if (settle(&r, answer) > 0)
            keep[kept++] = i;
    }
    HAND_OVER(ret->keep, keep, kept);
    end(b, &ret->errors);
}
#endif

#ifdef WEIR_KIND_SCORER
static struct {
    exports_kind_label_t *ptr;
    size_t len, cap;
} labels;
/* Whether weir_score is running (labels are taken only then). */
static bool scoring;

void weir_label(const weir_record *r, const char *text) {
    if (!scoring)
        return;
    labels.ptr = reserve(labels.ptr, labels.len, &labels.cap, sizeof *labels.ptr);
    exports_kind_label_t *l = &labels.ptr[labels.len++];
    l->index = r->index;
    weir_world_string_dup(&l->text, text);
}

void exports_kind_process(exports_kind_batch_t *b, exports_kind_scores_t *ret) {
    size_t n = begin(b);
    double *scores = malloc(n * sizeof *scores);
    if (n && !scores)
        abort();
    labels.ptr = NULL;
    labels.len = labels.cap = 0;
    for (uint32_t i = 0; i < n; i++) {
        weir_record r = record_at(b, i);
        size_t first_label = labels.len;
        double score = 0;
        failed = false;
        scoring = true;
        int answer = initialised ? weir_score(&r, &score) : weir_fail(&r, NOT_INITIALISED);
        scoring = false;
        if (settle(&r, answer) < 0) {
            /* A failed record has no score and no reasons. */
            score = 0;
            while (labels.len > first_label)
                weir_world_string_free(&labels.ptr[--labels.len].text);
        }
        scores[i] = score;
    }
    HAND_OVER(ret->scores, scores, n);
    HAND_OVER(ret->labels, labels.ptr, labels.len);
    end(b, &ret->errors);
}
#endif
