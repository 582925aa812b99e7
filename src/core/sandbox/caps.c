/*
 * Linux capabilities: what a service keeps of root's power (see sandbox.h).
 *
 * A manifest never names CAP_* directly.  It lists named permissions
 * (net.configure, time.set, ...) among its bus capabilities, and
 * caps_mappings[] turns each into the one Linux capability the permission
 * needs.  Everything else is taken away for good: dropped from the
 * bounding set while the child is still root, so neither an execve of a
 * set-uid binary nor a later return to uid 0 can bring it back.
 *
 * The kept capabilities must survive two transitions:
 *   - the uid change (root -> the service's user) clears the permitted
 *     set unless PR_SET_KEEPCAPS is on, so caps_plan_apply_before_ids()
 *     turns it on when anything is kept;
 *   - execve() of an ordinary (non-set-uid, no file caps) program by a
 *     non-root user keeps only the ambient set, so
 *     caps_plan_apply_after_ids() raises each kept capability into
 *     permitted, effective, inheritable and then ambient (the kernel only
 *     lets a capability into ambient when it is permitted and inheritable).
 * A service that stays root gets back, at execve, whatever the bounding
 * set still holds: that is exactly the kept set, too.
 *
 * Secure bits (SECBIT_NOROOT, SECBIT_NO_SETUID_FIXUP, ...) are not set.
 * With the bounding set cut to the kept set, SECBIT_NOROOT would only take
 * from a service that stays root what it is meant to keep, and
 * no_new_privs (set by spawn.c) already makes set-uid binaries inert.
 *
 * Names come from this table, not libcap: the child must not call a
 * library, and the parent needs no more than these few.
 */
#include <errno.h>
#include <linux/capability.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sandbox/sandbox.h"

#define CAPS_MAX 64              /* bits of caps_plan.keep */
#define MAP(permission, cap) {permission, cap, #cap}

const struct caps_mapping caps_mappings[] = {
        /* Addresses, routes, links and firewall rules are all netlink
         * operations the kernel guards with CAP_NET_ADMIN. */
        MAP("net.configure", CAP_NET_ADMIN),
        /* Creating, renaming and bringing up interfaces: CAP_NET_ADMIN too;
         * a separate name so a manifest says what it is for. */
        MAP("iface.manage", CAP_NET_ADMIN),
        /* bind() below ip_unprivileged_port_start (1024): web, DNS, DHCP. */
        MAP("net.bind-low", CAP_NET_BIND_SERVICE),
        /* Raw and packet sockets: ping, DHCP clients, ARP probes. */
        MAP("net.raw", CAP_NET_RAW),
        /* clock_settime() and adjtimex() steering: an NTP client. */
        MAP("time.set", CAP_SYS_TIME),
        /* Raising priority or a real-time policy: audio, latency-bound work. */
        MAP("sys.nice", CAP_SYS_NICE),
        /* chown() of files to other users: a storage service handing
         * files to their owners. */
        MAP("fs.chown", CAP_CHOWN),
        /* Reading and writing files whatever their mode says: backup and
         * restore.  Landlock still limits which trees it can reach. */
        MAP("fs.override", CAP_DAC_OVERRIDE),
        /* Signals to processes of other users: a watchdog. */
        MAP("kill.any", CAP_KILL),
        /* mlock() beyond RLIMIT_MEMLOCK: keys that must never reach swap. */
        MAP("ipc.lock", CAP_IPC_LOCK),
        {NULL, 0, NULL},
};

static uint64_t caps_for_permission(const char *permission)
{
        uint64_t bits = 0;

        for (const struct caps_mapping *m = caps_mappings; m->permission; m++)
                if (!strcmp(m->permission, permission))
                        bits |= UINT64_C(1) << m->cap;
        return bits;
}

/**
 * caps_plan_build() - the capabilities a service keeps.
 * @capabilities: the manifest's list (NULL-terminated; NULL is taken as
 * empty).  Entries with a ':' (provide:echo, call:storage:r) are bus
 * capabilities, the broker's business; the others are named permissions.
 * @out: the plan.
 *
 * A permission without a mapping keeps nothing: it is granted on the bus
 * only.
 *
 * Return: 0.
 */
int caps_plan_build(char *const *capabilities, struct caps_plan *out)
{
        *out = (struct caps_plan){0};
        for (char *const *c = capabilities; c && *c; c++)
                if (!strchr(*c, ':'))
                        out->keep |= caps_for_permission(*c);
        return 0;
}

/**
 * caps_plan_apply_before_ids() - child, still root: shrink the bounding set
 * to @p->keep and keep the permitted set across the coming uid change.
 * @p: the plan (only read: the memory is the parent's).
 *
 * The kernel's last capability is found by trying: PR_CAPBSET_DROP fails
 * with EINVAL past it, which saves reading /proc in the child.
 *
 * Return: 0; -EPERM without CAP_SETPCAP; -errno of prctl(2).
 */
int caps_plan_apply_before_ids(const struct caps_plan *p)
{
        for (int c = 0; c < CAPS_MAX; c++) {
                if (p->keep & (UINT64_C(1) << c))
                        continue;
                if (prctl(PR_CAPBSET_DROP, (unsigned long)c, 0UL, 0UL, 0UL) < 0) {
                        if (errno == EINVAL)
                                break;
                        return -errno;
                }
        }
        if (p->keep && prctl(PR_SET_KEEPCAPS, 1UL, 0UL, 0UL, 0UL) < 0)
                return -errno;
        return 0;
}

/* Permitted, effective and inheritable become @keep; capset(2) fails with
 * EPERM if @keep asks for more than the permitted set still holds. */
static int caps_set(uint64_t keep)
{
        struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
        struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];

        for (int i = 0; i < _LINUX_CAPABILITY_U32S_3; i++) {
                __u32 word = (__u32)(keep >> (32 * i));

                data[i] = (struct __user_cap_data_struct){
                        .effective = word, .permitted = word, .inheritable = word};
        }
        return syscall(SYS_capset, &hdr, data) < 0 ? -errno : 0;
}

/**
 * caps_plan_apply_after_ids() - child, after the uid change: exactly
 * @p->keep in the permitted, effective, inheritable and ambient sets.
 * @p: the plan (only read: the memory is the parent's).
 *
 * Ambient is cleared first: a child that stayed root may have inherited
 * orbitald's.  Raw system calls only.
 *
 * Return: 0; -EPERM when a kept capability was lost (no
 * caps_plan_apply_before_ids(), or not in orbitald's bounding set);
 * -errno of capset(2) or prctl(2).
 */
int caps_plan_apply_after_ids(const struct caps_plan *p)
{
        int r;

        r = caps_set(p->keep);
        if (r < 0)
                return r;
        if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0UL, 0UL, 0UL) < 0)
                return -errno;
        for (int c = 0; c < CAPS_MAX; c++) {
                if (!(p->keep & (UINT64_C(1) << c)))
                        continue;
                if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, (unsigned long)c, 0UL, 0UL) < 0)
                        return -errno;
        }
        /* The uid change is done: nothing more to keep across one. */
        if (prctl(PR_SET_KEEPCAPS, 0UL, 0UL, 0UL, 0UL) < 0)
                return -errno;
        return 0;
}
