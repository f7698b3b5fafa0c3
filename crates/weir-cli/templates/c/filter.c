/*
 * {{name}}: a filter that keeps card transactions whose `amount` is above
 * the `min_amount` setting (default 100).
 */
#include "weir_json.h"
#include "weir_plugin.h"

static double min_amount = 100;

const char *weir_init(const weir_settings *settings) {
    return weir_setting_number(settings, "min_amount", &min_amount);
}

int weir_keep(const weir_record *r) {
    double amount;
    if (weir_json_number(r->value, "amount", &amount))
        return weir_fail(r, "`amount` is not a number");
    return amount > min_amount;
}
