/* engine: see engine.h. The engines built into this program. */
#include "engine.h"

#include <string.h>

extern const struct engine_ops engine_fwresume;

static const struct engine_ops *const builtin[] = {&engine_fwresume};

const struct engine_ops *engine_find(const char *name)
{
    size_t i;
    for (i = 0; i < sizeof(builtin) / sizeof(builtin[0]); i++)
        if (!strcmp(builtin[i]->name, name))
            return builtin[i];
    return NULL;
}

const struct engine_ops *engine_default(void)
{
    return builtin[0];
}
