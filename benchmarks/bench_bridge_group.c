/*
 * C-level cost of the MediaBridge group API (no Python), and the heap each bridge holds.
 *
 * K default bridges (G.711 mu-law 8 kHz caller, PCM16 16 kHz in / 24 kHz out model); every
 * tick pushes 20 ms of 24 kHz reply into each bridge and advances all K with
 * vdsp_bridge_tick_group, as benchmarks/bench_bridge.py's capacity trial does from Python.
 * The caller side is a synthetic voiced signal (a 140 Hz pulse train through a few
 * resonances, switched on and off every 1.2 s) so that the turn detector sees turns.
 *
 * Build it with the extension's flags and run (from the repository root):
 *   cc -std=c99 -O3 -fwrapv -fno-strict-aliasing -Icsrc/include -Icsrc \
 *      -o /tmp/bench_bridge_group benchmarks/bench_bridge_group.c csrc/[a-z]*.c \
 *      $(pkg-config --cflags --libs opus) -lm
 *   /tmp/bench_bridge_group 100 1000 10000     # K values; ns per call-frame, bytes per bridge
 * The bridges share one resampler design per direction (set PRIVATE_DESIGNS=1 to give each
 * bridge its own, as before designs existed).
 * To compare with another version, build a second binary from that tree and run both
 * alternately: the machine's load moves every figure, so compare runs taken together.
 * Prints, per K, the median of 7 runs of 50 ticks (after 25 warm-up ticks).
 */
#define _GNU_SOURCE
#include <malloc.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "voicedsp/bridge.h"
#include "voicedsp/g711.h"

#define TICKS 50
#define RUNS 7
#define SIG_FRAMES 400

static double now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e9 + t.tv_nsec;
}

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* voiced bursts: pulse train at f0 through two resonators, on for `on` s, off for `off` s */
static void voice(int16_t *x, size_t n, int rate, double on, double off, double f0) {
    double y1 = 0, y2 = 0, z1 = 0, z2 = 0, ph = 0;
    double r = exp(-M_PI * 120.0 / rate);
    double a1 = 2 * r * cos(2 * M_PI * 700.0 / rate), b1 = 2 * r * cos(2 * M_PI * 1900.0 / rate);
    for (size_t i = 0; i < n; i++) {
        double t = (double)i / rate, cyc = fmod(t, on + off);
        ph += f0 / rate;
        double e = 0;
        if (ph >= 1.0) {
            ph -= 1.0;
            e = cyc < on ? 3000.0 : 0.0;
        }
        double y = e + a1 * y1 - r * r * y2;
        y2 = y1;
        y1 = y;
        double z = y + b1 * z1 - r * r * z2;
        z2 = z1;
        z1 = z;
        double v = 0.5 * y + 0.25 * z;
        x[i] = (int16_t)(v > 32767 ? 32767 : v < -32768 ? -32768 : v);
    }
}

int main(int argc, char **argv) {
    size_t n8 = 160 * SIG_FRAMES, n24 = 480 * SIG_FRAMES;
    int16_t *caller = malloc(n8 * 2), *agent = malloc(n24 * 2);
    uint8_t *ulaw = malloc(n8);
    voice(caller, n8, 8000, 1.2, 1.0, 140.0);
    voice(agent, n24, 24000, 2.0, 0.7, 210.0);
    vdsp_g711_ulaw_encode(caller, n8, ulaw);
    /* diagnostics: SKIP_PUSH=1 / SKIP_TICK=1 time one half of the work only */
    int skip_push = getenv("SKIP_PUSH") != NULL, skip_tick = getenv("SKIP_TICK") != NULL;
    for (int a = 1; a < argc; a++) {
        size_t k = (size_t)atol(argv[a]);
        vdsp_bridge_config cfg;
        vdsp_bridge_config_default(&cfg);
#ifdef VDSP_RESAMPLE_DEFAULT_BLOCK
        /* one filter design per direction for all K bridges (versions with designs) */
        vdsp_resample_design *up_d = NULL, *down_d = NULL;
        if (!getenv("PRIVATE_DESIGNS")) {
            int prec = vdsp_bridge_resample_precision(&cfg);
            vdsp_resample_design_create(&up_d, 8000, 16000, VDSP_RESAMPLE_TELEPHONY, prec);
            vdsp_resample_design_create(&down_d, 24000, 8000, VDSP_RESAMPLE_TELEPHONY, prec);
        }
        cfg.up_design = up_d;
        cfg.down_design = down_d;
#endif
        vdsp_bridge **br = malloc(k * sizeof *br);
        struct mallinfo2 m0 = mallinfo2();
        for (size_t i = 0; i < k; i++)
            if (vdsp_bridge_create(&cfg, &br[i]) != 0) {
                fprintf(stderr, "create failed\n");
                return 1;
            }
        struct mallinfo2 m1 = mallinfo2();
        double bytes = ((double)(m1.uordblks + m1.hblkhd) - (double)(m0.uordblks + m0.hblkhd)) / k;
        uint8_t *in = malloc(k * 160), *mo = malloc(k * 640), *co = malloc(k * 160);
        size_t *mb = malloc(k * sizeof *mb), *cb = malloc(k * sizeof *cb);
        int *stv = malloc(k * sizeof *stv);
        const uint8_t **ptr = malloc(k * sizeof *ptr);
        size_t *len = malloc(k * sizeof *len);
        uint32_t *item = malloc(k * sizeof *item);
        for (size_t i = 0; i < k; i++) len[i] = 960, item[i] = 1;
        vdsp_bridge_event *ev = malloc(k * VDSP_BRIDGE_MAX_EVENTS * sizeof *ev);
        uint32_t *evb = malloc(k * VDSP_BRIDGE_MAX_EVENTS * sizeof *evb);
        double t[RUNS];
        size_t tick = 0;
        for (int run = -1; run < RUNS; run++) {
            int nt = run < 0 ? TICKS / 2 : TICKS;
            double t0 = now_ns();
            for (int s = 0; s < nt; s++, tick++) {
                for (size_t i = 0; i < k; i++) {
                    size_t f = (tick + 13 * i) % SIG_FRAMES, g = (tick + 7 * i) % SIG_FRAMES;
                    memcpy(in + i * 160, ulaw + f * 160, 160);
                    ptr[i] = (const uint8_t *)(agent + g * 480);
                }
#ifdef VDSP_RESAMPLE_DEFAULT_BLOCK
                if (!skip_push) vdsp_bridge_push_model_group(br, k, ptr, len, item, stv);
#else
                for (size_t i = 0; i < k; i++) vdsp_bridge_push_model(br[i], ptr[i], 960, 1);
#endif
                size_t ne = 0;
                if (!skip_tick) vdsp_bridge_tick_group(br, k, in, 160, NULL, mo, 640, mb, co, 160, cb, ev, evb,
                                       k * VDSP_BRIDGE_MAX_EVENTS, &ne, stv);
            }
            if (run >= 0) t[run] = (now_ns() - t0) / ((double)nt * k);
        }
        qsort(t, RUNS, sizeof t[0], cmp_d);
        printf("K=%zu  %.0f ns per call-frame (min %.0f, max %.0f)  %.0f bytes per bridge\n", k,
               t[RUNS / 2], t[0], t[RUNS - 1], bytes);
        fflush(stdout);
        for (size_t i = 0; i < k; i++) vdsp_bridge_destroy(br[i]);
#ifdef VDSP_RESAMPLE_DEFAULT_BLOCK
        vdsp_resample_design_destroy(up_d);
        vdsp_resample_design_destroy(down_d);
#endif
        free(br), free(in), free(mo), free(co), free(mb), free(cb), free(stv), free(ev), free(evb), free(ptr), free(len), free(item);
    }
    free(caller), free(agent), free(ulaw);
    return 0;
}
