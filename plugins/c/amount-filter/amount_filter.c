/*
 * Filter plugin: keeps card transactions whose `amount` is above the
 * `min_amount` setting (the C twin of plugins/rust/amount-filter). A record
 * whose value is not a JSON object with a numeric `amount` fails alone.
 */
#include "weir_json.h"
#include "weir_plugin.h"

static double min_amount;

const char *weir_init(const weir_settings *settings) {
    return weir_setting_require_number(settings, "min_amount", &min_amount);
}

int weir_keep(const weir_record *r) {
    double amount;
    const char *why = weir_json_number(r->value, "amount", &amount);
    if (why)
        return weir_fail(r, why);
    return amount > min_amount;
}
