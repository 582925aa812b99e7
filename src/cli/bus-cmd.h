/* orbctl's bus commands: they speak to services through liborbital, as
 * any client does, with the caller's own identity. */
#pragma once

#include <stdbool.h>

/* call SERVICE METHOD [JSON] | subscribe TOPIC | publish TOPIC TEXT.
 * Return: orbctl's exit code. */
int bus_cmd(const char *bus_path, bool json, int argc, char **argv);
