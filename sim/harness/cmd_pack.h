/* fotasim pack / fotasim inspect (cmd_pack.c). */
#ifndef FOTASIM_CMD_PACK_H
#define FOTASIM_CMD_PACK_H

int cmd_pack(int argc, char **argv);
int cmd_inspect(int argc, char **argv);

#endif
