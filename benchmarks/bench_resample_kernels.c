/*
 * C-level cost of one 20 ms resampler call (what the MediaBridge pays, no Python), int16 or
 * float32, for the pairs the bridge and the browser leg run.
 *
 * Build it with the extension's flags and run (from the repository root):
 *   cc -std=c99 -O3 -fwrapv -fno-strict-aliasing -Icsrc/include -Icsrc \
 *      -o /tmp/bench_resample_kernels benchmarks/bench_resample_kernels.c csrc/resample.c -lm
 *   /tmp/bench_resample_kernels          # int16 calls, the kernel picked for this CPU
 *   /tmp/bench_resample_kernels f32      # float32 calls
 *   /tmp/bench_resample_kernels q15      # int16 calls, Q15 coefficients (the G.711 bridges')
 *   VDSP_KERNEL=1 /tmp/bench_resample_kernels   # int16 with the AVX2 kernel forced (0: C)
 * To compare with another version of csrc/resample.c (e.g. `git show <rev>:csrc/resample.c`),
 * build a second binary from it with -DNO_KERNELS (if it has no resample_kernels.h) and run
 * both alternately: the machine's load moves every figure, so compare runs taken together.
 * Prints the best of 15 runs of 4000 calls, in ns per call.
 */
#define _POSIX_C_SOURCE 199309L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "voicedsp/resample.h"
#ifndef NO_KERNELS
#include "resample_kernels.h"
#endif

static double now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

static void run(int fi, int fo, int f32, int q15) {
    static int16_t in16[4096], out16[16384];
    static float in32[4096], out32[16384];
    vdsp_resample_design *d = NULL;
    vdsp_resampler *r = NULL;
    if (vdsp_resample_design_create(&d, fi, fo, VDSP_RESAMPLE_TELEPHONY,
                                    q15 ? VDSP_RESAMPLE_PRECISION_Q15
                                        : VDSP_RESAMPLE_PRECISION_FULL) != 0 ||
        vdsp_resampler_create_from_design(&r, d, 1, 0) != 0) {
        printf("create %d->%d failed\n", fi, fo);
        vdsp_resample_design_destroy(d);
        return;
    }
#ifndef NO_KERNELS
    const char *k = getenv("VDSP_KERNEL");
    if (k && !vdsp_resampler_use_kernel(r, atoi(k))) printf("(kernel %s unavailable) ", k);
#endif
    size_t n = (size_t)fi / 50, got = 0;
    for (size_t i = 0; i < n; i++) {
        double v = 10000.0 * sin((double)i * 0.37) + 3000.0 * sin((double)i * 1.9);
        in16[i] = (int16_t)v;
        in32[i] = (float)(v / 32768.0);
    }
    double best = 1e30;
    for (int rep = 0; rep < 15; rep++) {
        const int iters = 4000;
        double t0 = now_ns();
        for (int it = 0; it < iters; it++) {
            if (f32)
                vdsp_resampler_process_f32(r, in32, n, out32, 16384, &got);
            else
                vdsp_resampler_process_i16(r, in16, n, out16, 16384, &got);
        }
        double dt = (now_ns() - t0) / iters;
        if (dt < best) best = dt;
    }
    printf("%5d -> %5d Hz, %4zu in, %s, %3d taps: %7.1f ns per call\n", fi, fo, n,
           f32 ? "f32" : q15 ? "i16 q15" : "i16", vdsp_resampler_taps(r), best);
    vdsp_resampler_destroy(r);
    vdsp_resample_design_destroy(d);
}

int main(int argc, char **argv) {
    int f32 = argc > 1 && strcmp(argv[1], "f32") == 0;
    int q15 = argc > 1 && strcmp(argv[1], "q15") == 0;
    static const int pairs[][2] = {{8000, 16000}, {24000, 8000}, {8000, 24000},
                                   {16000, 8000}, {48000, 16000}, {44100, 16000}};
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) run(pairs[i][0], pairs[i][1], f32, q15);
    return 0;
}
