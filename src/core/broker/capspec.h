/*
 * Capability declarations of a manifest's `capabilities:` list, parsed:
 *   provide:TYPE           may register service type TYPE (endpoint, rwg)
 *   call:TYPE[:RIGHTS]     may look up and call TYPE; RIGHTS r, w, rw, with
 *                          g to pass it on (default rw)
 *   publish:TOPIC          may publish on TOPIC and below it
 *   subscribe:TOPIC        may subscribe to TOPIC and below it
 *   NAME                   a named permission such as net.configure
 * Shared by the manifest parser (to refuse bad ones with a clear reason)
 * and the broker (to grant them at spawn).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "broker/captable.h"

struct capspec {
        uint8_t obj_type;         /* ORB_OBJ_* */
        uint8_t rights;
        bool is_provider;
        char name[CAP_NAME_MAX];  /* type, topic or permission */
};

/* Return: true and *@out, or false with @why ("expected ..."). */
bool capspec_parse(const char *s, struct capspec *out, char *why, size_t why_size);

/* A service type or topic: [a-z0-9][a-z0-9._-]*, at most 127 bytes. */
bool capspec_name_valid(const char *s, size_t len);

/* True if @topic is @prefix or lies below it ("net" covers "net.link"). */
bool topic_covers(const char *prefix, const char *topic);

/* "rw", "r-g", ... into @buf (4 bytes). */
const char *rights_str(unsigned rights, char buf[4]);
/* "r", "rw", "rwg" ... Return: true and *@rights. */
bool rights_parse(const char *s, uint8_t *rights);
const char *object_type_name(unsigned type);
