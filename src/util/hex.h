/* One hexadecimal digit's value, or -1 (the kernel's records, seccomp.c
 * and kaudit.c, write bytes and numbers in hex). */
#pragma once

static inline int hex_digit(char c)
{
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}
