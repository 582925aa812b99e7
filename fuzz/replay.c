/*
 * Replay driver: runs every file of each directory argument (or each file
 * argument) through LLVMFuzzerTestOneInput() once, without libFuzzer, so
 * the corpus and every kept crash input run in the ordinary and sanitizer
 * builds (after sqlite/sqlite test/fuzzcheck.c).
 *
 * Each input gets a buffer of exactly its size, so AddressSanitizer sees
 * any read past the end.  Files starting with '.' are skipped.
 *
 * Exit: 0 when at least one input ran and none crashed, 100 on bad usage,
 * 111 when an input cannot be read or no input was found.
 */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(int dirfd, const char *name, const char *shown)
{
        struct stat st;
        uint8_t *buf;
        ssize_t n = 0;
        int fd;

        fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
        if (fd < 0 || fstat(fd, &st) < 0) {
                fprintf(stderr, "replay: unable to open %s: %s\n", shown, strerror(errno));
                if (fd >= 0)
                        close(fd);
                return -1;
        }
        buf = malloc(st.st_size ? (size_t)st.st_size : 1);
        if (buf && st.st_size)
                n = read(fd, buf, (size_t)st.st_size);
        close(fd);
        if (!buf || n != st.st_size) {
                fprintf(stderr, "replay: unable to read %s\n", shown);
                free(buf);
                return -1;
        }
        LLVMFuzzerTestOneInput(buf, (size_t)st.st_size);
        free(buf);
        return 0;
}

/* Runs the regular files of @path; returns how many, or -1. */
static long run_dir(const char *path)
{
        DIR *d = opendir(path);
        struct dirent *de;
        long count = 0;

        if (!d) {
                fprintf(stderr, "replay: unable to open %s: %s\n", path, strerror(errno));
                return -1;
        }
        while ((de = readdir(d))) {
                struct stat st;
                char shown[4096];

                if (de->d_name[0] == '.' || fstatat(dirfd(d), de->d_name, &st, 0) < 0 || !S_ISREG(st.st_mode))
                        continue;
                snprintf(shown, sizeof(shown), "%s/%s", path, de->d_name);
                if (run_file(dirfd(d), de->d_name, shown) < 0) {
                        closedir(d);
                        return -1;
                }
                count++;
        }
        closedir(d);
        return count;
}

int main(int argc, char **argv)
{
        long total = 0;

        if (argc < 2) {
                fprintf(stderr, "usage: %s DIR|FILE...\n", argv[0]);
                return 100;
        }
        for (int i = 1; i < argc; i++) {
                struct stat st;
                long n;

                if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode))
                        n = run_dir(argv[i]);
                else
                        n = run_file(AT_FDCWD, argv[i], argv[i]) < 0 ? -1 : 1;
                if (n < 0)
                        return 111;
                printf("replay: %ld inputs from %s\n", n, argv[i]);
                total += n;
        }
        printf("replay: %ld inputs, no crash\n", total);
        return total > 0 ? 0 : 111;
}
