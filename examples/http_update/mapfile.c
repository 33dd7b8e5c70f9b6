#define _POSIX_C_SOURCE 200809L

#include "mapfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* Make path through path.tmp: a file of size bytes of fill. */
static int create(const char *path, uint32_t size, uint8_t fill)
{
    size_t n = strlen(path) + 5;
    char *tmp = malloc(n);
    uint8_t buf[4096];
    uint32_t done = 0;
    int fd, rc = -1;

    if (!tmp)
        return -1;
    snprintf(tmp, n, "%s.tmp", path);
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
        fprintf(stderr, "http_update: cannot create %s: %s\n", tmp,
                strerror(errno));
        free(tmp);
        return -1;
    }
    memset(buf, fill, sizeof(buf));
    while (done < size) {
        size_t len = size - done < sizeof(buf) ? size - done : sizeof(buf);
        ssize_t w = write(fd, buf, len);
        if (w <= 0)
            break;
        done += (uint32_t)w;
    }
    if (done == size && close(fd) == 0) {
        fd = -1;
        if (rename(tmp, path) == 0)
            rc = 0;
    }
    if (rc)
        fprintf(stderr, "http_update: cannot create %s: %s\n", path,
                strerror(errno));
    if (fd >= 0)
        close(fd);
    free(tmp);
    return rc;
}

int mapfile_open(struct mapfile *m, const char *path, uint32_t size,
                 uint8_t fill, int lock)
{
    struct stat sb;
    struct flock fl;

    memset(m, 0, sizeof(*m));
    m->fd = -1;
    if (access(path, F_OK) != 0 && create(path, size, fill) != 0)
        return -1;
    m->fd = open(path, O_RDWR);
    if (m->fd < 0 || fstat(m->fd, &sb) != 0) {
        fprintf(stderr, "http_update: cannot open %s: %s\n", path,
                strerror(errno));
        mapfile_close(m);
        return -1;
    }
    if ((uint64_t)sb.st_size != size) {
        fprintf(stderr,
                "http_update: %s is %lld bytes, this device has %u (remove "
                "it to start with an erased part)\n",
                path, (long long)sb.st_size, size);
        mapfile_close(m);
        return -1;
    }
    if (lock) {
        memset(&fl, 0, sizeof(fl));
        fl.l_type = F_WRLCK;
        fl.l_whence = SEEK_SET;
        if (fcntl(m->fd, F_SETLK, &fl) != 0) {
            fprintf(stderr, "http_update: %s is in use by another process\n",
                    path);
            mapfile_close(m);
            return -1;
        }
    }
    m->mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, m->fd, 0);
    if (m->mem == MAP_FAILED) {
        fprintf(stderr, "http_update: cannot map %s: %s\n", path,
                strerror(errno));
        m->mem = NULL;
        mapfile_close(m);
        return -1;
    }
    m->size = size;
    return 0;
}

void mapfile_close(struct mapfile *m)
{
    if (m->mem)
        munmap(m->mem, m->size);
    if (m->fd >= 0)
        close(m->fd);
    m->mem = NULL;
    m->fd = -1;
}
