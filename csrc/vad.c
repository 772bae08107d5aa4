/* Energy VAD: band energies, adaptive noise floor, hysteresis (see voicedsp/vad.h). */
#include <math.h>
#include <stdlib.h>

#include "clones.h" /* first: its pragma must precede every inline float function */
#include "voicedsp/vad.h"
#include "vad_core.h"

struct vdsp_vad {
    int dec, smooth, have_pe;
    size_t n;
    double pe[2]; /* previous frame's energies (10 ms frames decide on 20 ms) */
    vdsp_band_hist hist;
    vdsp_vad_core core;
};

size_t vdsp_vad_frame_samples(int sample_rate_hz, int frame_ms)
{
    if (sample_rate_hz != 8000 && sample_rate_hz != 16000 && sample_rate_hz != 24000 &&
        sample_rate_hz != 48000)
        return 0;
    if (frame_ms != 10 && frame_ms != 20 && frame_ms != 30)
        return 0;
    return (size_t)sample_rate_hz / 1000 * (size_t)frame_ms;
}

/* Both band FIRs over the frame: a = x0 + x1 - x2 - x3, b = x0 - x1 - x2 + x3 (x0 the newest
 * sample; after decimation by summing `dec` samples). Integer arithmetic, squared without
 * overflow: |a| < 2^20, so a^2 fits in 64 bits and the sums are exact whatever the order, so
 * the compiler may vectorise freely and every clone gives the same result. */
VDSP_CLONES
static void band_sums(const int16_t *x, size_t n_dec, int dec, vdsp_band_hist *hist,
                      uint64_t *sum_a, uint64_t *sum_b)
{
    uint64_t sa = 0, sb = 0;
    size_t i;
    if (dec == 1 && n_dec >= 3) {
        /* the first three outputs reach into the previous frame; the rest read x directly */
        int32_t w[6] = {hist->h[2], hist->h[1], hist->h[0], x[0], x[1], x[2]};
        for (i = 0; i < 3; i++) {
            int32_t a = w[i + 3] + w[i + 2] - w[i + 1] - w[i];
            int32_t b = w[i + 3] - w[i + 2] - w[i + 1] + w[i];
            sa += (uint64_t)((int64_t)a * a);
            sb += (uint64_t)((int64_t)b * b);
        }
        for (i = 3; i < n_dec; i++) {
            int32_t a = (int32_t)x[i] + x[i - 1] - x[i - 2] - x[i - 3];
            int32_t b = (int32_t)x[i] - x[i - 1] - x[i - 2] + x[i - 3];
            sa += (uint64_t)((int64_t)a * a);
            sb += (uint64_t)((int64_t)b * b);
        }
        hist->h[0] = x[n_dec - 1];
        hist->h[1] = x[n_dec - 2];
        hist->h[2] = x[n_dec - 3];
    } else {
        int32_t buf[VDSP_MAX_DEC_SAMPLES + 3];
        buf[0] = hist->h[2];
        buf[1] = hist->h[1];
        buf[2] = hist->h[0];
        for (i = 0; i < n_dec; i++) {
            int32_t s = 0;
            int j;
            for (j = 0; j < dec; j++)
                s += x[i * (size_t)dec + (size_t)j];
            buf[i + 3] = s;
        }
        for (i = 0; i < n_dec; i++) {
            int32_t a = buf[i + 3] + buf[i + 2] - buf[i + 1] - buf[i];
            int32_t b = buf[i + 3] - buf[i + 2] - buf[i + 1] + buf[i];
            sa += (uint64_t)((int64_t)a * a);
            sb += (uint64_t)((int64_t)b * b);
        }
        hist->h[0] = buf[n_dec + 2];
        hist->h[1] = buf[n_dec + 1];
        hist->h[2] = buf[n_dec];
    }
    *sum_a = sa;
    *sum_b = sb;
}

void vdsp_band_energies(const int16_t *x, size_t n_dec, int dec, vdsp_band_hist *hist,
                        double e[2])
{
    uint64_t sa, sb;
    double norm = (double)(n_dec * (size_t)dec * (size_t)dec);
    band_sums(x, n_dec, dec, hist, &sa, &sb);
    e[0] = (double)sa / norm;
    e[1] = (double)sb / norm;
}

/* At 8 kHz: with p_i = x_i - x_{i-2}, a_i = p_i + p_{i-1} and b_i = p_i - p_{i-1}, so
 * a_i^2 + b_i^2 = 2 (p_i^2 + p_{i-1}^2), and over the frame (i = 0 .. n - 1)
 * sum a^2 + sum b^2 = 2 (2 sum p_i^2 - p_{n-1}^2 + p_{-1}^2): one square per sample. The same
 * integer as the two sums; elsewhere it is their sum. */
VDSP_CLONES
static double energy_total(const int16_t *x, size_t n_dec, int dec, vdsp_band_hist *hist)
{
    if (dec == 1 && n_dec >= 3) {
        int64_t pm1 = (int64_t)hist->h[0] - hist->h[2];  /* p_{-1} */
        int64_t p0 = (int64_t)x[0] - hist->h[1], p1 = (int64_t)x[1] - hist->h[0];
        int64_t pl = (int64_t)x[n_dec - 1] - x[n_dec - 3];
        uint64_t s = (uint64_t)(p0 * p0) + (uint64_t)(p1 * p1);
        size_t i;
        for (i = 2; i < n_dec; i++) {
            int32_t p = (int32_t)x[i] - x[i - 2];
            s += (uint64_t)((int64_t)p * p);
        }
        hist->h[0] = x[n_dec - 1];
        hist->h[1] = x[n_dec - 2];
        hist->h[2] = x[n_dec - 3];
        return (double)(2 * (2 * s - (uint64_t)(pl * pl) + (uint64_t)(pm1 * pm1))) /
               (double)n_dec;
    }
    {
        uint64_t sa, sb;
        band_sums(x, n_dec, dec, hist, &sa, &sb);
        return (double)(sa + sb) / (double)(n_dec * (size_t)dec * (size_t)dec);
    }
}

/* Not itself cloned: clang 14 names a cloned function's dispatcher "<name>.ifunc", which
 * other files cannot link to. */
double vdsp_band_energy_total(const int16_t *x, size_t n_dec, int dec, vdsp_band_hist *hist)
{
    return energy_total(x, n_dec, dec, hist);
}

void vdsp_vad_core_init(vdsp_vad_core *c, int frame_ms, double threshold_db, double release_db)
{
    double f = frame_ms / 20.0;
    c->up_quiet = 1.0 + VDSP_NF_UP_QUIET * f;
    c->up_speech = 1.0 + VDSP_NF_UP_SPEECH * f;
    c->on = pow(10.0, threshold_db / 10.0);
    c->off2 = 2.0 * pow(10.0, release_db / 10.0);
    c->init_frames = VDSP_NF_INIT_MS / frame_ms;
    vdsp_vad_core_reset(c);
}

void vdsp_vad_core_reset(vdsp_vad_core *c)
{
    c->nf[0] = c->nf[1] = 0.0;
    c->prev[0] = c->prev[1] = 0.0;
    c->primed = 0;
    c->state = 0;
    c->n_init = 0;
    c->n_used = 0;
}

int vdsp_vad_create(int sample_rate_hz, int frame_ms, double threshold_db, double release_db,
                    vdsp_vad **out)
{
    vdsp_vad *v;
    size_t n;
    if (out == NULL)
        return VDSP_ERR_INVALID_ARGUMENT;
    *out = NULL;
    if (vdsp_vad_frame_samples(sample_rate_hz, 20) == 0)
        return VDSP_ERR_UNSUPPORTED_RATE;
    n = vdsp_vad_frame_samples(sample_rate_hz, frame_ms);
    if (n == 0)
        return VDSP_ERR_BAD_FRAME_SIZE;
    if (!(threshold_db > 0.0 && threshold_db <= 40.0) ||
        !(release_db >= 0.0 && release_db <= threshold_db))
        return VDSP_ERR_INVALID_ARGUMENT;
    v = (vdsp_vad *)calloc(1, sizeof *v);
    if (v == NULL)
        return VDSP_ERR_NO_MEMORY;
    v->dec = sample_rate_hz / 8000;
    v->n = n;
    v->smooth = frame_ms < 20;
    vdsp_vad_core_init(&v->core, frame_ms, threshold_db, release_db);
    *out = v;
    return VDSP_OK;
}

int vdsp_vad_process(vdsp_vad *vad, const int16_t *frame, size_t n_samples)
{
    double e[2];
    int raw;
    if (vad == NULL || frame == NULL)
        return VDSP_ERR_INVALID_ARGUMENT;
    if (n_samples != vad->n)
        return VDSP_ERR_BAD_FRAME_SIZE;
    vdsp_band_energies(frame, vad->n / (size_t)vad->dec, vad->dec, &vad->hist, e);
    if (vad->smooth) {
        double c0 = e[0], c1 = e[1];
        if (vad->have_pe) {
            e[0] = (e[0] + vad->pe[0]) * 0.5;
            e[1] = (e[1] + vad->pe[1]) * 0.5;
        }
        vad->pe[0] = c0;
        vad->pe[1] = c1;
        vad->have_pe = 1;
    }
    raw = vdsp_vad_core_decide(&vad->core, e, 0.0);
    vdsp_vad_core_update(&vad->core, e, raw);
    return raw;
}

int vdsp_vad_noise_floor_db(const vdsp_vad *vad, double out_db[2])
{
    int b;
    if (vad == NULL || out_db == NULL)
        return VDSP_ERR_INVALID_ARGUMENT;
    for (b = 0; b < 2; b++) {
        double nf = vad->core.primed ? vad->core.nf[b] : 0.0;
        out_db[b] = nf > 0.0 ? 10.0 * log10(nf / (32768.0 * 32768.0)) : -200.0;
    }
    return VDSP_OK;
}

void vdsp_vad_reset(vdsp_vad *vad)
{
    if (vad == NULL)
        return;
    vad->hist.h[0] = vad->hist.h[1] = vad->hist.h[2] = 0;
    vad->pe[0] = vad->pe[1] = 0.0;
    vad->have_pe = 0;
    vdsp_vad_core_reset(&vad->core);
}

void vdsp_vad_destroy(vdsp_vad *vad)
{
    free(vad);
}
