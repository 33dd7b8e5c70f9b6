/* Shared objects that are not engines of this fotasim, for the loader's
 * error paths (cli_engine.sh): built with -DWRONG_ABI it exports an
 * engine of another ABI; without, no fotasim_engine() at all. */
#include "engine.h"

#ifdef WRONG_ABI
static const struct engine_ops ops = {.abi = ENGINE_ABI + 998,
                                      .name = "from-the-future"};

__attribute__((visibility("default"))) const struct engine_ops *
fotasim_engine(void)
{
    return &ops;
}
#else
__attribute__((visibility("default"))) int not_an_engine(void)
{
    return 42;
}
#endif
