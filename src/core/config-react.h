/*
 * Reactions to configuration commits (issue 5): orb-config publishes each
 * commit on "config.committed" with the paths it changed; a manifest's
 * `config: {watch: [...], on-change: restart | reload}` binds a service to
 * paths, and orbitald restarts (or sends SIGHUP to) each bound service
 * whose paths changed, in dependency order.
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>

struct supervisor;

/* Does a change of @path concern @watch?  Paths compare by segments:
 * "net.iface" covers "net.iface[eth0].mtu", not "net.iface2". */
bool config_path_covers(const char *watch, const char *path);

/*
 * config_affected() - the services bound to any of @paths (a JSON array of
 * changed paths), in dependency order, as [{"service", "action"}].
 * Return: a new array, NULL without memory.
 */
json_t *config_affected(const struct supervisor *sup, const json_t *paths);

/*
 * config_react() - act on one config.committed event (@data: its JSON):
 * restart or reload every running service bound to a changed path, and
 * log why in each service's log.  A malformed event is ignored (logged).
 */
void config_react(struct supervisor *sup, const char *publisher, const void *data, size_t len);
