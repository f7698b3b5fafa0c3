/*
 * weir_plugin.h: write weir plugins in C.
 *
 * A plugin is one kind (its weir-plugin.toml says which) and defines that
 * kind's functions; the SDK (weir_plugin.c) exports them to weir and turns
 * the columnar batch weir hands over into one call per record:
 *
 *   kind = "filter":  int weir_keep(const weir_record *r);
 *                     1 keeps the record, 0 drops it.
 *   kind = "scorer":  int weir_score(const weir_record *r, double *score);
 *                     0 after setting *score (and adding reasons with
 *                     weir_label).
 *
 * Every kind also defines
 *
 *   const char *weir_init(const weir_settings *settings);
 *
 * called once per instance before any record: it returns NULL, or a message
 * that rejects the plugin.
 *
 * A record the plugin cannot handle fails alone: `return weir_fail(r, "why");`
 * sends it to the pipeline's failure destination with that message while the
 * other records of the batch keep their outcomes.
 *
 * Build with `weir plugin build`, which generates the bindings of the kind's
 * world (wit-bindgen's C generator) and compiles this SDK with -DWEIR_KIND_FILTER or
 * -DWEIR_KIND_SCORER. The plugin may also call the generated host bindings
 * (weir_world.h: weir_plugin_state_get, weir_plugin_metrics_counter_add, ...).
 *
 * The SDK uses no libc I/O, so a plugin that does not either needs no WASI
 * grant. Strings handed to the plugin are not NUL-terminated.
 */
#ifndef WEIR_PLUGIN_H
#define WEIR_PLUGIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bytes owned by the SDK, valid for the duration of the call that gave them. */
typedef struct {
    const uint8_t *ptr;
    size_t len;
} weir_bytes;

/* Whether `b` holds exactly the NUL-terminated string `s`. */
bool weir_bytes_eq(weir_bytes b, const char *s);

/* One record of the batch being processed: a view into the batch's columns,
 * valid until the plugin's function returns. */
typedef struct {
    /* Index of the record in its batch. */
    uint32_t index;
    /* The payload (usually JSON). */
    weir_bytes value;
    /* Whether the record has a key; an absent key differs from an empty one. */
    bool has_key;
    /* The key (empty when has_key is false). */
    weir_bytes key;
    /* When the record was produced, ms since the Unix epoch. */
    int64_t timestamp_ms;
    /* Where it sits in its partition: a Kafka offset or Kinesis sequence
     * number, in decimal digits. */
    weir_bytes position;
    /* The topic or stream and the partition or shard of the whole batch. */
    weir_bytes origin;
    weir_bytes partition;
    /* Number of headers; read them with weir_header / weir_header_get. */
    uint32_t header_count;
    /* Index of the first header in the batch (used by weir_header). */
    uint32_t first_header;
} weir_record;

/* Header `i` (0 <= i < r->header_count): its name (UTF-8) and value. */
void weir_header(const weir_record *r, uint32_t i, weir_bytes *name, weir_bytes *value);

/* The value of the first header called `name`; false when there is none. */
bool weir_header_get(const weir_record *r, const char *name, weir_bytes *value);

/* Fails record `r` alone with `message` (copied); returns WEIR_FAILED, so
 * `return weir_fail(r, "...");` ends the record's function. A record that
 * failed is neither kept nor scored, whatever the function returns. */
#define WEIR_FAILED (-1)
int weir_fail(const weir_record *r, const char *message);
/* weir_fail with a message of `len` bytes, not NUL-terminated. */
int weir_fail_n(const weir_record *r, const char *message, size_t len);

/* Adds the reason `text` (copied) to record `r`'s score. Scorers only, from
 * weir_score (ignored elsewhere); the reasons of a record that fails are
 * dropped. */
void weir_label(const weir_record *r, const char *text);

/* The settings of the stage from the pipeline config, valid during weir_init
 * only (copy what must outlive it). A key set twice keeps its last value. */
typedef struct weir_settings weir_settings;

/* The value of setting `key`; false when it is not set. */
bool weir_setting(const weir_settings *s, const char *key, weir_bytes *value);

/* Setting `key` read as a number into *value; when it is not set, *value is
 * left as it is (the default). Returns NULL, or an error message for
 * weir_init to return (`setting `key`: cannot parse "abc" as a number`). */
const char *weir_setting_number(const weir_settings *s, const char *key, double *value);

/* Like weir_setting_number, but a missing setting is an error too
 * (`setting `key` is required but not set`). */
const char *weir_setting_require_number(const weir_settings *s, const char *key, double *value);

/* Log levels, lowest first. */
typedef enum {
    WEIR_TRACE,
    WEIR_DEBUG,
    WEIR_INFO,
    WEIR_WARN,
    WEIR_ERROR,
} weir_level;

/* Writes one line to weir's log, under the plugin's name. */
void weir_log(weir_level level, const char *message);

/* The plugin's functions, which the SDK calls (see the top of this file). */
const char *weir_init(const weir_settings *settings);
int weir_keep(const weir_record *r);
int weir_score(const weir_record *r, double *score);

#ifdef __cplusplus
}
#endif

#endif
