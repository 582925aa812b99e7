/* Default locations shared by orbitald and orbctl. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "util/paths.h"

char *orbital_default_run_dir(char *buf, size_t n)
{
        const char *xdg = getenv("XDG_RUNTIME_DIR");

        if (geteuid() == 0)
                snprintf(buf, n, "/run/orbital");
        else if (xdg && *xdg)
                snprintf(buf, n, "%s/orbital", xdg);
        else
                snprintf(buf, n, "/tmp/orbital-%u", (unsigned)geteuid());
        return buf;
}

char *orbital_default_socket(char *buf, size_t n)
{
        const char *env = getenv("ORBITAL_SOCKET");
        char dir[4000];

        if (env && *env)
                snprintf(buf, n, "%s", env);
        else
                snprintf(buf, n, "%s/control", orbital_default_run_dir(dir, sizeof(dir)));
        return buf;
}
