/* Verdict names and which verdicts fail a run (docs/fault-model.md). */
#include "trial.h"

const char *verdict_name(enum verdict v)
{
    static const char *const names[VERDICT_COUNT] = {
        "recovered",         "recovered_extra", "detected_failure",
        "silent_corruption", "stuck",           "out_of_partition",
        "rule_violation",    "unexpected_error"};
    return (unsigned)v < VERDICT_COUNT ? names[v] : "unknown";
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
