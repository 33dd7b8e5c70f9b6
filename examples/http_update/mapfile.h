/*
 * mapfile: a file of a fixed size mapped MAP_SHARED, so every store into
 * the mapping is in the kernel's page cache the moment it is made and
 * survives the process's death (SIGKILL included): another process that
 * reads the file afterwards sees exactly the stores made before the kill.
 */
#ifndef MAPFILE_H
#define MAPFILE_H

#include <stdint.h>

struct mapfile {
    void *mem;
    uint32_t size;
    int fd;
};

/*
 * Map path, size bytes. When the file does not exist it is made through
 * path.tmp (filled with fill, then renamed), so a kill during creation
 * never leaves a half-made file under path. An existing file of another
 * size is refused. With lock, an exclusive fcntl lock is taken: a second
 * process on the same file is refused. 0, or -1 with a message on stderr.
 */
int mapfile_open(struct mapfile *m, const char *path, uint32_t size,
                 uint8_t fill, int lock);
void mapfile_close(struct mapfile *m);

#endif /* MAPFILE_H */
