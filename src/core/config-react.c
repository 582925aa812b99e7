/*
 * Reactions to configuration commits: see config-react.h.
 */
#include <signal.h>
#include <string.h>

#include "config-react.h"
#include "supervisor/spawn.h"
#include "supervisor/supervisor.h"
#include "util/log.h"

bool config_path_covers(const char *watch, const char *path)
{
        size_t n = strlen(watch);

        if (!n)
                return true;
        return !strncmp(watch, path, n) && (path[n] == '\0' || path[n] == '.' || path[n] == '[');
}

/* The first changed path @svc watches, or NULL. */
static const char *watched_change(const struct service *svc, const json_t *paths)
{
        char *const *w = svc->spec->config.watch;
        const json_t *p;
        size_t i;

        for (; w && *w; w++)
                json_array_foreach(paths, i, p) {
                        const char *path = json_string_value(p);
                        /* "coarse" events carry subtrees: either may contain the other */
                        if (path && (config_path_covers(*w, path) || config_path_covers(path, *w)))
                                return path;
                }
        return NULL;
}

static const char *action_name(enum config_action a)
{
        return a == CONFIG_RELOAD ? "reload" : "restart";
}

json_t *config_affected(const struct supervisor *sup, const json_t *paths)
{
        json_t *out = json_array();

        for (unsigned i = 0; out && i < sup->n_services; i++) {
                const struct service *svc = sup->services[i];
                if (!svc->is_removed && watched_change(svc, paths))
                        json_array_append_new(out, json_pack("{s:s, s:s}", "service", svc->spec->name, "action",
                                                             action_name(svc->spec->config.on_change)));
        }
        return out;
}

void config_react(struct supervisor *sup, const char *publisher, const void *data, size_t len)
{
        json_error_t err;
        json_t *ev = json_loadb(data, len, 0, &err), *paths = json_object_get(ev, "paths");
        json_int_t id = json_integer_value(json_object_get(ev, "id"));

        if (!json_is_array(paths)) {
                log_warn("config: ignoring a config.committed event from %s: %s", publisher,
                         ev ? "no \"paths\" array" : err.text);
                json_decref(ev);
                return;
        }
        /* services[] is in dependency order: what others need goes first */
        for (unsigned i = 0; i < sup->n_services; i++) {
                struct service *svc = sup->services[i];
                const char *path = svc->is_removed ? NULL : watched_change(svc, paths);

                if (!path || !svc->main.pid)
                        continue;
                service_log(svc, "config: commit %lld changed %s: %s", (long long)id, path,
                            action_name(svc->spec->config.on_change));
                if (svc->spec->config.on_change == CONFIG_RELOAD)
                        pidfd_signal(svc->main.pidfd, svc->main.pid, SIGHUP);
                else
                        sup_request(sup, svc, SUP_OP_RESTART);
        }
        json_decref(ev);
}
