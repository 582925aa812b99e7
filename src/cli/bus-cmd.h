/* orbctl's bus commands: they speak to services through liborbital, as
 * any client does, with the caller's own identity. */
#pragma once

#include <stdbool.h>

/* call SERVICE METHOD [JSON] | subscribe TOPIC | publish TOPIC TEXT.
 * Return: orbctl's exit code. */
int bus_cmd(const char *bus_path, bool json, int argc, char **argv);

struct orb_conn;
/* Connects to the bus; says why not on stderr.  Return: 0 or 111. */
int bus_open(const char *path, struct orb_conn **c);
/*
 * bus_call_json() - look @service up, call @method with @args (JSON
 * object text, NULL for {}) through its contract, and hand the reply back
 * as JSON text in *@out (malloc'd).  Errors are printed, with the
 * service's message.
 * Return: 0, or orbctl's exit code (1 refused, 100 usage, 111 system).
 */
int bus_call_json(struct orb_conn *c, const char *service, const char *method, const char *args, char **out);

struct orb_client;
struct orb_msg;
struct orb_method;
/* Looks @service up (errors printed).  Return: 0, or orbctl's exit code. */
int bus_lookup(struct orb_conn *c, const char *service, struct orb_client **cl);
/* As bus_call_json, on a client already looked up, with the typed reply
 * (*@out, the caller frees; NULL for a oneway method) and its method. */
int bus_call_client(struct orb_client *cl, const char *method, const char *args, struct orb_msg **out,
                    const struct orb_method **m);
