#undef NDEBUG

/*
 * libFuzzer target for the manifest parser (supervisor/manifest.c).
 *
 * Any input must either be refused with MANIFEST_E_INVALID and a diag
 * fit for a terminal (a message, no control characters, a line inside
 * the input), or give a manifest that holds every invariant the rest of
 * orbitald relies on.  A manifest that parses must parse again to the
 * same digest.  replay.c runs the corpus through this same function in
 * ordinary builds.
 */

#include <assert.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>

#include "supervisor/manifest.h"
#include "util/diag.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_printable(const char *s)
{
        for (; *s; s++)
                assert((unsigned char)*s >= 0x20 && *s != 0x7f);
}

static void check_strv(char **v, bool may_be_empty)
{
        assert(v);
        assert(may_be_empty || v[0]);
        for (; *v; v++)
                assert(!memchr(*v, '\0', strlen(*v)));
}

/* Lines as YAML counts them: CR LF, CR, LF, NEL, LS and PS each end one. */
static unsigned count_lines(const uint8_t *s, size_t n)
{
        unsigned lines = 1;

        for (size_t i = 0; i < n; i++) {
                if (s[i] == '\r' && i + 1 < n && s[i + 1] == '\n')
                        i++;
                if (s[i] == '\r' || s[i] == '\n')
                        lines++;
                else if (s[i] == 0xc2 && i + 1 < n && s[i + 1] == 0x85)
                        lines++;
                else if (s[i] == 0xe2 && i + 2 < n && s[i + 1] == 0x80 &&
                         (s[i + 2] == 0xa8 || s[i + 2] == 0xa9))
                        lines++;
        }
        return lines;
}

static void check_diag(const struct orb_diag *d, const uint8_t *data, size_t size)
{
        unsigned lines = count_lines(data, size);
        char buf[1024];
        assert(d->message[0]);
        assert(!strcmp(d->file, "fuzz.yaml"));
        assert(d->line <= lines + 1);
        check_printable(d->message);
        check_printable(d->field);
        check_printable(diag_format(d, buf, sizeof(buf)));
}

static void check_manifest(const struct manifest *m)
{
        assert(manifest_name_valid(m->name));
        check_strv(m->argv, false);
        assert(m->argv[0][0]);
        for (unsigned i = 0; i < m->n_env; i++)
                assert(m->env[i].name[0] && m->env[i].value);
        check_strv(m->requires, true);
        check_strv(m->after, true);
        check_strv(m->capabilities, true);
        for (unsigned i = 0; m->requires[i]; i++)
                assert(manifest_name_valid(m->requires[i]) && m->requires_pos[i].line > 0);
        for (unsigned i = 0; m->after[i]; i++)
                assert(manifest_name_valid(m->after[i]) && m->after_pos[i].line > 0);
        assert(m->restart != RESTART_LIMITED || (m->restart_limit >= 1 && m->restart_limit <= 1000000));
        assert(m->backoff.max >= m->backoff.initial && m->backoff.jitter_pc <= 100);
        assert(m->breaker.crashes <= 1000);
        assert(m->breaker.window > 0 && m->breaker.cooldown > 0);
        assert((m->health.kind == HEALTH_COMMAND) == (m->health.argv != NULL));
        assert(m->health.interval > 0 && m->health.timeout > 0);
        assert(m->health.failures >= 1 && m->health.failures <= 100);
        assert(m->readiness.fd >= 3 && m->readiness.fd <= 1023);
        assert(m->stop.signal >= 1 && m->stop.signal <= 64);
        assert(m->limits.memory == 0 || m->limits.memory >= (1u << 20));
        assert(m->limits.pids <= 1000000 && m->limits.cpu_pc <= 10000);
        assert(m->limits.files >= 16 && m->limits.files <= 1048576);
        assert(strcmp(restart_policy_name(m->restart), "unknown"));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct orb_diag d = ORB_DIAG_INIT;
        struct manifest *m = NULL, *again = NULL;
        int r;

        r = manifest_parse((const char *)data, size, "fuzz.yaml", "fuzz", &m, &d);
        if (r) {
                assert(r == MANIFEST_E_INVALID);
                assert(!m);
                check_diag(&d, data, size);
                return 0;
        }
        check_manifest(m);
        r = manifest_parse((const char *)data, size, "other.yaml", NULL, &again, NULL);
        assert(r == 0 || (r == MANIFEST_E_INVALID && !m->name_pos.line));
        assert(!again || again->digest == m->digest);
        manifest_free(again);
        manifest_free(m);
        return 0;
}
