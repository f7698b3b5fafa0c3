/*
 * weir_json.c: a validating JSON scanner that finds one top-level number.
 *
 * It walks the value once, checking the JSON grammar (RFC 8259) and
 * remembering where the wanted member's number is, then converts just that
 * number with strtod (correctly rounded, and a few KB of code where a JSON
 * library or printf would add a hundred).
 */
#include "weir_json.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Nesting deeper than this is refused, as serde_json does, so that hostile
 * input cannot exhaust the stack. */
#define MAX_DEPTH 128

typedef struct {
    const uint8_t *start, *p, *end;
} cursor;

static void skip_ws(cursor *c) {
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
        c->p++;
}

static bool eat(cursor *c, uint8_t ch) {
    if (c->p < c->end && *c->p == ch) {
        c->p++;
        return true;
    }
    return false;
}

static bool is_digit(const cursor *c) { return c->p < c->end && *c->p >= '0' && *c->p <= '9'; }

static bool is_hex(uint8_t ch) {
    return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F');
}

/* A string, from its opening quote to after its closing one. */
static bool scan_string(cursor *c) {
    if (!eat(c, '"'))
        return false;
    while (c->p < c->end) {
        uint8_t ch = *c->p++;
        if (ch == '"')
            return true;
        if (ch < 0x20)
            return false;
        if (ch == '\\') {
            if (c->p >= c->end)
                return false;
            ch = *c->p++;
            if (ch == 'u') {
                for (int i = 0; i < 4; i++, c->p++)
                    if (c->p >= c->end || !is_hex(*c->p))
                        return false;
            } else if (!strchr("\"\\/bfnrt", ch) || ch == 0) {
                return false;
            }
        }
    }
    return false;
}

/* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static bool scan_number(cursor *c) {
    eat(c, '-');
    if (eat(c, '0')) {
    } else if (is_digit(c)) {
        while (is_digit(c))
            c->p++;
    } else {
        return false;
    }
    if (eat(c, '.')) {
        if (!is_digit(c))
            return false;
        while (is_digit(c))
            c->p++;
    }
    if (eat(c, 'e') || eat(c, 'E')) {
        if (!eat(c, '+'))
            eat(c, '-');
        if (!is_digit(c))
            return false;
        while (is_digit(c))
            c->p++;
    }
    return true;
}

static bool scan_word(cursor *c, const char *word) {
    size_t n = strlen(word);
    if ((size_t)(c->end - c->p) < n || memcmp(c->p, word, n) != 0)
        return false;
    c->p += n;
    return true;
}

static bool scan_value(cursor *c, int depth);

/* The members or items of an object or array, after its opening bracket. */
static bool scan_container(cursor *c, uint8_t close, int depth) {
    if (depth > MAX_DEPTH)
        return false;
    skip_ws(c);
    if (eat(c, close))
        return true;
    for (;;) {
        if (close == '}') {
            if (!scan_string(c))
                return false;
            skip_ws(c);
            if (!eat(c, ':'))
                return false;
        }
        if (!scan_value(c, depth))
            return false;
        skip_ws(c);
        if (eat(c, close))
            return true;
        if (!eat(c, ','))
            return false;
        skip_ws(c);
    }
}

/* Any value, with the whitespace before it. */
static bool scan_value(cursor *c, int depth) {
    skip_ws(c);
    if (c->p >= c->end)
        return false;
    switch (*c->p) {
    case '{':
        c->p++;
        return scan_container(c, '}', depth + 1);
    case '[':
        c->p++;
        return scan_container(c, ']', depth + 1);
    case '"':
        return scan_string(c);
    case 't':
        return scan_word(c, "true");
    case 'f':
        return scan_word(c, "false");
    case 'n':
        return scan_word(c, "null");
    default:
        return scan_number(c);
    }
}

/* The error message; `name` is cut so that it always fits. */
static char message[160];

static const char *say(const char *a, const char *name, const char *b) {
    size_t n = 0;
    const char *parts[3] = {a, name, b};
    for (int i = 0; i < 3; i++) {
        if (!parts[i])
            continue;
        size_t len = strlen(parts[i]);
        if (i == 1 && len > 64)
            len = 64;
        memcpy(message + n, parts[i], len);
        n += len;
    }
    message[n] = 0;
    return message;
}

static const char *invalid_at(const cursor *c) {
    char digits[12];
    size_t at = (size_t)(c->p - c->start), n = sizeof digits - 1;
    digits[n] = 0;
    do {
        digits[--n] = (char)('0' + at % 10);
        at /= 10;
    } while (at && n);
    return say("invalid JSON at byte ", digits + n, NULL);
}

const char *weir_json_number(weir_bytes json, const char *name, double *value) {
    cursor c = {json.ptr, json.ptr, json.ptr + json.len};
    size_t name_len = strlen(name);
    const uint8_t *number = NULL, *number_end = NULL;
    bool found = false, duplicate = false;

    skip_ws(&c);
    if (!eat(&c, '{')) {
        if (!scan_value(&c, 0))
            return invalid_at(&c);
        skip_ws(&c);
        return c.p == c.end ? "not a JSON object" : invalid_at(&c);
    }
    skip_ws(&c);
    if (!eat(&c, '}')) {
        for (;;) {
            const uint8_t *key = c.p + 1;
            if (!scan_string(&c))
                return invalid_at(&c);
            bool wanted = (size_t)(c.p - 1 - key) == name_len && memcmp(key, name, name_len) == 0;
            skip_ws(&c);
            if (!eat(&c, ':'))
                return invalid_at(&c);
            skip_ws(&c);
            const uint8_t *v = c.p;
            if (!scan_value(&c, 1))
                return invalid_at(&c);
            if (wanted) {
                duplicate |= found;
                found = true;
                /* A number is the only value that starts with - or a digit. */
                bool is_number = *v == '-' || (*v >= '0' && *v <= '9');
                number = is_number ? v : NULL;
                number_end = c.p;
            }
            skip_ws(&c);
            if (eat(&c, '}'))
                break;
            if (!eat(&c, ','))
                return invalid_at(&c);
            skip_ws(&c);
        }
    }
    skip_ws(&c);
    if (c.p != c.end)
        return invalid_at(&c);
    if (!found)
        return say("missing field `", name, "`");
    if (duplicate)
        return say("duplicate field `", name, "`");
    if (!number)
        return say("`", name, "` is not a number");

    /* strtod needs a terminated string; numbers are short, long ones get
     * the heap. */
    char small[64], *text = small;
    size_t len = (size_t)(number_end - number);
    if (len >= sizeof small && !(text = malloc(len + 1)))
        return "out of memory";
    memcpy(text, number, len);
    text[len] = 0;
    double x = strtod(text, NULL);
    if (text != small)
        free(text);
    if (isinf(x))
        return say("`", name, "` is out of range");
    *value = x;
    return NULL;
}
