/*
 * {{name}}: a scorer that scores card transactions by amount: `amount /
 * 1000`, at most 1, with the label `large` from 500 on.
 */
#include "weir_json.h"
#include "weir_plugin.h"

const char *weir_init(const weir_settings *settings) {
    (void)settings;
    return 0;
}

int weir_score(const weir_record *r, double *score) {
    double amount;
    if (weir_json_number(r->value, "amount", &amount))
        return weir_fail(r, "`amount` is not a number");
    *score = amount / 1000 < 1 ? amount / 1000 : 1;
    if (amount >= 500)
        weir_label(r, "large");
    return 0;
}
