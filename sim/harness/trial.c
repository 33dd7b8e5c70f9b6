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

const char *fwr_error_name(int err)
{
    static const char *const names[] = {
        "FWR_OK",
        "FWR_E_INVAL (bad argument or inconsistent configuration)",
        "FWR_E_GEOMETRY (sizes or alignments the engine cannot work with)",
        "FWR_E_NOSPC (record area too small for the image's blocks)",
        "FWR_E_IO (a flash op returned an error)",
        "FWR_E_PROG (program read-back mismatch beyond the retries)",
        "FWR_E_ERASE (erase failed beyond the retries)",
        "FWR_E_HASH (a hash op returned an error)",
        "FWR_E_STATE (call not valid in the current state)",
        "FWR_E_RANGE (fed more bytes than the range holds)",
        "FWR_E_AGAIN (transfer invalidated)",
        "FWR_E_DIGEST (image digest mismatch beyond the restarts)",
        "FWR_E_LOCKED (image complete and locked)",
        "FWR_E_BADBLOCK (no good erase unit left)"};
    if (err <= 0 && -err < (int)(sizeof(names) / sizeof(names[0])))
        return names[-err];
    return "unknown engine error";
}
