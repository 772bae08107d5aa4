/* A minimal test harness for the C core: CHECK records failures, TEST_MAIN prints the
 * "N passed, N failed" line and sets the exit status. */
#ifndef VDSP_TEST_H
#define VDSP_TEST_H
#include <stdio.h>
#include <stdlib.h>

static int vdsp_test_passed = 0, vdsp_test_failed = 0;

#define CHECK(cond, ...)                                                           \
    do {                                                                           \
        if (cond) {                                                                \
            vdsp_test_passed++;                                                    \
        } else {                                                                   \
            vdsp_test_failed++;                                                    \
            fprintf(stderr, "%s:%d: CHECK(%s) failed: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                          \
            fputc('\n', stderr);                                                   \
        }                                                                          \
    } while (0)

#define TEST_REPORT(name)                                                          \
    (printf("%s: %d passed, %d failed\n", name, vdsp_test_passed, vdsp_test_failed), \
     vdsp_test_failed ? EXIT_FAILURE : EXIT_SUCCESS)
#endif
