#include <stdio.h>
#include <string.h>

#include "broker/capspec.h"
#include "orbital/protocol.h"

static bool is_name_char(char c)
{
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

bool capspec_name_valid(const char *s, size_t len)
{
        if (!len || len >= CAP_NAME_MAX || s[0] == '.' || s[0] == '-' || s[0] == '_' || s[len - 1] == '.')
                return false;
        for (size_t i = 0; i < len; i++)
                if (!is_name_char(s[i]) || (s[i] == '.' && i + 1 < len && s[i + 1] == '.'))
                        return false;
        return true;
}

bool topic_covers(const char *prefix, const char *topic)
{
        size_t n = strlen(prefix);

        return strncmp(prefix, topic, n) == 0 && (topic[n] == '\0' || topic[n] == '.');
}

bool rights_parse(const char *s, uint8_t *rights)
{
        static const char order[] = "rwg";
        uint8_t r = 0;
        size_t k = 0;

        if (!*s)
                return false;
        for (; *s; s++) {
                const char *at = strchr(order + k, *s);

                if (!at || !*s)
                        return false; /* unknown, repeated or out of order */
                k = (size_t)(at - order) + 1;
                r |= (uint8_t)(1u << (at - order));
        }
        *rights = r;
        return true;
}

const char *rights_str(unsigned rights, char buf[4])
{
        buf[0] = rights & ORB_RIGHT_READ ? 'r' : '-';
        buf[1] = rights & ORB_RIGHT_WRITE ? 'w' : '-';
        buf[2] = rights & ORB_RIGHT_GRANT ? 'g' : '-';
        buf[3] = '\0';
        return buf;
}

const char *object_type_name(unsigned type)
{
        static const char *const names[] = {
                [ORB_OBJ_ENDPOINT] = "endpoint", [ORB_OBJ_CONSOLE] = "console", [ORB_OBJ_STORAGE] = "storage",
                [ORB_OBJ_NETWORK] = "network",   [ORB_OBJ_PROCESS] = "process", [ORB_OBJ_MEMORY] = "memory",
                [ORB_OBJ_TOPIC] = "topic",       [ORB_OBJ_PERMISSION] = "permission",
        };
        return type < sizeof(names) / sizeof(names[0]) && names[type] ? names[type] : "unknown";
}

static bool fail(char *why, size_t n, const char *msg)
{
        snprintf(why, n, "%s", msg);
        return false;
}

bool capspec_parse(const char *s, struct capspec *out, char *why, size_t why_size)
{
        static const struct {
                const char *prefix;
                uint8_t type, rights;
                bool is_provider;
        } kinds[] = {
                {"provide:", ORB_OBJ_ENDPOINT, ORB_RIGHTS_ALL, true},
                {"call:", ORB_OBJ_ENDPOINT, ORB_RIGHT_READ | ORB_RIGHT_WRITE, false},
                {"publish:", ORB_OBJ_TOPIC, ORB_RIGHT_WRITE, false},
                {"subscribe:", ORB_OBJ_TOPIC, ORB_RIGHT_READ, false},
        };
        const char *colon = strchr(s, ':');

        *out = (struct capspec){0};
        if (!colon) {
                if (!capspec_name_valid(s, strlen(s)))
                        return fail(why, why_size, "a permission name such as net.configure");
                out->obj_type = ORB_OBJ_PERMISSION;
                out->rights = ORB_RIGHT_READ | ORB_RIGHT_WRITE;
                snprintf(out->name, sizeof(out->name), "%s", s);
                return true;
        }
        for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
                size_t plen = strlen(kinds[i].prefix);
                const char *name = s + plen, *end;

                if (strncmp(s, kinds[i].prefix, plen) != 0)
                        continue;
                end = strchr(name, ':');
                out->obj_type = kinds[i].type;
                out->rights = kinds[i].rights;
                out->is_provider = kinds[i].is_provider;
                if (end && (kinds[i].is_provider || kinds[i].type == ORB_OBJ_TOPIC || !rights_parse(end + 1, &out->rights)))
                        return fail(why, why_size, "rights after a call: type as r, w, rw, rg, wg or rwg "
                                                   "(e.g. call:storage:r)");
                if (!capspec_name_valid(name, end ? (size_t)(end - name) : strlen(name)))
                        return fail(why, why_size, "a service type or topic after the prefix "
                                                   "([a-z0-9][a-z0-9._-]*)");
                snprintf(out->name, sizeof(out->name), "%.*s", (int)(end ? end - name : (int)strlen(name)), name);
                return true;
        }
        return fail(why, why_size, "provide:TYPE, call:TYPE[:RIGHTS], publish:TOPIC, subscribe:TOPIC or a "
                                   "permission name such as net.configure");
}
