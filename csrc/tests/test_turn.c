/* C-level tests of the VAD and turn detector: exact events for scripted frames, errors. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "voicedsp/turn.h"
#include "voicedsp/vad.h"
#include "../vad_core.h"
#include "vdsp_test.h"

#define N 160
#define PI 3.14159265358979323846

static void speech_frame(int16_t *x, int n, int dec)
{
    int i;
    for (i = 0; i < n; i++)
        x[i] = (int16_t)(12000.0 * sin(2.0 * 3.14159265358979 * 1000.0 * i / (8000.0 * dec)));
    for (i = n - 3 * dec; i < n; i++)
        x[i] = 0; /* no edge carried into the next frame */
}

/* Run `sil0` silent frames, `sp` speech frames, `sil1` silent frames; collect events. */
static int run(vdsp_turn *t, int n, int dec, int sil0, int sp, int sil1, const int16_t *down,
               vdsp_turn_event *all, int cap)
{
    int16_t speech[N * 9], silence[N * 9]; /* up to 30 ms at 48 kHz */
    vdsp_turn_event ev[VDSP_TURN_MAX_EVENTS];
    int f, k, total = 0;
    speech_frame(speech, n, dec);
    memset(silence, 0, sizeof silence);
    for (f = 0; f < sil0 + sp + sil1; f++) {
        const int16_t *up = (f >= sil0 && f < sil0 + sp) ? speech : silence;
        int r = vdsp_turn_process(t, up, down, (size_t)n, ev, VDSP_TURN_MAX_EVENTS);
        if (r < 0)
            return r;
        for (k = 0; k < r && total < cap; k++)
            all[total++] = ev[k];
    }
    return total;
}

static int find(const vdsp_turn_event *ev, int n, int type)
{
    int i;
    for (i = 0; i < n; i++)
        if (ev[i].type == type)
            return i;
    return -1;
}

/* 4 s at `rate` of white noise (sum of uniforms, sd ~300) with 800 ms of a 1 kHz tone from
 * 1 s, fading out over 100 ms, and with murmur_amp > 0 a 150 + 300 Hz murmur under the fade
 * and for 200 ms after it (ending at 2100 ms), which the two VAD bands cannot hear over the
 * noise. Returns the first commit time in ms (-1: none). */
static double noisy_turn_commit(int rate, int fm, double murmur_amp, uint32_t seed)
{
    static int16_t x[4 * 48000];
    static const double fade[5] = {3000, 1500, 800, 400, 200};
    vdsp_turn *t = NULL;
    vdsp_turn_event ev[VDSP_TURN_MAX_EVENTS];
    int m = rate / 50, nf = rate / 1000 * fm, i, k, j;
    double commit = -1.0;
    for (i = 0; i < 200 * m; i++) {
        double tt = (double)i / rate, v = 0.0, env = 0.0;
        int fr = i / m;
        for (j = 0; j < 4; j++) {
            seed = seed * 1664525u + 1013904223u;
            v += ((double)(seed >> 8) / 16777216.0 - 0.5);
        }
        v *= 520.0 * sqrt((double)rate / 8000.0); /* 4 uniforms: sd 0.577 x 520 ~ 300 */
        if (fr >= 50 && fr < 90)
            env = 6000.0;
        else if (fr >= 90 && fr < 95)
            env = fade[fr - 90];
        v += env * sin(2.0 * PI * 1000.0 * tt);
        if (fr >= 90 && fr < 105)
            v += murmur_amp * (sin(2.0 * PI * 150.0 * tt) + 0.5 * sin(2.0 * PI * 300.0 * tt));
        x[i] = (int16_t)v;
    }
    if (vdsp_turn_create(rate, fm, NULL, &t) != VDSP_OK)
        return -2.0;
    for (k = 0; (k + 1) * nf <= 200 * m && commit < 0.0; k++) {
        int n = vdsp_turn_process(t, x + (size_t)k * nf, NULL, (size_t)nf, ev,
                                  VDSP_TURN_MAX_EVENTS);
        for (j = 0; j < n; j++)
            if (ev[j].type == VDSP_TURN_COMMIT && commit < 0.0)
                commit = ev[j].t_samples * 1000.0 / rate;
    }
    vdsp_turn_destroy(t);
    return commit;
}

/* vdsp_band_energy_total is (sum a^2 + sum b^2) / norm, the sums as integers, whatever the
 * decimation, frame length, history and samples (full scale both ways included); and it moves
 * the history as vdsp_band_energies does. */
static void test_band_energy_total(void)
{
    static int16_t x[240 * 6];
    uint32_t r = 99;
    int t, bad = 0, decs[4] = {1, 2, 3, 6};
    for (t = 0; t < 4000; t++) {
        int dec = decs[t % 4], mode = (t / 4) % 4, k, m;
        size_t n_dec = (t % 3 == 0) ? 80 : (t % 3 == 1) ? 160 : 240, i;
        vdsp_band_hist h1, h2;
        uint64_t sa = 0, sb = 0;
        int64_t w[3];
        double e[2], got;
        if (t % 11 == 0)
            n_dec = 3 + (size_t)(t % 9);
        for (i = 0; i < n_dec * (size_t)dec; i++) {
            r ^= r << 13, r ^= r >> 17, r ^= r << 5;
            x[i] = (int16_t)(mode == 0   ? (int)(r >> 16) - 32768
                             : mode == 1 ? ((r >> 20) & 1 ? 32767 : -32768)
                             : mode == 2 ? (int)((r >> 16) % 201) - 100
                                         : (int)(r >> 17) - 16384);
        }
        for (k = 0; k < 3; k++) {
            r ^= r << 13, r ^= r >> 17, r ^= r << 5;
            h1.h[k] = h2.h[k] = (int32_t)(r % 65536) - 32768;
        }
        /* the integer sums, straight from the definition */
        w[0] = h1.h[0], w[1] = h1.h[1], w[2] = h1.h[2]; /* newest first */
        for (i = 0; i < n_dec; i++) {
            int64_t s = 0, a, b;
            for (m = 0; m < dec; m++)
                s += x[i * (size_t)dec + (size_t)m];
            a = s + w[0] - w[1] - w[2];
            b = s - w[0] - w[1] + w[2];
            sa += (uint64_t)(a * a);
            sb += (uint64_t)(b * b);
            w[2] = w[1], w[1] = w[0], w[0] = s;
        }
        got = vdsp_band_energy_total(x, n_dec, dec, &h1);
        vdsp_band_energies(x, n_dec, dec, &h2, e);
        bad += got != (double)(sa + sb) / (double)(n_dec * (size_t)dec * (size_t)dec) ||
               memcmp(&h1, &h2, sizeof h1) != 0;
    }
    CHECK(bad == 0, "band energy total: %d frames differ", bad);
}

int main(void)
{
    vdsp_turn *t = NULL, *t2 = NULL;
    vdsp_vad *v = NULL;
    vdsp_turn_config cfg;
    vdsp_turn_event all[64], ev[VDSP_TURN_MAX_EVENTS];
    int16_t frame[N] = {0}, speech[N];
    int n, i, rates[4] = {8000, 16000, 24000, 48000}, frames[3] = {10, 20, 30};

    /* creation errors */
    CHECK(vdsp_turn_create(11025, 20, NULL, &t) == VDSP_ERR_UNSUPPORTED_RATE && t == NULL, "rate");
    CHECK(vdsp_turn_create(8000, 25, NULL, &t) == VDSP_ERR_BAD_FRAME_SIZE, "frame");
    CHECK(vdsp_turn_create(8000, 20, NULL, NULL) == VDSP_ERR_INVALID_ARGUMENT, "out NULL");
    vdsp_turn_config_default(&cfg);
    cfg.silence_threshold_ms = -1;
    CHECK(vdsp_turn_create(8000, 20, &cfg, &t) == VDSP_ERR_INVALID_ARGUMENT, "negative");
    vdsp_turn_config_default(&cfg);
    cfg.vad_release_db = cfg.vad_threshold_db + 1.0;
    CHECK(vdsp_turn_create(8000, 20, &cfg, &t) == VDSP_ERR_INVALID_ARGUMENT, "release");
    CHECK(vdsp_vad_create(8000, 20, 0.0, 0.0, &v) == VDSP_ERR_INVALID_ARGUMENT, "vad thr");
    CHECK(vdsp_vad_create(44100, 20, 3.0, 1.0, &v) == VDSP_ERR_UNSUPPORTED_RATE, "vad rate");
    vdsp_turn_destroy(NULL);
    vdsp_vad_destroy(NULL);
    vdsp_turn_reset(NULL);

    /* one 800 ms turn: exact commit time */
    vdsp_turn_config_default(&cfg);
    cfg.echo_gating = 0;
    CHECK(vdsp_turn_create(8000, 20, &cfg, &t) == VDSP_OK && t != NULL, "create");
    n = run(t, N, 1, 10, 40, 40, NULL, all, 64);
    CHECK(n == 3, "3 events, got %d", n);
    CHECK(all[0].type == VDSP_TURN_SPEECH_START && all[0].t_samples == 12 * N &&
              all[0].ref_samples == 10 * N, "speech_start");
    CHECK(all[2].type == VDSP_TURN_COMMIT && all[2].t_samples == 50 * N + 4000 &&
              all[2].ref_samples == 50 * N && all[2].start_samples == 0, "commit");

    /* a 200 ms burst is a backchannel */
    vdsp_turn_reset(t);
    n = run(t, N, 1, 10, 10, 40, NULL, all, 64);
    i = find(all, n, VDSP_TURN_BACKCHANNEL);
    CHECK(i >= 0 && all[i].t_samples == 20 * N + 4000, "backchannel");
    CHECK(find(all, n, VDSP_TURN_COMMIT) < 0, "no commit");

    /* barge-in while the agent plays: candidate at onset + 40 ms, confirmed at + 300 ms */
    for (i = 0; i < N; i++)
        frame[i] = (int16_t)(600.0 * sin(2.0 * 3.14159265358979 * 700.0 * i / 8000.0));
    vdsp_turn_reset(t);
    n = run(t, N, 1, 20, 30, 10, frame, all, 64);
    i = find(all, n, VDSP_TURN_BARGE_CANDIDATE);
    CHECK(i >= 0 && all[i].t_samples == 22 * N, "candidate");
    i = find(all, n, VDSP_TURN_BARGE_IN);
    CHECK(i >= 0 && all[i].t_samples == 20 * N + 2400 && all[i].ref_samples == 20 * N, "barge");

    /* a turn with a confirmed barge-in commits on 4/5 of response_min_speech_ms (480 ms) */
    vdsp_turn_reset(t);
    n = run(t, N, 1, 20, 24, 40, frame, all, 64);
    i = find(all, n, VDSP_TURN_COMMIT);
    CHECK(find(all, n, VDSP_TURN_BARGE_IN) >= 0 && i >= 0 && all[i].t_samples == 44 * N + 4000,
          "barged 480 ms commits");
    vdsp_turn_reset(t);
    n = run(t, N, 1, 20, 23, 40, frame, all, 64);
    CHECK(find(all, n, VDSP_TURN_BARGE_IN) >= 0 && find(all, n, VDSP_TURN_BACKCHANNEL) >= 0 &&
              find(all, n, VDSP_TURN_COMMIT) < 0, "barged 460 ms is a backchannel");
    vdsp_turn_reset(t);
    n = run(t, N, 1, 20, 24, 40, NULL, all, 64);
    CHECK(find(all, n, VDSP_TURN_BACKCHANNEL) >= 0 && find(all, n, VDSP_TURN_COMMIT) < 0,
          "480 ms without the agent is a backchannel");

    /* errors leave the state unchanged: same events as a fresh detector */
    CHECK(vdsp_turn_create(8000, 20, &cfg, &t2) == VDSP_OK, "create 2");
    vdsp_turn_reset(t);
    speech_frame(speech, N, 1);
    CHECK(vdsp_turn_process(t, speech, NULL, N - 1, ev, 8) == VDSP_ERR_BAD_FRAME_SIZE, "n");
    CHECK(vdsp_turn_process(t, speech, NULL, N, ev, 2) == VDSP_ERR_BUFFER_TOO_SMALL, "cap");
    CHECK(vdsp_turn_process(t, NULL, NULL, N, ev, 8) == VDSP_ERR_INVALID_ARGUMENT, "NULL");
    {
        vdsp_turn_event a[64], b[64];
        int na = run(t, N, 1, 10, 40, 40, NULL, a, 64);
        int nb = run(t2, N, 1, 10, 40, 40, NULL, b, 64), same = na == nb && na > 0, j;
        for (j = 0; same && j < na; j++)
            same = a[j].type == b[j].type && a[j].t_samples == b[j].t_samples &&
                   a[j].ref_samples == b[j].ref_samples;
        CHECK(same, "unchanged by errors");
    }
    vdsp_turn_destroy(t2);
    vdsp_turn_destroy(t);

    /* every rate and frame size: the same turn commits at the same time (ms) */
    for (i = 0; i < 12; i++) {
        int rate = rates[i % 4], fm = frames[i / 4], nf = rate / 1000 * fm, per = 60 / fm, k;
        int64_t want;
        CHECK(vdsp_turn_create(rate, fm, &cfg, &t) == VDSP_OK, "create %d/%d", rate, fm);
        CHECK(vdsp_turn_frame_samples(t) == (size_t)nf, "frame samples");
        n = run(t, nf, rate / 8000, 10 * per, 14 * per, 40 * per, NULL, all, 64);
        k = find(all, n, VDSP_TURN_COMMIT);
        /* 10 ms frames decide on a sliding 20 ms window: one 10 ms frame more of speech */
        want = ((1440 + (fm == 10 ? 10 : 0) + 500 + fm - 1) / fm) * fm * (int64_t)rate / 1000;
        CHECK(k >= 0 && all[k].t_samples == want, "commit at %d/%d", rate, fm);
        vdsp_turn_destroy(t);
    }

    /* a murmur under noise after a turn's last speech frame is heard in the low band: the
     * commit lands 500 ms after it (2600 ms, window -40 / +120); noise alone commits earlier
     * (the band-energy wait: 2520-2580 ms) */
    for (i = 0; i < 12; i++) {
        int rate = rates[i % 4], fm = frames[i / 4];
        double with = noisy_turn_commit(rate, fm, 400.0, 7u + (uint32_t)i);
        double without = noisy_turn_commit(rate, fm, 0.0, 7u + (uint32_t)i);
        CHECK(with >= 2600.0 && with <= 2720.0, "murmur commit %.0f at %d/%d", with, rate, fm);
        CHECK(without > 0.0 && without < 2600.0, "noise commit %.0f at %d/%d", without, rate, fm);
    }

    /* bare VAD */
    CHECK(vdsp_vad_create(8000, 20, 3.0, 1.0, &v) == VDSP_OK, "vad create");
    memset(frame, 0, sizeof frame);
    CHECK(vdsp_vad_process(v, frame, N) == 0, "silence");
    CHECK(vdsp_vad_process(v, speech, N) == 1, "speech");
    CHECK(vdsp_vad_process(v, speech, N - 2) == VDSP_ERR_BAD_FRAME_SIZE, "vad frame");
    CHECK(vdsp_vad_process(NULL, speech, N) == VDSP_ERR_INVALID_ARGUMENT, "vad NULL");
    for (i = 0; i < N; i++)
        frame[i] = 20000; /* DC is not speech */
    vdsp_vad_reset(v);
    for (i = 0; i < 20; i++)
        CHECK(vdsp_vad_process(v, frame, N) == 0, "dc frame %d", i);
    vdsp_vad_destroy(v);
    test_band_energy_total();
    return TEST_REPORT("test_turn");
}
