/* Verdict names and which verdicts fail a run (docs/fault-model.md). */
#include "trial.h"

#include <string.h>

const char *verdict_name(enum verdict v)
{
    static const char *const names[VERDICT_COUNT] = {
        "recovered",         "recovered_extra", "detected_failure",
        "silent_corruption", "stuck",           "out_of_partition",
        "rule_violation",    "unexpected_error", "over_budget",
        "format_violation",  "contract_violation"};
    return (unsigned)v < VERDICT_COUNT ? names[v] : "unknown";
}

static const char *const cut_area_names[CUT_AREA_COUNT] = {"data", "record",
                                                           "mirror"};

const char *cut_area_name(unsigned area)
{
    return area < CUT_AREA_COUNT ? cut_area_names[area] : "?";
}

int cut_area_parse(const char *name)
{
    int i;
    for (i = 0; name && i < CUT_AREA_COUNT; i++)
        if (!strcmp(name, cut_area_names[i]))
            return i;
    return -1;
}

int verdict_is_failure(enum verdict v, int allow_detected_failure)
{
    switch (v) {
    case VERDICT_RECOVERED:
    case VERDICT_RECOVERED_EXTRA:
        return 0;
    case VERDICT_DETECTED_FAILURE:
        return !allow_detected_failure;
    default:
        return 1;
    }
}

int verdict_is_unsafe(enum verdict v)
{
    return v == VERDICT_SILENT_CORRUPTION || v == VERDICT_STUCK ||
           v == VERDICT_OUT_OF_PARTITION || v == VERDICT_RULE_VIOLATION ||
           v == VERDICT_FORMAT_VIOLATION || v == VERDICT_CONTRACT_VIOLATION;
}
