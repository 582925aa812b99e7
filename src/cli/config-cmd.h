/* orbctl config: the configuration service's commands over the bus. */
#pragma once

#include <stdbool.h>

/* config [--session NAME] COMMAND ARGS (argv[0] is "config").
 * Return: orbctl's exit code. */
int config_cmd(const char *bus_path, const char *control_path, bool json, int argc, char **argv);
