/* libFuzzer target for the resampler (`make -C csrc fuzz`). The input picks a rate pair,
 * quality, channel count and sample type, then a sequence of chunk sizes and the samples.
 * Checks: no crash or sanitizer report (NaN/Inf float input included), every call returns
 * exactly vdsp_resampler_max_output() frames, flush returns vdsp_resampler_flush_output(),
 * and the chunked stream is bit-identical to one call on the whole (finite) input; int16
 * streams may take some calls through a lent work buffer (what group calls do), allocated to
 * exactly vdsp_resampler_scratch_bytes() and scribbled over between calls. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "voicedsp/resample.h"
#include "voicedsp/status.h"
#include "../group.h"

static const int RATES[] = {8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000};
#define MAX_FRAMES 4096

static size_t run(vdsp_resampler *r, int f32, const void *in, size_t n, const uint8_t *cuts,
                  size_t n_cuts, void *out, size_t cap, int channels, int lend) {
    size_t pos = 0, done = 0, c = 0, es = f32 ? sizeof(float) : sizeof(int16_t);
    int last_empty = 0;
    while (pos < n) {
        size_t m = n_cuts ? (size_t)cuts[c++ % n_cuts] * 3 : n;
        if (m == 0 && last_empty) m = 1;  /* empty calls are allowed, but keep moving */
        last_empty = m == 0;
        if (m > n - pos) m = n - pos;
        size_t want = vdsp_resampler_max_output(r, m), got = 0;
        const unsigned char *src = (const unsigned char *)in + pos * es * (size_t)channels;
        unsigned char *dst = (unsigned char *)out + done * es * (size_t)channels;
        void *lent = NULL;
        size_t lent_bytes = vdsp_resampler_scratch_bytes(r);
        if (lend && lent_bytes && (c & 1)) {
            lent = malloc(lent_bytes);
            if (!lent) abort();
            memset(lent, 0x5A, lent_bytes);
        }
        int st = f32 ? vdsp_resampler_process_f32(r, (const float *)src, m, (float *)dst,
                                                  cap - done, &got)
                     : vdsp_resampler_process_i16_scratch(r, (const int16_t *)src, m,
                                                          (int16_t *)dst, cap - done, &got, lent);
        free(lent);
        if (st != VDSP_OK || got != want) abort();
        pos += m;
        done += got;
    }
    size_t want = vdsp_resampler_flush_output(r), got = 0;
    unsigned char *dst = (unsigned char *)out + done * es * (size_t)channels;
    int st = f32 ? vdsp_resampler_flush_f32(r, (float *)dst, cap - done, &got)
                 : vdsp_resampler_flush_i16(r, (int16_t *)dst, cap - done, &got);
    if (st != VDSP_OK || got != want) abort();
    return done + got;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 6) return 0;
    int in_rate = RATES[data[0] % 9], out_rate = RATES[data[1] % 9];
    int quality = data[2] & 1, f32 = (data[2] >> 1) & 1, lend = (data[2] >> 2) & 1;
    int channels = 1 + data[3] % 3;
    size_t n_cuts = data[4] % 16;
    data += 5;
    size -= 5;
    if (n_cuts > size) n_cuts = size;
    const uint8_t *cuts = data;
    data += n_cuts;
    size -= n_cuts;

    size_t es = f32 ? sizeof(float) : sizeof(int16_t);
    size_t n = size / (es * (size_t)channels);
    if (n > MAX_FRAMES) n = MAX_FRAMES;
    size_t cap = n * 6 + 1024;  /* > n * out / in + latency + 1 for every pair */
    void *in = malloc(n * es * (size_t)channels + 1);
    void *a = malloc(cap * es * (size_t)channels);
    void *b = malloc(cap * es * (size_t)channels);
    vdsp_resampler *r1 = NULL, *r2 = NULL;
    if (!in || !a || !b) abort();
    memcpy(in, data, n * es * (size_t)channels);
    if (vdsp_resampler_create(&r1, in_rate, out_rate, quality, channels) != VDSP_OK ||
        vdsp_resampler_create(&r2, in_rate, out_rate, quality, channels) != VDSP_OK)
        abort();

    /* raw bytes as floats: NaN and Inf must not crash */
    run(r1, f32, in, n, cuts, n_cuts, a, cap, channels, lend);
    vdsp_resampler_reset(r1);
    if (f32) {
        float *x = in;
        for (size_t i = 0; i < n * (size_t)channels; i++)
            if (!isfinite(x[i]) || fabsf(x[i]) > 1e6f) x[i] = 0.0f;
    }
    size_t na = run(r1, f32, in, n, cuts, n_cuts, a, cap, channels, lend);
    size_t nb = run(r2, f32, in, n, NULL, 0, b, cap, channels, 0);
    if (na != nb || memcmp(a, b, na * es * (size_t)channels) != 0) abort();

    vdsp_resampler_destroy(r1);
    vdsp_resampler_destroy(r2);
    free(in);
    free(a);
    free(b);
    return 0;
}
