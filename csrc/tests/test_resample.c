/* Resampler: argument errors, exact framing, chunk invariance (int16 and float, random
 * chunkings, every rate pair and quality), flush, reset, multichannel = mono per channel,
 * unity DC gain and a 1 kHz tone against the ideal delayed sine, the int16 kernels against
 * each other and the float path. Run under ASan/UBSan by
 * `make -C csrc asan`. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "vdsp_test.h"
#include "voicedsp/resample.h"
#include "voicedsp/status.h"
#include "../group.h"
#include "../resample_kernels.h"

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

#define NIN 2400           /* input frames per stream (50 ms at 48 kHz) */
#define NOUT (NIN * 6 + 64)

static const int RATES[] = {8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000};
#define NRATES 9

static uint32_t rng = 12345;
static uint32_t next_rand(void) {
    rng ^= rng << 13;
    rng ^= rng >> 17;
    rng ^= rng << 5;
    return rng;
}

static int16_t in16[NIN * 2];
static float in32[NIN * 2];
static int16_t ref16[NOUT * 2], got16[NOUT * 2];
static float ref32[NOUT * 2], got32[NOUT * 2];

static uint64_t gcd64(uint64_t a, uint64_t b) {
    while (b) {
        uint64_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

/* whole stream in one call + flush */
static size_t run_whole(vdsp_resampler *r, int f32, size_t n, void *out) {
    size_t n1 = 0, n2 = 0;
    int st = f32 ? vdsp_resampler_process_f32(r, in32, n, out, NOUT, &n1)
                 : vdsp_resampler_process_i16(r, in16, n, out, NOUT, &n1);
    CHECK(st == VDSP_OK, "process: %d", st);
    st = f32 ? vdsp_resampler_flush_f32(r, (float *)out + n1, NOUT - n1, &n2)
             : vdsp_resampler_flush_i16(r, (int16_t *)out + n1, NOUT - n1, &n2);
    CHECK(st == VDSP_OK, "flush: %d", st);
    return n1 + n2;
}

/* the same stream in random chunks (0 included), checking every count */
static size_t run_chunked(vdsp_resampler *r, int f32, size_t n, void *out, int in_rate,
                          int out_rate) {
    size_t pos = 0, done = 0;
    int bad = 0;
    while (pos < n) {
        size_t m = next_rand() % 700;
        if (next_rand() % 4 == 0) m = next_rand() % 3;
        if (m > n - pos) m = n - pos;
        size_t expect = vdsp_resampler_max_output(r, m), got = 99999;
        /* the contract: floor(N_after * out / in) - floor(N_before * out / in) */
        uint64_t want = (uint64_t)(pos + m) * (uint64_t)out_rate / (uint64_t)in_rate -
                        (uint64_t)pos * (uint64_t)out_rate / (uint64_t)in_rate;
        int st = f32 ? vdsp_resampler_process_f32(r, in32 + pos, m, (float *)out + done,
                                                  NOUT - done, &got)
                     : vdsp_resampler_process_i16(r, in16 + pos, m, (int16_t *)out + done,
                                                  NOUT - done, &got);
        if (st != VDSP_OK || got != expect || got != want) bad++;
        pos += m;
        done += got;
    }
    CHECK(bad == 0, "%d->%d: %d chunks with a wrong count", in_rate, out_rate, bad);
    size_t tail = vdsp_resampler_flush_output(r), got = 0;
    int st = f32 ? vdsp_resampler_flush_f32(r, (float *)out + done, NOUT - done, &got)
                 : vdsp_resampler_flush_i16(r, (int16_t *)out + done, NOUT - done, &got);
    CHECK(st == VDSP_OK && got == tail, "flush %d, %zu vs %zu", st, got, tail);
    return done + got;
}

static void test_design_errors(void) {
    vdsp_resample_design *d = (vdsp_resample_design *)&d;
    vdsp_resampler *r = (vdsp_resampler *)&r;
    CHECK(vdsp_resample_design_create(NULL, 8000, 16000, 0, 0) == VDSP_ERR_INVALID_ARGUMENT,
          "design NULL");
    CHECK(vdsp_resample_design_create(&d, 8000, 16000, 0, 2) == VDSP_ERR_INVALID_ARGUMENT && !d,
          "bad precision");
    CHECK(vdsp_resample_design_create(&d, 8000, 16000, 5, 0) == VDSP_ERR_INVALID_ARGUMENT,
          "bad quality");
    CHECK(vdsp_resample_design_create(&d, 8001, 16000, 0, 0) == VDSP_ERR_UNSUPPORTED_RATE,
          "bad rate");
    CHECK(vdsp_resample_design_create(&d, 24000, 8000, 0, 1) == VDSP_OK && d, "design");
    CHECK(vdsp_resample_design_matches(d, 24000, 8000, 0, 1) &&
          !vdsp_resample_design_matches(d, 24000, 8000, 0, 0) &&
          !vdsp_resample_design_matches(d, 8000, 24000, 0, 1) &&
          !vdsp_resample_design_matches(NULL, 24000, 8000, 0, 1), "matches");
    CHECK(vdsp_resample_design_bytes(d) > 0 && vdsp_resample_design_latency(d) > 0, "info");
    CHECK(vdsp_resampler_create_from_design(&r, NULL, 1, 0) == VDSP_ERR_INVALID_ARGUMENT && !r,
          "from NULL design");
    CHECK(vdsp_resampler_create_from_design(&r, d, 0, 0) == VDSP_ERR_INVALID_ARGUMENT, "channels");
    CHECK(vdsp_resampler_create_from_design(&r, d, 1, VDSP_RESAMPLE_MAX_BLOCK + 1) ==
              VDSP_ERR_INVALID_ARGUMENT, "block");
    /* two resamplers on one design, one with a 1-frame block: independent, identical */
    vdsp_resampler *r2;
    CHECK(vdsp_resampler_create_from_design(&r, d, 1, 0) == VDSP_OK, "from design");
    CHECK(vdsp_resampler_create_from_design(&r2, d, 1, 1) == VDSP_OK, "from design, block 1");
    CHECK(vdsp_resampler_latency(r) == vdsp_resample_design_latency(d), "latency");
    size_t n1 = 0, n2 = 0;
    CHECK(vdsp_resampler_process_i16(r, in16, 4800, ref16, NOUT, &n1) == VDSP_OK, "process");
    CHECK(vdsp_resampler_process_i16(r2, in16, 4800, got16, NOUT, &n2) == VDSP_OK, "process");
    CHECK(n1 == 1600 && n2 == n1 && memcmp(ref16, got16, n1 * sizeof(int16_t)) == 0,
          "block 1 differs from the default block");
    vdsp_resampler_destroy(r);
    vdsp_resampler_destroy(r2);
    vdsp_resample_design_destroy(d);
    vdsp_resample_design_destroy(NULL);
}

static void test_errors(void) {
    vdsp_resampler *r = (vdsp_resampler *)&r;
    CHECK(vdsp_resampler_create(NULL, 8000, 16000, 0, 1) == VDSP_ERR_INVALID_ARGUMENT, "NULL");
    CHECK(vdsp_resampler_create(&r, 96000, 16000, 0, 1) == VDSP_ERR_UNSUPPORTED_RATE && !r,
          "96000");
    CHECK(vdsp_resampler_create(&r, 8000, 0, 0, 1) == VDSP_ERR_UNSUPPORTED_RATE, "0 Hz");
    CHECK(vdsp_resampler_create(&r, -8000, 8000, 0, 1) == VDSP_ERR_UNSUPPORTED_RATE, "<0");
    CHECK(vdsp_resampler_create(&r, 8000, 16000, 2, 1) == VDSP_ERR_INVALID_ARGUMENT, "quality");
    CHECK(vdsp_resampler_create(&r, 8000, 16000, -1, 1) == VDSP_ERR_INVALID_ARGUMENT, "quality");
    CHECK(vdsp_resampler_create(&r, 8000, 16000, 0, 0) == VDSP_ERR_INVALID_ARGUMENT, "0 ch");
    CHECK(vdsp_resampler_create(&r, 8000, 16000, 0, VDSP_RESAMPLE_MAX_CHANNELS + 1) ==
              VDSP_ERR_INVALID_ARGUMENT, "too many channels");
    CHECK(vdsp_resampler_rate_supported(44100) && !vdsp_resampler_rate_supported(22000), "set");
    vdsp_resampler_destroy(NULL);
    vdsp_resampler_reset(NULL);
    CHECK(vdsp_resampler_latency(NULL) == 0 && vdsp_resampler_max_output(NULL, 10) == 0, "NULL");

    CHECK(vdsp_resampler_create(&r, 8000, 16000, 0, 1) == VDSP_OK, "create");
    size_t n = 7;
    int16_t buf[400];
    CHECK(vdsp_resampler_process_i16(NULL, in16, 10, buf, 400, &n) == VDSP_ERR_INVALID_ARGUMENT
              && n == 0, "NULL r");
    CHECK(vdsp_resampler_process_i16(r, NULL, 10, buf, 400, &n) == VDSP_ERR_INVALID_ARGUMENT,
          "NULL in");
    CHECK(vdsp_resampler_process_i16(r, in16, 10, NULL, 400, &n) == VDSP_ERR_INVALID_ARGUMENT,
          "NULL out");
    CHECK(vdsp_resampler_process_i16(r, in16, 10, buf, 400, NULL) == VDSP_ERR_INVALID_ARGUMENT,
          "NULL n_out");
    CHECK(vdsp_resampler_process_i16(r, NULL, 0, NULL, 0, &n) == VDSP_OK && n == 0, "empty");
    CHECK(vdsp_resampler_process_i16(r, in16, VDSP_RESAMPLE_MAX_CALL + 1, buf, 400, &n) ==
              VDSP_ERR_INVALID_ARGUMENT, "huge n_in");
    /* too small: nothing consumed, so the next good call gives the fresh-stream output */
    CHECK(vdsp_resampler_process_i16(r, in16, 160, buf, 319, &n) == VDSP_ERR_BUFFER_TOO_SMALL &&
              n == 0, "small out");
    CHECK(vdsp_resampler_flush_i16(r, buf, (size_t)vdsp_resampler_latency(r) - 1, &n) ==
              VDSP_ERR_BUFFER_TOO_SMALL, "small flush");
    CHECK(vdsp_resampler_process_i16(r, in16, 160, buf, 320, &n) == VDSP_OK && n == 320, "ok");
    vdsp_resampler *fresh;
    int16_t buf2[400];
    CHECK(vdsp_resampler_create(&fresh, 8000, 16000, 0, 1) == VDSP_OK, "create");
    vdsp_resampler_process_i16(fresh, in16, 160, buf2, 400, &n);
    CHECK(memcmp(buf, buf2, 320 * sizeof(int16_t)) == 0, "an error changed the state");
    vdsp_resampler_destroy(fresh);
    vdsp_resampler_destroy(r);
}

static void test_pairs(void) {
    for (int quality = 0; quality < 2; quality++) {
        for (int a = 0; a < NRATES; a++) {
            for (int b = 0; b < NRATES; b++) {
                int fi = RATES[a], fo = RATES[b];
                vdsp_resampler *r;
                int st = vdsp_resampler_create(&r, fi, fo, quality, 1);
                CHECK(st == VDSP_OK, "create %d->%d: %d", fi, fo, st);
                if (st) continue;
                double lat_ms = 1000.0 * vdsp_resampler_latency(r) / fo;
                if (quality == VDSP_RESAMPLE_TELEPHONY) {
                    int low = fi < fo ? fi : fo;
                    CHECK(lat_ms <= 2.0, "%d->%d latency %.3f ms", fi, fo, lat_ms);
                    if (low >= 16000) CHECK(lat_ms <= 1.0, "%d->%d latency %.3f", fi, fo, lat_ms);
                }
                /* 20 ms chunks never come out empty */
                CHECK(vdsp_resampler_max_output(r, (size_t)fi / 100) > 0, "10 ms empty");
                size_t n = (size_t)NIN * (size_t)fi / 48000;  /* 50 ms of input */
                for (int f32 = 0; f32 < 2; f32++) {
                    void *ref = f32 ? (void *)ref32 : (void *)ref16;
                    void *got = f32 ? (void *)got32 : (void *)got16;
                    size_t nr = run_whole(r, f32, n, ref);
                    uint64_t g = gcd64((uint64_t)fi, (uint64_t)fo);
                    uint64_t L = (uint64_t)fo / g, M = (uint64_t)fi / g;
                    uint64_t total = (uint64_t)vdsp_resampler_latency(r) + (n * L + M - 1) / M;
                    CHECK(nr == total, "%d->%d total %zu, want %llu", fi, fo, nr,
                          (unsigned long long)total);
                    size_t ng = run_chunked(r, f32, n, got, fi, fo);
                    size_t es = f32 ? sizeof(float) : sizeof(int16_t);
                    CHECK(ng == nr && memcmp(ref, got, nr * es) == 0,
                          "%d->%d q%d %s: chunked output differs", fi, fo, quality,
                          f32 ? "f32" : "i16");
                }
                vdsp_resampler_destroy(r);
            }
        }
    }
}

static void test_reset_and_channels(void) {
    vdsp_resampler *r, *s;
    size_t n1, n2;
    CHECK(vdsp_resampler_create(&r, 44100, 16000, 0, 1) == VDSP_OK, "create");
    vdsp_resampler_process_i16(r, in16, 1000, ref16, NOUT, &n1);
    vdsp_resampler_reset(r);
    vdsp_resampler_process_i16(r, in16, 1000, got16, NOUT, &n2);
    CHECK(n1 == n2 && memcmp(ref16, got16, n1 * 2) == 0, "reset is not a fresh start");
    vdsp_resampler_destroy(r);

    /* stereo interleaved = each channel alone */
    static int16_t st_in[NIN * 2], st_out[NOUT * 2], mono_in[NIN], mono_out[NOUT];
    for (int i = 0; i < NIN; i++) {
        st_in[2 * i] = in16[i];
        st_in[2 * i + 1] = (int16_t)(-in16[NIN - 1 - i] / 2);
    }
    CHECK(vdsp_resampler_create(&r, 16000, 24000, 0, 2) == VDSP_OK, "stereo");
    CHECK(vdsp_resampler_create(&s, 16000, 24000, 0, 1) == VDSP_OK, "mono");
    vdsp_resampler_process_i16(r, st_in, 777, st_out, NOUT, &n1);
    vdsp_resampler_process_i16(r, st_in + 2 * 777, NIN - 777, st_out + 2 * n1, NOUT - n1, &n2);
    n1 += n2;
    vdsp_resampler_flush_i16(r, st_out + 2 * n1, NOUT - n1, &n2);
    n1 += n2;
    int bad = 0;
    for (int ch = 0; ch < 2; ch++) {
        for (int i = 0; i < NIN; i++) mono_in[i] = st_in[2 * i + ch];
        size_t m1, m2;
        vdsp_resampler_process_i16(s, mono_in, NIN, mono_out, NOUT, &m1);
        vdsp_resampler_flush_i16(s, mono_out + m1, NOUT - m1, &m2);
        CHECK(m1 + m2 == n1, "frames");
        for (size_t i = 0; i < n1; i++) bad += mono_out[i] != st_out[2 * i + ch];
    }
    CHECK(bad == 0, "%d stereo samples differ from mono", bad);
    vdsp_resampler_destroy(r);
    vdsp_resampler_destroy(s);
}

/* Least-squares fit of a sine and a cosine at f with time measured from j - latency: a pure
 * delay of `latency` leaves a gain within the pass-band ripple and no cosine part. */
static void check_tone(int fi, int fo, int quality) {
    static float tone[NIN];
    vdsp_resampler *r;
    size_t n = 0;
    double f = 0.3 * (fi < fo ? fi : fo) / 2.0;
    size_t n_in = (size_t)fi / 20;  /* 50 ms */
    for (size_t i = 0; i < n_in; i++) tone[i] = (float)(0.5 * sin(2 * M_PI * f * i / fi));
    CHECK(vdsp_resampler_create(&r, fi, fo, quality, 1) == VDSP_OK, "create");
    CHECK(vdsp_resampler_process_f32(r, tone, n_in, got32, NOUT, &n) == VDSP_OK, "tone");
    int d = vdsp_resampler_latency(r);
    size_t j0 = (size_t)fo / 100;  /* skip 10 ms of start-up */
    double ss = 0, cc = 0, sc = 0, sy = 0, cy = 0;
    for (size_t j = j0; j < n; j++) {
        double w = 2 * M_PI * f * ((double)j - d) / fo, sj = sin(w), cj = cos(w);
        ss += sj * sj;
        cc += cj * cj;
        sc += sj * cj;
        sy += sj * got32[j];
        cy += cj * got32[j];
    }
    double det = ss * cc - sc * sc, ga = (sy * cc - cy * sc) / det, gb = (cy * ss - sy * sc) / det;
    double err = 0, sig = 0;
    for (size_t j = j0; j < n; j++) {
        double w = 2 * M_PI * f * ((double)j - d) / fo;
        double fit = ga * sin(w) + gb * cos(w);
        err += (got32[j] - fit) * (got32[j] - fit);
        sig += fit * fit;
    }
    double gain_db = 20 * log10(sqrt(ga * ga + gb * gb) / 0.5), snr = 10 * log10(sig / err);
    CHECK(fabs(gain_db) < 0.1, "%d->%d q%d: gain %.4f dB at %.0f Hz", fi, fo, quality, gain_db, f);
    /* linear phase: exactly `latency` late; minimum phase (alias_free): `latency` is its group
     * delay at 0.125 fl, and at 0.15 fl its phase delay is within a quarter of a sample of it */
    double lag_fl = atan(gb / ga) / (2 * M_PI * f) * (fi < fo ? fi : fo);
    if (quality == VDSP_RESAMPLE_TELEPHONY)
        CHECK(fabs(gb / ga) < 1e-4, "%d->%d q%d: phase %.2e rad, the delay is not `latency`", fi,
              fo, quality, gb / ga);
    else
        CHECK(fabs(lag_fl) < 0.25, "%d->%d q%d: %.3f samples off `latency`", fi, fo, quality,
              lag_fl);
    CHECK(snr > 90.0, "%d->%d q%d: SINAD %.1f dB at %.0f Hz", fi, fo, quality, snr, f);
    vdsp_resampler_destroy(r);
}

static void test_signal(void) {
    /* DC: unity gain, no ripple at the output rate */
    vdsp_resampler *r;
    size_t n;
    static int16_t dc[4800];
    for (int i = 0; i < 4800; i++) dc[i] = 12345;
    CHECK(vdsp_resampler_create(&r, 8000, 44100, 0, 1) == VDSP_OK, "create");
    vdsp_resampler_process_i16(r, dc, 4800, got16, NOUT, &n);
    int bad = 0;
    for (size_t i = 200; i < n; i++) bad += got16[i] != 12345;
    CHECK(bad == 0, "%d DC samples off", bad);
    vdsp_resampler_destroy(r);

    /* every pair, both qualities: a tone at 0.3 x the lower Nyquist frequency against the
     * ideal sine delayed by `latency` */
    for (int quality = 0; quality < 2; quality++)
        for (int a = 0; a < NRATES; a++)
            for (int b = 0; b < NRATES; b++) check_tone(RATES[a], RATES[b], quality);
}

/* int16 path of integer ratios: every vector kernel this CPU has gives the bits of the
 * portable C kernel (random chunkings, one and two channels), and full-scale input (random
 * signs, then a square wave whose overshoot saturates) agrees with the float path within
 * 1 LSB (the no-overflow bound itself is argued in quantize_i16). */
static void test_int_kernels(void) {
    static int16_t worst[NIN * 2];
    int levels_run = 0;
    for (int a = 0; a < NRATES; a++) {
        for (int b = 0; b < NRATES; b++) {
            int fi = RATES[a], fo = RATES[b];
            if (fi % fo != 0 && fo % fi != 0) continue;
            for (int channels = 1; channels <= 2; channels++) {
                size_t n = (size_t)NIN * (size_t)fi / 48000;
                /* each precision: the C kernel with the default block (FULL: the classic
                 * create), then the vector kernels on resamplers made from one shared design
                 * with other block sizes: all must give the same bits */
                for (int prec = 0; prec <= 1; prec++) {
                vdsp_resample_design *d = NULL;
                CHECK(vdsp_resample_design_create(&d, fi, fo, 0, prec) == VDSP_OK, "design");
                for (int level = 0; level <= 2; level++) {
                    vdsp_resampler *r;
                    size_t block = level == 0 ? 0 : level == 1 ? 37 : 160;
                    if (level == 0 && prec == 0)
                        CHECK(vdsp_resampler_create(&r, fi, fo, 0, channels) == VDSP_OK, "create");
                    else
                        CHECK(vdsp_resampler_create_from_design(&r, d, channels, block) == VDSP_OK,
                              "create from design");
                    if (!vdsp_resampler_use_kernel(r, level)) {
                        /* no such kernel here (level 0: no integer path in this build/CPU) */
                        vdsp_resampler_destroy(r);
                        if (level == 0) break;
                        continue;
                    }
                    levels_run++;
                    int16_t *dst = level == 0 ? ref16 : got16;
                    size_t pos = 0, done = 0, got = 0;
                    while (pos < n) {
                        size_t m = next_rand() % 500;
                        if (m > n - pos) m = n - pos;
                        CHECK(vdsp_resampler_process_i16(r, in16 + pos * channels, m,
                                                         dst + done * channels, NOUT - done,
                                                         &got) == VDSP_OK, "process");
                        pos += m;
                        done += got;
                    }
                    CHECK(vdsp_resampler_flush_i16(r, dst + done * channels, NOUT - done, &got) ==
                          VDSP_OK, "flush");
                    done += got;
                    if (level > 0)
                        CHECK(memcmp(ref16, got16, done * channels * sizeof(int16_t)) == 0,
                              "%d->%d x%d precision %d: kernel %d (block %zu) differs from the "
                              "C kernel", fi, fo, channels, prec, level, block);
                    vdsp_resampler_destroy(r);
                }
                vdsp_resample_design_destroy(d);
                }
            }
            /* full scale: random signs, then a square wave (its overshoot saturates);
             * int16 vs float path within 1 LSB */
            vdsp_resampler *ri, *rf;
            CHECK(vdsp_resampler_create(&ri, fi, fo, 0, 1) == VDSP_OK, "create");
            CHECK(vdsp_resampler_create(&rf, fi, fo, 0, 1) == VDSP_OK, "create");
            size_t n = (size_t)NIN * (size_t)fi / 48000, got = 0, got2 = 0;
            int low = fi < fo ? fi : fo, period = 2 * (fi / (low / 4));  /* ~ low / 8 Hz */
            for (size_t i = 0; i < n; i++) {
                if (i < n / 2)
                    worst[i] = next_rand() & 1 ? 32767 : -32768;
                else
                    worst[i] = (i / (size_t)(period / 2)) % 2 ? 32767 : -32768;
                in32[NIN + i] = worst[i] / 32768.0f;
            }
            CHECK(vdsp_resampler_process_i16(ri, worst, n, ref16, NOUT, &got) == VDSP_OK, "i16");
            CHECK(vdsp_resampler_process_f32(rf, in32 + NIN, n, got32, NOUT, &got2) == VDSP_OK,
                  "f32");
            int bad = 0, peak = 0;
            for (size_t i = 0; i < got; i++) {
                double v = got32[i] * 32768.0;
                v = v > 32767.0 ? 32767.0 : v < -32768.0 ? -32768.0 : v;
                if (fabs(v - ref16[i]) > 1.0) bad++;
                if (abs(ref16[i]) > peak) peak = abs(ref16[i]);
            }
            CHECK(got == got2 && bad == 0, "%d->%d: %d worst-case samples off by > 1 LSB", fi,
                  fo, bad);
            CHECK(peak >= 32767, "%d->%d: worst case does not saturate (peak %d)", fi, fo, peak);
            vdsp_resampler_destroy(ri);
            vdsp_resampler_destroy(rf);
        }
    }
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__)) && !defined(VDSP_NO_SIMD)
    if (__builtin_cpu_supports("avx2")) CHECK(levels_run > 0, "no kernel ran");
#endif
    /* mixing int16 and float calls on one object: the history follows (exact conversions
     * for int16-valued input), so each part equals a run of one kind on the whole input */
    static float x32[NIN];
    for (int i = 0; i < NIN; i++) x32[i] = in16[i] / 32768.0f;
    int pairs[][2] = {{8000, 16000}, {24000, 8000}, {44100, 16000}};
    for (int p = 0; p < 3; p++) {
        int fi = pairs[p][0], fo = pairs[p][1];
        vdsp_resampler *r, *a16, *a32;
        CHECK(vdsp_resampler_create(&r, fi, fo, 0, 1) == VDSP_OK, "create");
        CHECK(vdsp_resampler_create(&a16, fi, fo, 0, 1) == VDSP_OK, "create");
        CHECK(vdsp_resampler_create(&a32, fi, fo, 0, 1) == VDSP_OK, "create");
        size_t n1, n2, m1, m2, h = 777;
        vdsp_resampler_process_i16(a16, in16, NIN, ref16, NOUT, &n1);
        vdsp_resampler_process_f32(a32, x32, NIN, ref32, NOUT, &n2);
        vdsp_resampler_process_i16(r, in16, h, got16, NOUT, &m1);
        vdsp_resampler_process_f32(r, x32 + h, NIN - h, got32, NOUT, &m2);
        CHECK(m1 + m2 == n1 && memcmp(got32, ref32 + m1, m2 * sizeof(float)) == 0,
              "%d->%d: int16 then float differs from float", fi, fo);
        vdsp_resampler_reset(r);
        vdsp_resampler_process_f32(r, x32, h, got32, NOUT, &m1);
        vdsp_resampler_process_i16(r, in16 + h, NIN - h, got16, NOUT, &m2);
        CHECK(m1 + m2 == n1 && memcmp(got16, ref16 + m1, m2 * sizeof(int16_t)) == 0,
              "%d->%d: float then int16 differs from int16", fi, fo);
        vdsp_resampler_destroy(r);
        vdsp_resampler_destroy(a16);
        vdsp_resampler_destroy(a32);
    }
}

/* A lent work buffer (what the group calls use) gives exactly what the resampler's own
 * buffers give, whatever the buffer held before, for every pair, both precisions, mono (the
 * history then runs in the lent buffer too) and stereo, in random chunks with float calls
 * mixed in (the history switches kind). */
static void test_lent_scratch(void) {
    static uint32_t lent[8192];
    for (int prec = 0; prec < 2; prec++) {
        for (int a = 0; a < NRATES; a++) {
            for (int b = 0; b < NRATES; b++) {
                for (int ch = 1; ch <= 2; ch++) {
                    int fi = RATES[a], fo = RATES[b];
                    vdsp_resample_design *d = NULL;
                    vdsp_resampler *own = NULL, *ln = NULL;
                    size_t block = (size_t)fi / 50;  /* a 20 ms frame per pass, as bridges */
                    int st = vdsp_resample_design_create(&d, fi, fo, 0, prec);
                    if (st == VDSP_OK) st = vdsp_resampler_create_from_design(&own, d, ch, block);
                    if (st == VDSP_OK) st = vdsp_resampler_create_from_design(&ln, d, ch, block);
                    CHECK(st == VDSP_OK, "create %d->%d: %d", fi, fo, st);
                    CHECK(vdsp_resampler_scratch_bytes(ln) <= sizeof lent, "%d->%d: %zu bytes",
                          fi, fo, vdsp_resampler_scratch_bytes(ln));
                    size_t pos = 0, done = 0, n = (size_t)NIN * (size_t)fi / 48000;
                    int bad = 0;
                    while (st == VDSP_OK && pos < n) {
                        size_t m = next_rand() % (3 * block), g1 = 0, g2 = 0;
                        if (m > n - pos) m = n - pos;
                        if (next_rand() % 8 == 0) {
                            int s1 = vdsp_resampler_process_f32(own, in32 + ch * pos, m,
                                                                ref32, NOUT, &g1);
                            int s2 = vdsp_resampler_process_f32(ln, in32 + ch * pos, m,
                                                                got32, NOUT, &g2);
                            bad += s1 || s2 || g1 != g2 || memcmp(ref32, got32, g1 * ch * 4);
                        } else {
                            memset(lent, 0xA5, sizeof lent);
                            int s1 = vdsp_resampler_process_i16(own, in16 + ch * pos, m,
                                                                ref16 + ch * done, NOUT, &g1);
                            int s2 = vdsp_resampler_process_i16_scratch(
                                ln, in16 + ch * pos, m, got16 + ch * done, NOUT, &g2, lent);
                            bad += s1 || s2 || g1 != g2 ||
                                   memcmp(ref16 + ch * done, got16 + ch * done, g1 * ch * 2);
                            done += g1;
                        }
                        pos += m;
                        if (ch * (done + 3 * block) > NOUT) done = 0;
                    }
                    CHECK(bad == 0, "%d->%d prec %d ch %d: %d calls differ", fi, fo, prec, ch,
                          bad);
                    vdsp_resampler_destroy(own);
                    vdsp_resampler_destroy(ln);
                    vdsp_resample_design_destroy(d);
                }
            }
        }
    }
}

int main(void) {
    for (int i = 0; i < NIN * 2; i++) {
        double v = 20000.0 * sin(i * 0.0123) + 9000.0 * sin(i * 0.71) +
                   (double)(int)(next_rand() % 4001) - 2000.0;
        in16[i] = (int16_t)v;
        in32[i] = (float)(v / 32768.0);
    }
    in16[100] = 32767;
    in16[101] = -32768;
    test_errors();
    test_design_errors();
    test_pairs();
    test_reset_and_channels();
    test_signal();
    test_int_kernels();
    test_lent_scratch();
    return TEST_REPORT("test_resample");
}
