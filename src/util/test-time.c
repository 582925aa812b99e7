#undef NDEBUG

/* Tests for util/time.c: duration and size parsing and formatting. */

#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "util/time.h"

static usec_t dur(const char *s)
{
        usec_t d = 12345;

        assert(parse_duration(s, &d));
        return d;
}

static void bad_dur(const char *s)
{
        usec_t d = 12345;

        assert(!parse_duration(s, &d));
        assert(d == 12345); /* untouched on failure */
}

static void test_parse_duration(void)
{
        assert(dur("0") == 0);
        assert(dur("0s") == 0);
        assert(dur("0ms") == 0);
        assert(dur("250ms") == 250 * USEC_PER_MSEC);
        assert(dur("5s") == 5 * USEC_PER_SEC);
        assert(dur("2m") == 120 * USEC_PER_SEC);
        assert(dur("1h") == 3600 * USEC_PER_SEC);
        assert(dur("1.5s") == 1500 * USEC_PER_MSEC);
        assert(dur("0.25s") == 250 * USEC_PER_MSEC);
        assert(dur("1.5ms") == 1500);
        assert(dur("10us") == 10);
        assert(dur("1m30s") == 90 * USEC_PER_SEC);
        assert(dur("1h1m1s1ms1us") == 3661 * USEC_PER_SEC + 1001);
        assert(dur("1m05s") == 65 * USEC_PER_SEC);
        assert(dur("0.000001s") == 1);
        assert(dur("1.100000000s") == 1100 * USEC_PER_MSEC);
        assert(dur("5124095576h") == 5124095576ull * 3600 * USEC_PER_SEC);

        bad_dur("");
        bad_dur("5");      /* bare numbers: which unit? */
        bad_dur("00");
        bad_dur("s");
        bad_dur("-5s");
        bad_dur("+5s");
        bad_dur(" 5s");
        bad_dur("5s ");
        bad_dur("5 s");
        bad_dur("5sec");
        bad_dur("5S");
        bad_dur("5d");
        bad_dur("1s1m");   /* out of order */
        bad_dur("1s1s");   /* repeated */
        bad_dur("1ms1s");
        bad_dur(".5s");
        bad_dur("5.s");
        bad_dur("1.2.3s");
        bad_dur("0.5us");  /* finer than a microsecond */
        bad_dur("1.0000001s");
        bad_dur("1.0000000000s"); /* more than 9 fraction digits */
        bad_dur("infinity");
        bad_dur("18446744073709551615us");  /* USEC_INFINITY itself */
        bad_dur("18446744073709551616us");  /* overflow in the number */
        bad_dur("5124095577h");             /* overflow in the product */
        bad_dur("5124095576h1000000000s");  /* overflow in the sum */
        bad_dur("99999999999999999999999h");
        assert(!parse_duration(NULL, &(usec_t){ 0 }));
}

static uint64_t size(const char *s)
{
        uint64_t v = 777;

        assert(parse_size(s, &v));
        return v;
}

static void bad_size(const char *s)
{
        uint64_t v = 777;

        assert(!parse_size(s, &v));
        assert(v == 777);
}

static void test_parse_size(void)
{
        assert(size("0") == 0);
        assert(size("4096") == 4096);
        assert(size("4096B") == 4096);
        assert(size("512K") == 512 << 10);
        assert(size("64M") == 64ull << 20);
        assert(size("64MiB") == 64ull << 20);
        assert(size("64MB") == 64ull << 20);
        assert(size("1G") == 1ull << 30);
        assert(size("2T") == 2ull << 40);
        assert(size("16777215T") == 16777215ull << 40);
        assert(size("18446744073709551615") == UINT64_MAX);

        bad_size("");
        bad_size("M");
        bad_size("64m");
        bad_size("64k");
        bad_size("64 M");
        bad_size("64Mi");
        bad_size("64MiBB");
        bad_size("64BB");
        bad_size("1.5G");
        bad_size("-1");
        bad_size("+1");
        bad_size("64P");
        bad_size("16777216T");              /* overflow in the product */
        bad_size("18446744073709551616");   /* overflow in the number */
        assert(!parse_size(NULL, &(uint64_t){ 0 }));
}

static void check_format_duration(usec_t d, const char *want)
{
        char buf[64];
        usec_t back;

        format_duration(buf, sizeof(buf), d);
        if (strcmp(buf, want)) {
                fprintf(stderr, "format_duration(%llu) = '%s', want '%s'\n", (unsigned long long)d, buf, want);
                assert(0);
        }
        if (d != USEC_INFINITY) {
                assert(parse_duration(buf, &back));
                assert(back == d);
        }
}

static void test_format_duration(void)
{
        char small[4];

        check_format_duration(0, "0");
        check_format_duration(1, "1us");
        check_format_duration(999, "999us");
        check_format_duration(1000, "1ms");
        check_format_duration(1500, "1.5ms");
        check_format_duration(1001, "1.001ms");
        check_format_duration(250 * USEC_PER_MSEC, "250ms");
        check_format_duration(USEC_PER_SEC, "1s");
        check_format_duration(1500 * USEC_PER_MSEC, "1.5s");
        check_format_duration(USEC_PER_SEC + 1, "1.000001s");
        check_format_duration(90 * USEC_PER_SEC, "1m30s");
        check_format_duration(3600 * USEC_PER_SEC, "1h");
        check_format_duration(3661 * USEC_PER_SEC + 500 * USEC_PER_MSEC, "1h1m1.5s");
        check_format_duration(3600 * USEC_PER_SEC + 5, "1h5us");
        check_format_duration(USEC_INFINITY, "infinity");
        check_format_duration(USEC_INFINITY - 1, "5124095576h1m49.551614s");

        /* Truncation keeps the buffer terminated. */
        format_duration(small, sizeof(small), 90 * USEC_PER_SEC);
        assert(strlen(small) == 3);
        assert(format_duration(small, 0, 1) == small);

        /* Round trips over a spread of values. */
        for (usec_t d = 1; d < USEC_INFINITY / 3; d = d * 3 + 7) {
                char buf[64];
                usec_t back;

                format_duration(buf, sizeof(buf), d);
                assert(parse_duration(buf, &back));
                assert(back == d);
        }
}

static void check_format_size(uint64_t v, const char *want)
{
        char buf[32];
        uint64_t back;

        format_size(buf, sizeof(buf), v);
        assert(!strcmp(buf, want));
        assert(parse_size(buf, &back));
        assert(back == v);
}

static void test_format_size(void)
{
        check_format_size(0, "0");
        check_format_size(1, "1");
        check_format_size(4097, "4097");
        check_format_size(1024, "1K");
        check_format_size(1536 << 10, "1536K");
        check_format_size(64ull << 20, "64M");
        check_format_size(1ull << 30, "1G");
        check_format_size(3ull << 40, "3T");
        check_format_size(UINT64_MAX, "18446744073709551615");
}

static void test_format_timestamp(void)
{
        char buf[64];

        format_timestamp(buf, sizeof(buf), 0);
        assert(!strcmp(buf, "1970-01-01T00:00:00.000Z"));
        format_timestamp(buf, sizeof(buf), 1795315190123456ull);
        assert(!strcmp(buf, "2026-11-22T02:39:50.123Z"));
}

static void test_clock(void)
{
        usec_t a = now_mono(), b = now_mono();

        assert(a > 0 && b >= a);
        assert(now_real() > 1600000000ull * USEC_PER_SEC);
}

int main(void)
{
        test_parse_duration();
        test_parse_size();
        test_format_duration();
        test_format_size();
        test_format_timestamp();
        test_clock();
        return 0;
}
