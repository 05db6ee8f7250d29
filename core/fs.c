// File-system helpers.
#include "core/fs.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

int fs_make_dirs(const char *dir, struct err *e) {
    char buf[4096];
    size_t n = strlen(dir);
    if (n == 0 || n >= sizeof buf) return err_user(e, "bad directory name '%s'", dir);
    memcpy(buf, dir, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] != '/' && buf[i] != '\0') continue;
        char c = buf[i];
        buf[i] = '\0';
        if (mkdir(buf, 0777) != 0 && errno != EEXIST)
            return err_user(e, "%s: cannot create directory: %s", buf, strerror(errno));
        buf[i] = c;
    }
    return 0;
}
