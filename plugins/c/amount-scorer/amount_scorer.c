/*
 * Scorer plugin: scores card transactions by size, min(amount / threshold, 1),
 * with the reason `large` when amount >= threshold. Setting `threshold`
 * (default 1000) must be above 0. A record whose value is not a JSON object
 * with a numeric `amount` fails alone.
 */
#include "weir_json.h"
#include "weir_plugin.h"

static double threshold = 1000;

const char *weir_init(const weir_settings *settings) {
    const char *error = weir_setting_number(settings, "threshold", &threshold);
    if (error)
        return error;
    if (!(threshold > 0))
        return "setting `threshold` must be above 0";
    return 0;
}

int weir_score(const weir_record *r, double *score) {
    double amount;
    const char *why = weir_json_number(r->value, "amount", &amount);
    if (why)
        return weir_fail(r, why);
    *score = amount >= threshold ? 1.0 : amount / threshold;
    if (amount >= threshold)
        weir_label(r, "large");
    return 0;
}
