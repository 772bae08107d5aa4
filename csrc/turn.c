/* Turn detector: VAD with echo-aware gating, end of turn, backchannels, barge-in.
 * voicedsp/_turn_reference.py mirrors this file; keep the two in step. */
#include <math.h>
#include <stddef.h>
#include <stdlib.h>

#include "clones.h" /* first: its pragma must precede every inline float function */
#include "voicedsp/turn.h"
#include "voicedsp/vad.h"
#include "vad_core.h"
#include "group.h"
#include "turn_ref.h"

#define ONSET_MS 40            /* consecutive raw speech that opens a segment */
#define BRIDGE_MS 100          /* gaps up to this long stay inside one segment */
#define PRE_MS 0               /* segment start back-dated by this */
#define POST_MS 20             /* segment end extended by this + POST_TAIL x hidden tail */
#define POST_TAIL 0.75
#define BARGE_GAP_MS 220       /* a barge-in candidate survives silences up to this long */
#define BARGED_SPEECH_NUM 4    /* a turn with a confirmed barge-in commits on this fraction */
#define BARGED_SPEECH_DEN 5    /* of response_min_speech (echo masks part of its speech) */
#define AGENT_ACTIVE_ENERGY 900.0
#define AGENT_HANG_MS 300
#define ECHO_XC_DECAY 0.998
#define ECHO_MIN_FRAMES 10     /* downlink-active frames before the delay is trusted */
#define ECHO_TRAIN_FRAC 0.2    /* train the gain where the delayed downlink drives the echo */
#define ECHO_DECAY_DB 2.0
#define ECHO_Q 0.9
#define ECHO_G0_DB (-3.0)
#define ECHO_ETA0_DB 4.0
#define ECHO_ETA_DB 0.4
#define ECHO_FAST_FRAMES 50
#define ECHO_TRUNC_DB 6.0
#define ECHO_PULL_DB 6.0
#define ECHO_PULL 4.0
#define ECHO_MARGIN_DB 3.0
#define ECHO_NOISE_FRAC 0.7    /* an uplink excess over the noise floor under this fraction of
                                  the floor is the noise's own spread: no evidence of echo, it
                                  does not step an echo gain up */
#define ECHO_G_MIN_DB (-50.0)  /* echo gains never fall below this (bounds the climb back) */
#define ECHO_TIGHT_DB 5.0      /* tight echo model: echo-tail decay per 20 ms */
#define ECHO_CAP_DB 6.0        /* its gain stays within this above the conservative model's */
#define ECHO_FIT_DB 6.0        /* an estimate explains an uplink frame within this of it */
#define ECHO_FIT_DECAY 0.98    /* memory (per 20 ms) of the share of frames each model explains */
#define ECHO_FIT_MARGIN 0.1    /* the tight model is used alone while its share is this higher */
#define ECHO_XC_CLIP_DB 10.0   /* the delay search counts an uplink frame as at most this over
                                  the noise floor + the largest echo the downlink can cause */
#define ECHO_XC_AUDIBLE_DB 6.0 /* ... on a leg whose echo can be this far over the noise floor */
#define ECHO_DT_DECAY 0.9      /* double-talk detector: memory (per 20 ms) of the envelope
                                  correlation of the uplink with the echo estimate, */
#define ECHO_DT_MS 160         /* trusted after this long with the echo audible, */
#define ECHO_DT_CORR 0.3       /* double talk while that correlation is under this; */
#define ECHO_DT_MARGIN_DB 1.5  /* then the gate's echo margin (the estimate's other uses keep
                                  ECHO_MARGIN_DB) */
#define ECHO_HOLD_DB 12.0     /* the noise floor does not rise while the echo the gate discounts
                                  (estimate x margin) is this far above it (that energy is the
                                  agent's, not ambient) */
#define TAIL_REF_DB 33.0       /* speech ends this far below its peak */
#define TAIL_MS_PER_DB 9.0     /* extra silence per dB of that tail the noise floor hides */
#define TAIL_MAX_MS 300
#define LEVEL_BACK_MS 60       /* the speech level this long before the last speech frame, */
#define LEVEL_REF_DB 3.6       /* dB over the masking level, against this: a sudden drop into */
#define LEVEL_MS_PER_DB 8.0    /* the noise (high) hides more than a fade (low); ms per dB */
#define LEVEL_RING 8           /* power of two, > LEVEL_BACK_MS / 10 ms */
#define PEAK_REL_DB 40.0       /* within a turn, energy this far under its peak is not speech */
#define MASK_AFTER_MS 40       /* masking level taken up to this long after speech stops */
#define LOW_WIN_MS 600         /* low band (~100-700 Hz) energies kept this long after the last
                                  speech frame of a turn whose tail the noise hides (only then
                                  computed) */
#define LOW_EXT_MS 300         /* a tail heard in the low band is looked for up to this long, */
#define LOW_THR_DB 3.0         /* as frames this far above the median of the kept frames, */
#define LOW_GAP 2              /* gaps of up to this many frames bridged; */
#define LOW_WAIT_MS 20         /* the turn ends no earlier than silence + this after that tail */
#define LOW_RING 64            /* power of two, >= LOW_WIN_MS / 10 ms */
#define LOW_CLEAR_DB 7.0       /* the kept frames' median within this of the noise floor (A + B):
                                  a flat (white-like) noise leaves the low band clear, and a */
#define LOW_QUIET_MS 60        /* clear low band that hears no tail shortens the hidden-tail
                                  wait by this much */
#define ECHO_RING 64           /* power of two, > longest lag + 2 */
#define MAX_LAGS 61

struct vdsp_turn {
    /* configuration, in samples */
    int rate, dec, frame_ms;
    size_t n;
    int64_t silence, min_speech, min_speech_barged, interval, confirm, guard, prefix;
    int64_t onset, bridge, pre, post, agent_hang, barge_gap, mask_after;
    int instant, gating, lags, smooth;
    int64_t min_frames, fast_frames;
    double xc_decay, rho, g_up_fast, g_dn_fast, g_up, g_dn, g_dn_pull_fast, g_dn_pull;
    double trunc, pull, g0, margin, hold, tail_per_db, peak_rel, level_per_db;
    double rho_t, cap, fit_w, fit_a, fit_b, xc_clip, xc_audible, g_min;
    double dt_a, dt_b, dt_margin;
    int64_t dt_min;
    int64_t tail_max;
    int level_back;
    int low_win, low_ext;
    double low_thr, low_vis, low_clear_ratio;
    int64_t low_wait_extra, low_quiet;
    /* state */
    vdsp_band_hist uh, dh;
    double pe[2], pdt; /* previous frame's energies (10 ms frames: 20 ms window) */
    int have_pe;
    vdsp_vad_core core;
    int64_t t, k;
    double ring[ECHO_RING];
    double ring_amp[ECHO_RING]; /* sqrt of ring[], computed once per frame */
    double xc[MAX_LAGS];
    int64_t n_echo;
    int best;
    double g, env;
    double g_t, env_t;    /* tight model: fractional delay, fast tail */
    double fit_c, fit_t;  /* share of recent echo frames each model explains */
    double dt_mx, dt_my, dt_xx, dt_yy, dt_xy; /* envelopes' running means and (co)variances */
    int64_t dt_n;         /* frames in a row with the echo audible (capped at dt_min) */
    int agent_on, agent_seen, raw;
    int64_t last_agent;
    int seg_open, seg_confirmed;
    int64_t seg_start, seg_raw, last_raw_end, last_end_ref;
    int64_t last_speech; /* end of the last raw frame of a confirmed segment */
    int turn_open, has_commit, barged, has_cand;
    int64_t turn_start, last_commit, cand;
    int64_t cand_last; /* end of the candidate's last speech frame (over gate or gate_lo) */
    double turn_peak, mask_end;
    double lvl[LEVEL_RING]; /* recent frame energies (uplink, both bands) */
    double pre_end, end_extra;
    int end_echo;         /* the echo the gate discounted at the last speech frame was over
                             the noise floor (echo, not the line noise, masks the end) */
    int low_n;
    int64_t low_wait;     /* extra silence the low band asks for (-1: not yet decided) */
    int low_clear;        /* ... and whether its noise was near the A + B noise floor */
    /* last: only noisy turn ends touch it, so vdsp_turn_prefetch leaves it out */
    double low[LOW_RING]; /* low-band energies of the frames after the last speech frame */
};

void vdsp_turn_config_default(vdsp_turn_config *cfg)
{
    if (cfg == NULL)
        return;
    cfg->silence_threshold_ms = 500;
    cfg->response_min_speech_ms = 600;
    cfg->commit_min_interval_ms = 1500;
    cfg->barge_confirm_ms = 300;
    cfg->instant_barge = 0;
    cfg->mic_guard_ms = 0;
    cfg->prefix_padding_ms = 300;
    cfg->vad_threshold_db = VDSP_VAD_DEFAULT_THRESHOLD_DB;
    cfg->vad_release_db = VDSP_VAD_DEFAULT_RELEASE_DB;
    cfg->echo_gating = 1;
    cfg->echo_max_delay_ms = 300;
}

static int in_range(int v, int lo, int hi)
{
    return v >= lo && v <= hi;
}

static int64_t ms_to_samples(int ms, int rate)
{
    return (int64_t)ms * rate / 1000;
}

void vdsp_turn_reset(vdsp_turn *tt)
{
    int i;
    if (tt == NULL)
        return;
    tt->uh.h[0] = tt->uh.h[1] = tt->uh.h[2] = 0;
    tt->dh.h[0] = tt->dh.h[1] = tt->dh.h[2] = 0;
    tt->pe[0] = tt->pe[1] = tt->pdt = 0.0;
    tt->have_pe = 0;
    vdsp_vad_core_reset(&tt->core);
    tt->t = 0;
    tt->k = 0;
    for (i = 0; i < ECHO_RING; i++)
        tt->ring[i] = tt->ring_amp[i] = 0.0;
    for (i = 0; i < MAX_LAGS; i++)
        tt->xc[i] = 0.0;
    tt->n_echo = 0;
    tt->best = -1;
    tt->g = tt->g0;
    tt->env = 0.0;
    tt->g_t = tt->g0;
    tt->env_t = 0.0;
    tt->fit_c = tt->fit_t = 0.0;
    tt->dt_mx = tt->dt_my = tt->dt_xx = tt->dt_yy = tt->dt_xy = 0.0;
    tt->dt_n = 0;
    tt->agent_on = tt->agent_seen = tt->raw = 0;
    tt->last_agent = 0;
    tt->seg_open = tt->seg_confirmed = 0;
    tt->seg_start = tt->seg_raw = tt->last_raw_end = tt->last_end_ref = 0;
    tt->last_speech = 0;
    tt->turn_open = tt->has_commit = tt->barged = tt->has_cand = 0;
    tt->turn_start = tt->last_commit = tt->cand = tt->cand_last = 0;
    tt->turn_peak = 0.0;
    tt->mask_end = 0.0;
    for (i = 0; i < LEVEL_RING; i++)
        tt->lvl[i] = 0.0;
    tt->pre_end = tt->end_extra = 0.0;
    tt->end_echo = 0;
    for (i = 0; i < LOW_RING; i++)
        tt->low[i] = 0.0;
    tt->low_n = 0;
    tt->low_wait = -1;
    tt->low_clear = 0;
}

int vdsp_turn_create(int sample_rate_hz, int frame_ms, const vdsp_turn_config *cfg,
                     vdsp_turn **out)
{
    vdsp_turn_config def;
    vdsp_turn *tt;
    size_t n;
    double f;
    if (out == NULL)
        return VDSP_ERR_INVALID_ARGUMENT;
    *out = NULL;
    if (vdsp_vad_frame_samples(sample_rate_hz, 20) == 0)
        return VDSP_ERR_UNSUPPORTED_RATE;
    n = vdsp_vad_frame_samples(sample_rate_hz, frame_ms);
    if (n == 0)
        return VDSP_ERR_BAD_FRAME_SIZE;
    if (cfg == NULL) {
        vdsp_turn_config_default(&def);
        cfg = &def;
    }
    if (!in_range(cfg->silence_threshold_ms, 0, 10000) ||
        !in_range(cfg->response_min_speech_ms, 0, 10000) ||
        !in_range(cfg->commit_min_interval_ms, 0, 60000) ||
        !in_range(cfg->barge_confirm_ms, 0, 5000) || !in_range(cfg->mic_guard_ms, 0, 5000) ||
        !in_range(cfg->prefix_padding_ms, 0, 2000) ||
        !in_range(cfg->echo_max_delay_ms, 0, 600) ||
        !(cfg->vad_threshold_db > 0.0 && cfg->vad_threshold_db <= 40.0) ||
        !(cfg->vad_release_db >= 0.0 && cfg->vad_release_db <= cfg->vad_threshold_db))
        return VDSP_ERR_INVALID_ARGUMENT;
    tt = (vdsp_turn *)calloc(1, sizeof *tt);
    if (tt == NULL)
        return VDSP_ERR_NO_MEMORY;
    tt->rate = sample_rate_hz;
    tt->dec = sample_rate_hz / 8000;
    tt->frame_ms = frame_ms;
    tt->n = n;
    tt->silence = ms_to_samples(cfg->silence_threshold_ms, sample_rate_hz);
    tt->min_speech = ms_to_samples(cfg->response_min_speech_ms, sample_rate_hz);
    tt->min_speech_barged = tt->min_speech * BARGED_SPEECH_NUM / BARGED_SPEECH_DEN;
    tt->interval = ms_to_samples(cfg->commit_min_interval_ms, sample_rate_hz);
    tt->confirm = ms_to_samples(cfg->barge_confirm_ms, sample_rate_hz);
    tt->instant = cfg->instant_barge != 0;
    tt->guard = ms_to_samples(cfg->mic_guard_ms, sample_rate_hz);
    tt->prefix = ms_to_samples(cfg->prefix_padding_ms, sample_rate_hz);
    tt->onset = ms_to_samples(ONSET_MS, sample_rate_hz);
    tt->bridge = ms_to_samples(BRIDGE_MS, sample_rate_hz);
    tt->pre = ms_to_samples(PRE_MS, sample_rate_hz);
    tt->post = ms_to_samples(POST_MS, sample_rate_hz);
    tt->agent_hang = ms_to_samples(AGENT_HANG_MS, sample_rate_hz);
    tt->barge_gap = ms_to_samples(BARGE_GAP_MS, sample_rate_hz);
    tt->mask_after = ms_to_samples(MASK_AFTER_MS, sample_rate_hz);
    tt->peak_rel = pow(10.0, -PEAK_REL_DB / 10.0);
    tt->gating = cfg->echo_gating != 0;
    f = frame_ms / 20.0;
    tt->lags = cfg->echo_max_delay_ms / frame_ms + 1;
    tt->xc_decay = pow(ECHO_XC_DECAY, f);
    tt->rho = pow(10.0, -ECHO_DECAY_DB * f / 10.0);
    tt->rho_t = pow(10.0, -ECHO_TIGHT_DB * f / 10.0);
    tt->fit_a = pow(ECHO_FIT_DECAY, f);
    tt->fit_b = 1.0 - tt->fit_a;
    tt->dt_b = pow(ECHO_DT_DECAY, f);
    tt->dt_a = 1.0 - tt->dt_b;
    tt->dt_min = ECHO_DT_MS / frame_ms;
    tt->dt_margin = pow(10.0, ECHO_DT_MARGIN_DB / 10.0);
    {
        /* steps per frame and frame counts scale with the frame length */
        double eta0 = ECHO_ETA0_DB * f, eta = ECHO_ETA_DB * f;
        int64_t mf = (int64_t)(ECHO_MIN_FRAMES * 20 / frame_ms);
        tt->g_up_fast = pow(10.0, eta0 * ECHO_Q / 10.0);
        tt->g_dn_fast = pow(10.0, -eta0 * (1.0 - ECHO_Q) / 10.0);
        tt->g_up = pow(10.0, eta * ECHO_Q / 10.0);
        tt->g_dn = pow(10.0, -eta * (1.0 - ECHO_Q) / 10.0);
        tt->g_dn_pull_fast = pow(10.0, -eta0 * (1.0 - ECHO_Q) * ECHO_PULL / 10.0);
        tt->g_dn_pull = pow(10.0, -eta * (1.0 - ECHO_Q) * ECHO_PULL / 10.0);
        tt->min_frames = mf > ECHO_MIN_FRAMES ? mf : ECHO_MIN_FRAMES;
        tt->fast_frames = (int64_t)(ECHO_FAST_FRAMES * 20 / frame_ms);
    }
    tt->smooth = frame_ms < 20;
    tt->trunc = pow(10.0, ECHO_TRUNC_DB / 10.0);
    tt->pull = pow(10.0, -ECHO_PULL_DB / 10.0);
    tt->g0 = pow(10.0, ECHO_G0_DB / 10.0);
    tt->g_min = pow(10.0, ECHO_G_MIN_DB / 10.0);
    tt->margin = pow(10.0, ECHO_MARGIN_DB / 10.0);
    tt->hold = pow(10.0, ECHO_HOLD_DB / 10.0);
    tt->cap = pow(10.0, ECHO_CAP_DB / 10.0);
    tt->xc_clip = pow(10.0, ECHO_XC_CLIP_DB / 10.0);
    tt->xc_audible = pow(10.0, ECHO_XC_AUDIBLE_DB / 10.0);
    tt->fit_w = pow(10.0, ECHO_FIT_DB / 10.0);
    tt->tail_max = ms_to_samples(TAIL_MAX_MS, sample_rate_hz);
    tt->tail_per_db = TAIL_MS_PER_DB * sample_rate_hz / 1000.0;
    tt->level_per_db = LEVEL_MS_PER_DB * sample_rate_hz / 1000.0;
    tt->level_back = LEVEL_BACK_MS / frame_ms;
    tt->low_win = LOW_WIN_MS / frame_ms;
    tt->low_ext = LOW_EXT_MS / frame_ms;
    tt->low_thr = pow(10.0, LOW_THR_DB / 10.0);
    tt->low_vis = pow(10.0, TAIL_REF_DB / 10.0);
    tt->low_wait_extra = ms_to_samples(LOW_WAIT_MS, sample_rate_hz);
    tt->low_clear_ratio = pow(10.0, LOW_CLEAR_DB / 10.0);
    tt->low_quiet = ms_to_samples(LOW_QUIET_MS, sample_rate_hz);
    vdsp_vad_core_init(&tt->core, frame_ms, cfg->vad_threshold_db, cfg->vad_release_db);
    vdsp_turn_reset(tt);
    *out = tt;
    return VDSP_OK;
}

size_t vdsp_turn_frame_samples(const vdsp_turn *tt)
{
    return tt == NULL ? 0 : tt->n;
}

#define RING(i) tt->ring[(size_t)(i) & (ECHO_RING - 1)]
#define RING_AMP(i) tt->ring_amp[(size_t)(i) & (ECHO_RING - 1)]

/* One step of an echo model's gain tracker: the ECHO_Q quantile of the uplink energy (over
 * the noise floor nfs, ue) over the model's echo envelope. An excess under ECHO_NOISE_FRAC of
 * the floor is what line noise alone gives a frame (the floor follows the noise's lows): on a
 * noisy leg without echo such frames, counted as echo, held the estimate (x the margin) at
 * about the noise floor while the agent talked, so the gate counted the noise twice and a
 * caller a few dB over it went unheard. They only ever step the gain up: skipped there. */
static double train_gain(const vdsp_turn *tt, double g, double env, double ue, double nfs)
{
    double ge = g * env;
    int fast = tt->n_echo < tt->min_frames + tt->fast_frames;
    if (ue > ge * tt->trunc) {
        /* double talk: do not learn */
    } else if (ue > ge) {
        if (ue >= ECHO_NOISE_FRAC * nfs)
            g *= fast ? tt->g_up_fast : tt->g_up;
    } else if (ue < ge * tt->pull) {
        g *= fast ? tt->g_dn_pull_fast : tt->g_dn_pull;
    } else {
        g *= fast ? tt->g_dn_fast : tt->g_dn;
    }
    if (g < tt->g_min)
        return tt->g_min;
    return g > 1.0 ? 1.0 : g;
}

/* Whether the tight model alone is in use: it explains clearly more of the recent echo
 * frames than the conservative one. */
static int tight_alone(const vdsp_turn *tt)
{
    return tt->fit_t > tt->fit_c + ECHO_FIT_MARGIN;
}

/* The estimate in use: the tight model's alone (tight_alone), else the larger of the two. */
static double echo_out(const vdsp_turn *tt)
{
    double ec = tt->env * tt->g, et = tt->env_t * tt->g_t;
    if (tight_alone(tt))
        return et;
    return ec > et ? ec : et;
}

/* Echo energy the downlink explains in this uplink frame (before the margin). Two models
 * share the delay estimate (the peak of a correlation of frame amplitudes): a conservative
 * one (the largest of the three downlink frames around the delay, a slow ECHO_DECAY_DB tail)
 * and a tight one (the delay refined to a fraction of a frame by a parabola through the
 * peak, a fast ECHO_TIGHT_DB tail), each with its own gain. The tight gain is capped
 * ECHO_CAP_DB above the conservative one (a caller talking early in the agent's audio drives
 * the fast-learning tight gain up far more), and the tight model is used alone only where it
 * explains the echo better: on a leg with echo the conservative model overestimates the
 * echo's dips and decays, on a leg with none neither explains anything. */
static double echo_estimate(vdsp_turn *tt, const double e[2], double dt)
{
    int64_t k = tt->k;
    double recent = 0.0, drive, drive_t, ut;
    int j;
    RING(k) = dt;
    RING_AMP(k) = sqrt(dt);
    for (j = 0; j <= tt->lags; j++) {
        double v = RING(k - j);
        if (v > recent)
            recent = v;
    }
    if (recent <= AGENT_ACTIVE_ENERGY && tt->env <= AGENT_ACTIVE_ENERGY &&
        tt->env_t <= AGENT_ACTIVE_ENERGY) {
        /* decay the echo tails; flush to zero so no denormals build up in silence */
        tt->env = tt->env > 1e-3 ? tt->env * tt->rho : 0.0;
        tt->env_t = tt->env_t > 1e-3 ? tt->env_t * tt->rho_t : 0.0;
        return echo_out(tt);
    }
    ut = e[0] + e[1];
    if (recent > AGENT_ACTIVE_ENERGY) {
        /* Double talk: each frame of a caller 20 dB over the echo weighs as much as ten echo
         * frames in the correlation, and a few pull the delay to wherever the downlink was loud
         * (on a no-AEC leg the echo then leaks after the caller stops). Where the leg's echo
         * can be audible, a frame counts as at most ECHO_XC_CLIP_DB over the floor + the
         * largest echo the downlink can cause now; on a leg without audible echo the
         * caller's speech is all there is to correlate, and nothing changes. */
        double nf = tt->core.nf[0] + tt->core.nf[1], pot = recent * tt->g, su;
        int lag;
        if (tt->core.primed && pot > nf * tt->xc_audible && ut > (nf + pot) * tt->xc_clip)
            su = sqrt((nf + pot) * tt->xc_clip);
        else
            su = sqrt(ut);
        for (lag = 0; lag < tt->lags; lag++)
            tt->xc[lag] = tt->xc_decay * tt->xc[lag] + su * RING_AMP(k - lag);
        tt->n_echo++;
    }
    if (tt->n_echo >= tt->min_frames) {
        int best = 0, lag;
        double d0, dm, dp, a, c, den, delta;
        for (lag = 1; lag < tt->lags; lag++)
            if (tt->xc[lag] > tt->xc[best])
                best = lag;
        tt->best = best;
        d0 = RING(k - best);
        dm = best > 0 ? RING(k - best + 1) : 0.0;
        dp = RING(k - best - 1);
        drive = d0;
        if (dm > drive)
            drive = dm;
        if (dp > drive)
            drive = dp;
        a = best > 0 ? tt->xc[best - 1] : tt->xc[best];
        c = best + 1 < tt->lags ? tt->xc[best + 1] : tt->xc[best];
        den = a - 2.0 * tt->xc[best] + c;
        delta = den < 0.0 ? 0.5 * (a - c) / den : 0.0;
        if (delta >= 0.0)
            drive_t = (1.0 - delta) * d0 + delta * dp;
        else
            drive_t = (1.0 + delta) * d0 - delta * dm;
    } else {
        drive = drive_t = recent;
    }
    tt->env = drive + tt->env * tt->rho;
    tt->env_t = drive_t + tt->env_t * tt->rho_t;
    if (tt->core.primed && tt->n_echo >= tt->min_frames && !tt->has_cand) {
        /* (no learning while a barge-in candidate is pending: likely double talk) */
        double nfs = tt->core.nf[0] + tt->core.nf[1], ue = ut - nfs;
        if (tt->env > AGENT_ACTIVE_ENERGY && drive > tt->env * ECHO_TRAIN_FRAC) {
            /* where the delayed downlink drives the echo: which model explains the frame */
            double ec = tt->g * tt->env, et = tt->g_t * tt->env_t;
            tt->fit_c = tt->fit_a * tt->fit_c + (ue > ec / tt->fit_w && ue < ec * tt->fit_w ?
                                                 tt->fit_b : 0.0);
            tt->fit_t = tt->fit_a * tt->fit_t + (ue > et / tt->fit_w && ue < et * tt->fit_w ?
                                                 tt->fit_b : 0.0);
            tt->g = train_gain(tt, tt->g, tt->env, ue, nfs);
        }
        if (tt->env_t > AGENT_ACTIVE_ENERGY && drive_t > tt->env_t * ECHO_TRAIN_FRAC)
            tt->g_t = train_gain(tt, tt->g_t, tt->env_t, ue, nfs);
        if (tt->g_t > tt->g * tt->cap)
            tt->g_t = tt->g * tt->cap;
    }
    return echo_out(tt);
}

/* Double talk with the caller near the echo's level: the echo estimate follows the agent's
 * syllables, and so does an uplink that holds only their echo; a caller speaking over it
 * does not. Over the frames where the estimate is ECHO_XC_AUDIBLE_DB over the noise floor
 * (past the gain's fast-learning phase), running (ECHO_DT_DECAY per 20 ms) means, variances
 * and covariance of the fourth roots of the uplink energy and of the estimate + floor (a
 * compressed envelope, like a logarithm but cheaper); double talk while their correlation
 * is under ECHO_DT_CORR, once ECHO_DT_MS of such frames are in. est: the estimate in use. */
static int double_talk(vdsp_turn *tt, const double e[2], double est)
{
    double nf = tt->core.nf[0] + tt->core.nf[1], x, y;
    if (tt->n_echo < tt->min_frames + tt->fast_frames || est <= nf * tt->xc_audible) {
        tt->dt_n = 0;
        return 0;
    }
    x = sqrt(sqrt(e[0] + e[1]));
    y = sqrt(sqrt(est + nf));
    if (tt->dt_n == 0) {
        tt->dt_mx = x;
        tt->dt_my = y;
        tt->dt_xx = tt->dt_yy = tt->dt_xy = 0.0;
    } else {
        double dx = x - tt->dt_mx, dy = y - tt->dt_my;
        tt->dt_mx += tt->dt_a * dx;
        tt->dt_my += tt->dt_a * dy;
        tt->dt_xx = tt->dt_b * (tt->dt_xx + tt->dt_a * dx * dx);
        tt->dt_yy = tt->dt_b * (tt->dt_yy + tt->dt_a * dy * dy);
        tt->dt_xy = tt->dt_b * (tt->dt_xy + tt->dt_a * dx * dy);
    }
    if (tt->dt_n < tt->dt_min)
        tt->dt_n++;
    if (tt->dt_n < tt->dt_min)
        return 0;
    /* correlation < ECHO_DT_CORR, without a square root */
    return tt->dt_xy < 0.0 ||
           tt->dt_xy * tt->dt_xy < ECHO_DT_CORR * ECHO_DT_CORR * tt->dt_xx * tt->dt_yy;
}

static void emit(vdsp_turn_event *ev, int *n, int type, int64_t t, int64_t ref, int64_t start)
{
    ev[*n].type = type;
    ev[*n].t_samples = t;
    ev[*n].ref_samples = ref;
    ev[*n].start_samples = start;
    (*n)++;
}

static int64_t turn_audio(const vdsp_turn *tt)
{
    int64_t s = tt->turn_start - tt->prefix;
    return s > 0 ? s : 0;
}

/* Extra silence to wait: the part of the speech's decay (TAIL_REF_DB below its peak) that
 * the noise floor hid, so end of turn is not called early in noise. Under noise (not echo)
 * it is corrected by the level just before the speech was lost: still high, it dropped
 * into the noise mid-word (wait longer); low, it faded out (wait less). */
static int64_t hidden_tail(const vdsp_turn *tt)
{
    double floor = tt->mask_end, hidden, tail;
    int64_t t;
    if (tt->turn_peak <= floor)
        return 0;
    hidden = TAIL_REF_DB - 10.0 * log10(tt->turn_peak / floor);
    if (hidden <= 0.0)
        return 0;
    tail = hidden * tt->tail_per_db;
    if (tt->end_extra == 0.0 && tt->pre_end > 0.0) {
        tail += tt->level_per_db * (10.0 * log10(tt->pre_end / floor) - LEVEL_REF_DB);
        if (tail <= 0.0)
            return 0;
    }
    t = (int64_t)tail;
    return t < tt->tail_max ? t : tt->tail_max;
}

/* Mean energy of a ~100-700 Hz band of one frame of n_dec decimated samples d:
 * y = d0 + .. + d7 - d8 - .. - d15 (zeros at DC and every 1 kHz), as box sums of 2, 4 and 8
 * samples (each pass independent per sample, so it vectorises); no history (the first 15
 * outputs are left out), so nothing is kept between frames and nothing is computed on the
 * frames that do not need it. Integer and exact (|y| < 2^22), whatever the clone. */
VDSP_CLONES
static double low_band_energy(const int16_t *x, size_t n_dec, int dec)
{
    int32_t d[VDSP_MAX_DEC_SAMPLES], s2[VDSP_MAX_DEC_SAMPLES], s4[VDSP_MAX_DEC_SAMPLES];
    uint64_t s = 0;
    size_t i;
    if (dec == 1) {
        for (i = 0; i < n_dec; i++)
            d[i] = x[i];
    } else {
        for (i = 0; i < n_dec; i++) {
            int32_t v = 0;
            int j;
            for (j = 0; j < dec; j++)
                v += x[i * (size_t)dec + (size_t)j];
            d[i] = v;
        }
    }
    for (i = 1; i < n_dec; i++)
        s2[i] = d[i] + d[i - 1];
    for (i = 3; i < n_dec; i++)
        s4[i] = s2[i] + s2[i - 2];
    for (i = 7; i < n_dec; i++)
        d[i - 7] = s4[i] + s4[i - 4]; /* d[k] now holds the box sum of 8 ending at k + 7 */
    for (i = 15; i < n_dec; i++) {
        int32_t y = d[i - 7] - d[i - 15];
        s += (uint64_t)((int64_t)y * y);
    }
    return (double)s / (double)((n_dec - 15) * (size_t)dec * (size_t)dec);
}

/* The tail the low band still hears over the median of the frames kept since the last speech
 * frame (most of them noise), as extra silence to wait from that frame (low_wait, 0: none);
 * and whether that median is near the noise floor of bands A + B (low_clear: the noise is
 * flat enough that the low band would have heard a voiced tail). */
static void low_decide(vdsp_turn *tt)
{
    double v[LOW_RING], thr, med;
    int i, j, last = -1, gap = 0, m = tt->low_n < tt->low_ext ? tt->low_n : tt->low_ext;
    for (i = 0; i < tt->low_n; i++) {
        /* insertion sort: at most LOW_RING values, once per turn end */
        double x = tt->low[i];
        for (j = i; j > 0 && v[j - 1] > x; j--)
            v[j] = v[j - 1];
        v[j] = x;
    }
    med = v[tt->low_n / 2];
    tt->low_clear = med <= (tt->core.nf[0] + tt->core.nf[1]) * tt->low_clear_ratio;
    thr = med * tt->low_thr;
    for (i = 0; i < m; i++) {
        if (tt->low[i] > thr) {
            last = i;
            gap = 0;
        } else if (++gap > LOW_GAP) {
            break;
        }
    }
    tt->low_wait = last >= 0 ? (int64_t)(last + 1) * (int64_t)tt->n + tt->low_wait_extra : 0;
}

static void close_turn(vdsp_turn *tt)
{
    tt->turn_open = 0;
    tt->turn_peak = 0.0;
    tt->barged = 0;
}

static void end_segment(vdsp_turn *tt, vdsp_turn_event *ev, int *n, int64_t t1)
{
    if (tt->seg_confirmed) {
        tt->last_end_ref =
            tt->last_raw_end + tt->post + (int64_t)((double)hidden_tail(tt) * POST_TAIL);
        emit(ev, n, VDSP_TURN_SPEECH_END, t1, tt->last_end_ref, tt->last_end_ref);
    }
    tt->seg_open = 0;
    tt->seg_confirmed = 0;
}

static void onset(vdsp_turn *tt, vdsp_turn_event *ev, int *n, int64_t t1)
{
    if (!tt->turn_open) {
        tt->turn_open = 1;
        tt->turn_start = tt->seg_start;
        tt->barged = 0;
    }
    if (tt->agent_on && !tt->barged && !tt->has_cand) {
        if (tt->instant) {
            tt->barged = 1;
            emit(ev, n, VDSP_TURN_BARGE_IN, t1, tt->seg_start, tt->seg_start);
        } else {
            tt->has_cand = 1;
            tt->cand = tt->seg_start;
            tt->cand_last = t1;
            emit(ev, n, VDSP_TURN_BARGE_CANDIDATE, t1, tt->seg_start, tt->seg_start);
        }
    }
}

double vdsp_turn_reference_energy(vdsp_turn *tt, const int16_t *downlink, int silent)
{
    if (silent && (tt->dh.h[0] | tt->dh.h[1] | tt->dh.h[2]) == 0)
        return 0.0; /* zeros through a filter at rest */
    return vdsp_band_energy_total(downlink, tt->n / (size_t)tt->dec, tt->dec, &tt->dh);
}

int vdsp_turn_process(vdsp_turn *tt, const int16_t *uplink, const int16_t *downlink,
                      size_t n_samples, vdsp_turn_event *ev, size_t capacity)
{
    double dt = 0.0;
    /* the reference's filter moves only for a frame that will be processed */
    if (downlink != NULL && tt != NULL && uplink != NULL && ev != NULL && n_samples == tt->n &&
        capacity >= VDSP_TURN_MAX_EVENTS)
        dt = vdsp_turn_reference_energy(tt, downlink, 0);
    return vdsp_turn_process_ref(tt, uplink, dt, n_samples, ev, capacity);
}

int vdsp_turn_process_ref(vdsp_turn *tt, const int16_t *uplink, double dt, size_t n_samples,
                          vdsp_turn_event *ev, size_t capacity)
{
    double e[2], extra = 0.0, gate = 0.0, gate_lo = 0.0;
    int64_t t0, t1;
    int raw, raw_lo, agent_now, n = 0;
    if (tt == NULL || uplink == NULL || ev == NULL)
        return VDSP_ERR_INVALID_ARGUMENT;
    if (n_samples != tt->n)
        return VDSP_ERR_BAD_FRAME_SIZE;
    if (capacity < VDSP_TURN_MAX_EVENTS)
        return VDSP_ERR_BUFFER_TOO_SMALL;
    vdsp_band_energies(uplink, tt->n / (size_t)tt->dec, tt->dec, &tt->uh, e);
    if (tt->smooth) {
        /* 10 ms frames decide on a sliding 20 ms window, like 20 ms frames */
        double cur0 = e[0], cur1 = e[1], curd = dt;
        if (tt->have_pe) {
            e[0] = (e[0] + tt->pe[0]) * 0.5;
            e[1] = (e[1] + tt->pe[1]) * 0.5;
        }
        dt = (dt + tt->pdt) * 0.5;
        tt->pe[0] = cur0;
        tt->pe[1] = cur1;
        tt->pdt = curd;
        tt->have_pe = 1;
    }
    t0 = tt->t;
    t1 = t0 + (int64_t)tt->n;
    tt->t = t1;
    tt->k++;
    agent_now = dt > AGENT_ACTIVE_ENERGY;
    if (agent_now) {
        tt->agent_on = 1;
        tt->last_agent = t1;
        tt->agent_seen = 1;
    } else if (tt->agent_on && t1 - tt->last_agent >= tt->agent_hang) {
        tt->agent_on = 0;
    }
    if (tt->gating) {
        /* the gate's margin is lower in double talk; what masks a tail and what holds the
         * noise floor stay the estimate x the full margin (the echo is as loud as before) */
        double est = echo_estimate(tt, e, dt);
        int dtalk = double_talk(tt, e, est);
        extra = est * tt->margin;
        gate = dtalk ? est * tt->dt_margin : extra;
        gate_lo = gate;
        if (dtalk && tt->has_cand) {
            /* a barge-in candidate on a frame the double-talk detector flags (only ever over
             * an audible echo, see double_talk): the caller's speech is also looked for over
             * the smaller of the two models' estimates (it holds and confirms the candidate,
             * see below); the conservative model's slow tail and widened delay overstate the
             * echo between the agent's syllables. Frames not flagged keep the gate: the
             * echo's own frames over the smaller estimate would hold a candidate the echo
             * opened */
            double ec = tt->env * tt->g, et = tt->env_t * tt->g_t;
            gate_lo = (ec < et ? ec : et) * tt->dt_margin;
        }
    }
    raw_lo = vdsp_vad_core_decide(&tt->core, e, gate_lo);
    raw = raw_lo;
    if (raw && gate > gate_lo && e[0] + e[1] <= tt->core.nf[0] + tt->core.nf[1] + gate)
        raw = 0; /* under the gate's full estimate */
    if (raw_lo && e[0] + e[1] < tt->turn_peak * tt->peak_rel)
        raw = raw_lo = 0; /* a tail this far under the turn's peak is over */
    if (raw_lo && tt->guard > 0 && !agent_now && tt->agent_seen &&
        t0 < tt->last_agent + tt->guard)
        raw = raw_lo = 0;
    vdsp_vad_core_update_ex(&tt->core, e, raw,
                            extra > tt->hold * (tt->core.nf[0] + tt->core.nf[1]));
    tt->raw = raw;
    tt->lvl[(size_t)tt->k & (LEVEL_RING - 1)] = e[0] + e[1];
    if (raw) {
        /* the level a little before the last speech frame, and whether echo masked it */
        tt->pre_end = tt->lvl[(size_t)(tt->k - tt->level_back) & (LEVEL_RING - 1)];
        tt->end_extra = extra;
        tt->end_echo = extra > tt->core.nf[0] + tt->core.nf[1];
    }
    if (raw) {
        tt->mask_end = tt->core.nf[0] + tt->core.nf[1] + extra;
    } else if (t0 - tt->last_raw_end < tt->mask_after) {
        /* what hides a tail is the masking level just after the last speech heard */
        double m = tt->core.nf[0] + tt->core.nf[1] + extra;
        if (m > tt->mask_end)
            tt->mask_end = m;
    }
    if (raw && tt->seg_confirmed && e[0] + e[1] > tt->turn_peak)
        tt->turn_peak = e[0] + e[1];
    if (raw) {
        tt->low_n = 0;
        tt->low_wait = -1;
    } else if (tt->turn_open && tt->low_n < tt->low_win && tt->low_wait < 0 &&
               !tt->end_echo && tt->turn_peak < tt->mask_end * tt->low_vis &&
               t0 - tt->last_raw_end == (int64_t)tt->low_n * (int64_t)tt->n) {
        /* after the last speech frame of a turn whose tail the noise hides: keep the low
         * band, where a voiced tail's fundamental and first formant stay audible (also with
         * the agent talking, while the echo estimate is under the noise floor: the kept
         * frames' median is then still the line noise) */
        tt->low[tt->low_n++] = low_band_energy(uplink, tt->n / (size_t)tt->dec, tt->dec);
    }

    /* segments: raw speech frames, gaps up to BRIDGE_MS bridged */
    if (raw) {
        /* a new segment after a long gap; an unconfirmed one restarts at any gap (the
         * onset must be ONSET_MS of consecutive speech frames) */
        if (!tt->seg_open || t0 - tt->last_raw_end > tt->bridge ||
            (!tt->seg_confirmed && t0 > tt->last_raw_end)) {
            if (tt->seg_open)
                end_segment(tt, ev, &n, t1);
            tt->seg_open = 1;
            tt->seg_confirmed = 0;
            tt->seg_start = t0;
            tt->seg_raw = 0;
        }
        tt->seg_raw += (int64_t)tt->n;
        tt->last_raw_end = t1;
        if (!tt->seg_confirmed) {
            if (tt->seg_raw >= tt->onset) {
                int64_t s = tt->seg_start - tt->pre;
                if (s < tt->last_end_ref)
                    s = tt->last_end_ref; /* segments never overlap */
                tt->seg_confirmed = 1;
                emit(ev, &n, VDSP_TURN_SPEECH_START, t1, s, s);
                onset(tt, ev, &n, t1);
            }
        }
        if (tt->seg_confirmed)
            tt->last_speech = t1;
    } else if (tt->seg_open && t1 - tt->last_raw_end > tt->bridge) {
        end_segment(tt, ev, &n, t1);
    }
    /* barge-in: hold and confirm (on speech over the gate, or in double talk over the
     * smaller echo model: raw_lo) */
    if (tt->has_cand && raw_lo)
        tt->cand_last = t1;
    if (tt->has_cand && !raw && t1 - tt->cand_last > tt->barge_gap) {
        emit(ev, &n, VDSP_TURN_BARGE_REJECTED, t1, tt->cand, tt->cand);
        tt->has_cand = 0;
    }
    if (tt->has_cand && raw_lo && t1 - tt->cand >= tt->confirm) {
        tt->barged = 1;
        emit(ev, &n, VDSP_TURN_BARGE_IN, t1, tt->cand, tt->cand);
        tt->has_cand = 0;
    }
    /* end of turn */
    if (tt->turn_open && t1 - tt->last_raw_end >= tt->silence) {
        int64_t wait = hidden_tail(tt);
        if (tt->low_n > 0) {
            if (tt->low_wait < 0)
                low_decide(tt);
            /* the low band was clear and heard nothing: no voiced tail went on under the
             * noise, and the level-based guess waits too long */
            if (tt->low_clear && tt->low_wait == 0)
                wait = wait > tt->low_quiet ? wait - tt->low_quiet : 0;
            /* the low band heard the tail go on: wait for silence after it */
            if (tt->low_wait > wait)
                wait = tt->low_wait;
        }
        if (t1 - tt->last_raw_end >= tt->silence + wait) {
            /* speech held over the agent for barge_confirm_ms already showed a real turn,
             * and the echo estimate hides part of it (often the end): it needs less heard
             * speech */
            int64_t need = tt->barged ? tt->min_speech_barged : tt->min_speech;
            if (tt->last_speech - tt->turn_start >= need) {
                if (!tt->has_commit || t1 - tt->last_commit >= tt->interval) {
                    emit(ev, &n, VDSP_TURN_COMMIT, t1, tt->last_raw_end, turn_audio(tt));
                    tt->last_commit = t1;
                    tt->has_commit = 1;
                    close_turn(tt);
                }
            } else {
                emit(ev, &n, VDSP_TURN_BACKCHANNEL, t1, tt->last_raw_end, turn_audio(tt));
                close_turn(tt);
            }
        }
    }
    return n;
}

int vdsp_turn_inspect(const vdsp_turn *tt, int *vad_raw, int *agent_audible,
                      double *echo_delay_ms, double *echo_gain_db)
{
    if (tt == NULL)
        return VDSP_ERR_INVALID_ARGUMENT;
    if (vad_raw != NULL)
        *vad_raw = tt->raw;
    if (agent_audible != NULL)
        *agent_audible = tt->agent_on;
    if (echo_delay_ms != NULL)
        *echo_delay_ms = tt->best >= 0 ? (double)tt->best * tt->frame_ms : -1.0;
    if (echo_gain_db != NULL)
        *echo_gain_db = 10.0 * log10(tight_alone(tt) ? tt->g_t : tt->g);
    return VDSP_OK;
}

void vdsp_turn_destroy(vdsp_turn *tt)
{
    free(tt);
}

void vdsp_turn_prefetch(const vdsp_turn *tt, int stage) {
    int64_t i, k;
    if (tt == NULL)
        return;
    if (stage == 0) {
        vdsp_prefetch_span(tt, offsetof(vdsp_turn, ring), 1);
        return;
    }
    /* of the echo rings, the next frame touches the last lags + 2 entries; of xc, lags */
    k = tt->k + 1;
    for (i = k - tt->lags - 1; i < k + 8; i += 8) {
        VDSP_PREFETCH_W(&RING(i < k ? i : k));
        VDSP_PREFETCH_W(&RING_AMP(i < k ? i : k));
    }
    vdsp_prefetch_span(tt->xc, (size_t)tt->lags * sizeof tt->xc[0], 1);
    vdsp_prefetch_span(&tt->n_echo, offsetof(vdsp_turn, low) - offsetof(vdsp_turn, n_echo), 1);
}
