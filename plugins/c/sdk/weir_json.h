/*
 * weir_json.h: read one number out of a JSON record value, without a JSON
 * library.
 */
#ifndef WEIR_JSON_H
#define WEIR_JSON_H

#include "weir_plugin.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Reads the member `name` of the JSON object `json` as a number into *value.
 * The whole value is checked to be one well-formed JSON object (as a JSON
 * parser would before handing out a field), `name` must be a member exactly
 * once (its key written without escapes) and its value a finite JSON number.
 * Returns NULL, or a message saying what is wrong, e.g. "missing field
 * `amount`", "`amount` is not a number", "invalid JSON at byte 3". The
 * message is static text valid until the next call. */
const char *weir_json_number(weir_bytes json, const char *name, double *value);

#ifdef __cplusplus
}
#endif

#endif
