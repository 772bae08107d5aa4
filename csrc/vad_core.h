/*
 * Internal: the band-energy front end and noise-floor decision shared by vad.c and turn.c.
 * voicedsp/_turn_reference.py mirrors this file operation for operation (tests compare).
 */
#ifndef VOICEDSP_VAD_CORE_H
#define VOICEDSP_VAD_CORE_H

#include <stddef.h>
#include <stdint.h>

#define VDSP_NF_DOWN 0.5
#define VDSP_NF_UP_QUIET 0.024
#define VDSP_NF_UP_SPEECH 0.003
#define VDSP_ABS_MIN_ENERGY 144.0
#define VDSP_NF_MIN 1.0 /* the floor never drops below this (digital silence) */
#define VDSP_NF_INIT_MS 200 /* the floor starts as the mean of the first frames this long, */
#define VDSP_NF_INIT_JUMP 10.0 /* leaving out frames this much (10 dB) above it (speech) */

#define VDSP_MAX_DEC_SAMPLES 240 /* longest decimated frame: 30 ms at 8 kHz */

typedef struct {
    int32_t h[3];   /* last three decimated samples of the previous frame, newest first */
} vdsp_band_hist;

typedef struct {
    double up_quiet, up_speech, on, off2;
    double nf[2], prev[2];
    int primed, state;
    int init_frames, n_init, n_used; /* start-up averaging: length, frames seen, averaged */
} vdsp_vad_core;

/* Mean band energies per decimated sample of one frame of n = n_dec * dec samples. */
void vdsp_band_energies(const int16_t *x, size_t n_dec, int dec, vdsp_band_hist *hist,
                        double e[2]);

/* Their sum as one number: (sum a^2 + sum b^2) / norm, the sums added as integers (the far-end
 * reference of the turn detector). Half the squares of vdsp_band_energies at 8 kHz. */
double vdsp_band_energy_total(const int16_t *x, size_t n_dec, int dec, vdsp_band_hist *hist);

void vdsp_vad_core_init(vdsp_vad_core *c, int frame_ms, double threshold_db,
                        double release_db);
void vdsp_vad_core_reset(vdsp_vad_core *c);

/* Raw decision for band energies e with `extra` (echo estimate) energy to discount. */
static inline int vdsp_vad_core_decide(vdsp_vad_core *c, const double e[2], double extra)
{
    int raw;
    double tot;
    if (!c->primed) {
        c->nf[0] = e[0] > 1.0 ? e[0] : 1.0;
        c->nf[1] = e[1] > 1.0 ? e[1] : 1.0;
        c->primed = 1;
    }
    if (c->state) {
        double r0 = (e[0] + c->prev[0]) / c->nf[0];
        double r1 = (e[1] + c->prev[1]) / c->nf[1];
        raw = r0 > c->off2 || r1 > c->off2;
    } else {
        raw = e[0] > c->on * c->nf[0] || e[1] > c->on * c->nf[1];
    }
    tot = e[0] + e[1];
    if (raw && tot <= VDSP_ABS_MIN_ENERGY)
        raw = 0;
    if (raw && extra > 0.0 && tot <= c->nf[0] + c->nf[1] + extra)
        raw = 0;
    c->prev[0] = e[0];
    c->prev[1] = e[1];
    return raw;
}

/* Noise-floor update after a decision; with `hold`, the floor may fall but not rise (the
 * frame's energy is explained by something else than the ambient noise, e.g. echo). */
static inline void vdsp_vad_core_update_ex(vdsp_vad_core *c, const double e[2], int raw,
                                           int hold)
{
    int b;
    if (c->n_init < c->init_frames) {
        /* start of the stream: the floor is the running mean of the frames so far (not
         * those far above it: speech), so one quiet first frame cannot leave it low and
         * steady noise read as speech */
        c->n_init++;
        if (e[0] + e[1] <= (c->nf[0] + c->nf[1]) * VDSP_NF_INIT_JUMP) {
            c->n_used++;
            for (b = 0; b < 2; b++) {
                c->nf[b] += (e[b] - c->nf[b]) / (double)c->n_used;
                if (c->nf[b] < VDSP_NF_MIN)
                    c->nf[b] = VDSP_NF_MIN;
            }
        }
        c->state = raw;
        return;
    }
    for (b = 0; b < 2; b++) {
        double x = e[b];
        if (x < c->nf[b]) {
            c->nf[b] += VDSP_NF_DOWN * (x - c->nf[b]);
            if (c->nf[b] < VDSP_NF_MIN)
                c->nf[b] = VDSP_NF_MIN;
        } else if (hold) {
            /* keep the floor */
        } else if (!raw) {
            double y = c->nf[b] * c->up_quiet;
            c->nf[b] = y < x ? y : x;
        } else {
            c->nf[b] *= c->up_speech;
        }
    }
    c->state = raw;
}

static inline void vdsp_vad_core_update(vdsp_vad_core *c, const double e[2], int raw)
{
    vdsp_vad_core_update_ex(c, e, raw, 0);
}

#endif /* VOICEDSP_VAD_CORE_H */
