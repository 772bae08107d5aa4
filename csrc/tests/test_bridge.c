/* MediaBridge in C: framing, bad frames, queue limits, group ticks equal per-call ticks, the
 * Opus caller path with lost and corrupt packets, pre-roll, clear and reset. Meant to run
 * under ASan/UBSan (make -C csrc asan). */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "voicedsp/bridge.h"
#include "voicedsp/g711.h"
#include "voicedsp/opus.h"
#include "voicedsp/status.h"
#include "vdsp_test.h"

static void sine(int16_t *x, size_t n, double freq, double rate, double amp) {
    for (size_t i = 0; i < n; i++) x[i] = (int16_t)(amp * sin(6.283185307179586 * freq * i / rate));
}

static vdsp_bridge *make(int caller_codec, int caller_rate, int model_codec) {
    vdsp_bridge_config cfg;
    vdsp_bridge_config_default(&cfg);
    cfg.caller_codec = caller_codec;
    cfg.caller_rate_hz = caller_rate;
    cfg.model_codec = model_codec;
    vdsp_bridge *b = NULL;
    int st = vdsp_bridge_create(&cfg, &b);
    CHECK(st == VDSP_OK && b, "create: %s", vdsp_status_message(st));
    return b;
}

static void test_g711_call(void) {
    vdsp_bridge *b = make(VDSP_CODEC_G711_ULAW, 8000, VDSP_CODEC_PCM16);
    CHECK(vdsp_bridge_caller_frame_bytes(b) == 160 && vdsp_bridge_uplink_max_bytes(b) == 640,
          "sizes");
    int16_t agent[24000], pcm[160];
    uint8_t codes[160], model[640], down[160];
    vdsp_bridge_event ev[VDSP_BRIDGE_MAX_EVENTS];
    size_t got, ne;
    sine(agent, 24000, 300, 24000, 6000);
    CHECK(vdsp_bridge_push_model(b, (const uint8_t *)agent, sizeof agent, 1) == VDSP_OK, "push");
    CHECK(vdsp_bridge_push_model(b, (const uint8_t *)agent, 3, 1) == VDSP_ERR_INVALID_ARGUMENT,
          "odd PCM16");
    CHECK(vdsp_bridge_push_model(b, (const uint8_t *)agent + 1, 480, 2) == VDSP_OK,
          "unaligned PCM16 is fine");
    for (int t = 0; t < 60; t++) {
        sine(pcm, 160, 1000, 8000, t > 20 ? 9000 : 0);
        vdsp_g711_ulaw_encode(pcm, 160, codes);
        CHECK(vdsp_bridge_uplink(b, codes, 160, model, sizeof model, &got, ev, VDSP_BRIDGE_MAX_EVENTS,
                                 &ne) == VDSP_OK && got == 640, "uplink %d", t);
        CHECK(vdsp_bridge_downlink(b, down, sizeof down, &got) == VDSP_OK && got == 160,
              "downlink %d", t);
    }
    CHECK(vdsp_bridge_uplink(b, codes, 159, model, sizeof model, &got, ev, VDSP_BRIDGE_MAX_EVENTS,
                             &ne) == VDSP_ERR_BAD_FRAME_SIZE, "short frame refused");
    CHECK(vdsp_bridge_uplink(b, NULL, 0, model, sizeof model, &got, ev, VDSP_BRIDGE_MAX_EVENTS,
                             &ne) == VDSP_ERR_BAD_FRAME_SIZE, "no frame refused (G.711)");
    CHECK(vdsp_bridge_uplink(b, codes, 160, model, 10, &got, ev, VDSP_BRIDGE_MAX_EVENTS, &ne) ==
              VDSP_ERR_BUFFER_TOO_SMALL, "small output");
    CHECK(vdsp_bridge_downlink(b, down, 10, &got) == VDSP_ERR_BUFFER_TOO_SMALL, "small frame");
    vdsp_bridge_stats s;
    vdsp_bridge_get_stats(b, &s);
    CHECK(s.frames_in == 60 && s.frames_out == 60 && s.bad_frames == 2, "stats %llu %llu %llu",
          (unsigned long long)s.frames_in, (unsigned long long)s.frames_out,
          (unsigned long long)s.bad_frames);
    int16_t clip[16000];
    sine(clip, 16000, 500, 16000, 4000);
    CHECK(vdsp_bridge_push_clip(b, clip, 16000, 16000, 9) == VDSP_OK, "pre-roll clip");
    CHECK(vdsp_bridge_push_clip(b, clip, 100, 12345, 9) == VDSP_ERR_UNSUPPORTED_RATE, "clip rate");
    CHECK(vdsp_bridge_clear(b) > 900.0, "clear reports dropped ms");
    vdsp_bridge_reset(b);
    vdsp_bridge_get_stats(b, &s);
    CHECK(s.frames_in == 0 && vdsp_bridge_queued_ms(b) == 0.0, "reset");
    vdsp_bridge_destroy(b);
    vdsp_bridge_destroy(NULL);
}

static void test_queue_limit(void) {
    vdsp_bridge_config cfg;
    vdsp_bridge_config_default(&cfg);
    cfg.max_queue_ms = 1000;
    vdsp_bridge *b;
    CHECK(vdsp_bridge_create(&cfg, &b) == VDSP_OK, "create");
    static int16_t big[24000 * 2];
    CHECK(vdsp_bridge_push_model(b, (const uint8_t *)big, 2 * 24000, 1) == VDSP_OK, "1 s fits");
    CHECK(vdsp_bridge_push_model(b, (const uint8_t *)big, 480, 1) == VDSP_ERR_BUFFER_TOO_SMALL,
          "queue full");
    vdsp_bridge_destroy(b);
    cfg.max_queue_ms = 10;
    CHECK(vdsp_bridge_create(&cfg, &b) == VDSP_ERR_INVALID_ARGUMENT && b == NULL, "tiny queue");
    vdsp_bridge_config_default(&cfg);
    cfg.caller_rate_hz = 16000;
    CHECK(vdsp_bridge_create(&cfg, &b) == VDSP_ERR_INVALID_ARGUMENT, "G.711 at 16 kHz");
    vdsp_bridge_config_default(&cfg);
    cfg.model_input_rate_hz = 22000;
    CHECK(vdsp_bridge_create(&cfg, &b) == VDSP_ERR_UNSUPPORTED_RATE, "rate");
}

/* Pushes without an item (0) continue the previous push's response, or start a new one
 * (vdsp_bridge_new_item) after a barge-in drop, clear, pre-roll or reset, and before any. */
static void play(vdsp_bridge *b, uint32_t item, const int16_t *agent, int frames) {
    uint8_t down[160];
    size_t got;
    CHECK(vdsp_bridge_push_model(b, (const uint8_t *)agent, 960, item) == VDSP_OK, "push");
    for (int f = 0; f < frames; f++) vdsp_bridge_downlink(b, down, sizeof down, &got);
}

static void test_items(void) {
    vdsp_bridge *b = make(VDSP_CODEC_G711_ULAW, 8000, VDSP_CODEC_PCM16);
    int16_t agent[480], clip[160] = {0};
    sine(agent, 480, 300, 24000, 6000);
    play(b, 0, agent, 1);
    CHECK(vdsp_bridge_current_item(b) == 1, "first push without an item: %u",
          vdsp_bridge_current_item(b));
    play(b, 0, agent, 1);
    CHECK(vdsp_bridge_heard_ms(b, 1) == 40.0, "continued: %.1f", vdsp_bridge_heard_ms(b, 1));
    play(b, 5, agent, 1);
    play(b, 0, agent, 1);
    CHECK(vdsp_bridge_heard_ms(b, 5) == 40.0 && vdsp_bridge_current_item(b) == 5, "continues 5");
    CHECK(vdsp_bridge_new_item(b) == 6, "new item after 5");
    CHECK(vdsp_bridge_push_model(b, (const uint8_t *)agent, 3, 0) == VDSP_ERR_INVALID_ARGUMENT,
          "odd PCM16");
    play(b, 0, agent, 1);
    CHECK(vdsp_bridge_current_item(b) == 5, "a refused push keeps the response");
    vdsp_bridge_clear(b);
    play(b, 0, agent, 1);
    CHECK(vdsp_bridge_current_item(b) == 7, "after clear: %u", vdsp_bridge_current_item(b));
    CHECK(vdsp_bridge_push_clip(b, clip, 160, 8000, 0) == VDSP_ERR_INVALID_ARGUMENT, "clip item 0");
    CHECK(vdsp_bridge_push_clip(b, clip, 160, 8000, 9) == VDSP_OK, "clip");
    vdsp_bridge_clear(b);
    play(b, 0, agent, 1);
    CHECK(vdsp_bridge_current_item(b) == 10, "after pre-roll: %u", vdsp_bridge_current_item(b));
    vdsp_bridge_reset(b);
    play(b, 0, agent, 1);
    CHECK(vdsp_bridge_current_item(b) == 1, "after reset: %u", vdsp_bridge_current_item(b));
    vdsp_bridge_destroy(b);
}

/* The group bridges share one design per direction and take their model audio through
 * push_model_group (some entries empty); the solo ones make their own designs and take it
 * one push at a time: the outputs must be identical. */
static void test_group_equals_single(void) {
    enum { K = 7, T = 80 };
    vdsp_bridge *solo[K], *grp[K];
    vdsp_bridge_config cfg;
    vdsp_bridge_config_default(&cfg);
    cfg.caller_codec = VDSP_CODEC_G711_ALAW;
    int prec = vdsp_bridge_resample_precision(&cfg);
    CHECK(prec == VDSP_RESAMPLE_PRECISION_Q15, "G.711 calls resample in Q15");
    vdsp_resample_design *up_d, *down_d, *wrong;
    CHECK(vdsp_resample_design_create(&up_d, 8000, 16000, VDSP_RESAMPLE_TELEPHONY, prec) ==
              VDSP_OK, "design");
    CHECK(vdsp_resample_design_create(&down_d, 24000, 8000, VDSP_RESAMPLE_TELEPHONY, prec) ==
              VDSP_OK, "design");
    CHECK(vdsp_resample_design_create(&wrong, 24000, 8000, VDSP_RESAMPLE_TELEPHONY,
                                      VDSP_RESAMPLE_PRECISION_FULL) == VDSP_OK, "design");
    vdsp_bridge *bad = NULL;
    cfg.up_design = down_d;  /* wrong rates */
    CHECK(vdsp_bridge_create(&cfg, &bad) == VDSP_ERR_INVALID_ARGUMENT && !bad, "wrong design");
    cfg.up_design = up_d;
    cfg.down_design = wrong;  /* wrong precision */
    CHECK(vdsp_bridge_create(&cfg, &bad) == VDSP_ERR_INVALID_ARGUMENT && !bad, "wrong design");
    cfg.down_design = down_d;
    static int16_t agent[K][4800];
    const uint8_t *ptr[K];
    size_t len[K];
    uint32_t item[K];
    int pst[K];
    for (int i = 0; i < K; i++) {
        solo[i] = make(VDSP_CODEC_G711_ALAW, 8000, VDSP_CODEC_PCM16);
        CHECK(vdsp_bridge_create(&cfg, &grp[i]) == VDSP_OK, "create with designs");
        sine(agent[i], 4800, 200.0 + 50 * i, 24000, 5000);
        ptr[i] = i == 2 ? NULL : (const uint8_t *)agent[i];
        len[i] = i == 5 ? 3 : sizeof agent[i];  /* odd PCM16 size: refused */
        item[i] = 1;
        if (ptr[i] && i != 5)
            vdsp_bridge_push_model(solo[i], (const uint8_t *)agent[i], sizeof agent[i], 1);
    }
    CHECK(vdsp_bridge_push_model_group(grp, K, ptr, len, item, pst) == VDSP_OK, "group push");
    for (int i = 0; i < K; i++)
        CHECK(pst[i] == (i == 5 ? VDSP_ERR_INVALID_ARGUMENT : VDSP_OK), "group push status %d", i);
    CHECK(vdsp_bridge_push_model_group(grp, K, NULL, len, item, pst) == VDSP_ERR_INVALID_ARGUMENT,
          "group push NULL");
    static uint8_t up[K * 160], mo[K * 640], co[K * 160];
    uint8_t m1[640], c1[160];
    size_t mb[K], cb[K], ne, got, ne1;
    int status[K];
    vdsp_bridge_event ev[K * VDSP_BRIDGE_MAX_EVENTS], ev1[VDSP_BRIDGE_MAX_EVENTS];
    uint32_t evb[K * VDSP_BRIDGE_MAX_EVENTS];
    int same = 1;
    for (int t = 0; t < T; t++) {
        for (int i = 0; i < K; i++) {
            int16_t pcm[160];
            sine(pcm, 160, 700.0 + 100 * i, 8000, (t / 10) % 2 ? 8000 : 50);
            vdsp_g711_alaw_encode(pcm, 160, up + i * 160);
        }
        CHECK(vdsp_bridge_tick_group(grp, K, up, 160, NULL, mo, 640, mb, co, 160, cb, ev, evb,
                                     K * VDSP_BRIDGE_MAX_EVENTS, &ne, status) == VDSP_OK,
              "group tick");
        size_t k_ev = 0;
        for (int i = 0; i < K; i++) {
            vdsp_bridge_uplink(solo[i], up + i * 160, 160, m1, 640, &got, ev1,
                               VDSP_BRIDGE_MAX_EVENTS, &ne1);
            same &= status[i] == VDSP_OK && mb[i] == got && !memcmp(mo + i * 640, m1, got);
            vdsp_bridge_downlink(solo[i], c1, 160, &got);
            same &= cb[i] == got && !memcmp(co + i * 160, c1, got);
            for (size_t j = 0; j < ne1; j++, k_ev++)
                same &= k_ev < ne && evb[k_ev] == (uint32_t)i && ev[k_ev].type == ev1[j].type;
        }
        same &= k_ev == ne;
    }
    CHECK(same, "group output differs from per-call output");
    for (int i = 0; i < K; i++) {
        vdsp_bridge_destroy(solo[i]);
        vdsp_bridge_destroy(grp[i]);
    }
    vdsp_resample_design_destroy(up_d);
    vdsp_resample_design_destroy(down_d);
    vdsp_resample_design_destroy(wrong);
}

static void test_opus_caller(void) {
    vdsp_bridge *b = make(VDSP_CODEC_OPUS, 48000, VDSP_CODEC_PCM16);
    CHECK(vdsp_bridge_caller_frame_samples(b) == 960 && vdsp_bridge_caller_frame_bytes(b) == 0,
          "opus sizes");
    vdsp_opus_encoder *enc;
    vdsp_opus_encoder_create(48000, 1, VDSP_OPUS_APP_VOIP, &enc);
    int16_t pcm[960 * 3];
    uint8_t pkt[VDSP_OPUS_MAX_PACKET_BYTES], model[640], garbage[200];
    size_t got, ne;
    int bytes;
    vdsp_bridge_event ev[VDSP_BRIDGE_MAX_EVENTS];
    for (size_t i = 0; i < sizeof garbage; i++) garbage[i] = (uint8_t)(i * 37 + 11);
    for (int t = 0; t < 40; t++) {
        sine(pcm, 960, 440, 48000, 8000);
        vdsp_opus_encoder_encode(enc, pcm, 960, pkt, sizeof pkt, &bytes);
        const uint8_t *f = t % 9 == 4 ? NULL : (t % 9 == 6 ? garbage : pkt);
        size_t fb = f == garbage ? sizeof garbage : (size_t)bytes;
        CHECK(vdsp_bridge_uplink(b, f, f ? fb : 0, model, sizeof model, &got, ev,
                                 VDSP_BRIDGE_MAX_EVENTS, &ne) == VDSP_OK && got == 640,
              "opus uplink %d", t);
    }
    /* a 40 ms packet is not one 20 ms frame */
    vdsp_opus_encoder_encode(enc, pcm, 1920, pkt, sizeof pkt, &bytes);
    CHECK(vdsp_bridge_uplink(b, pkt, (size_t)bytes, model, sizeof model, &got, ev,
                             VDSP_BRIDGE_MAX_EVENTS, &ne) == VDSP_ERR_BAD_FRAME_SIZE,
          "40 ms packet refused");
    vdsp_bridge_stats s;
    vdsp_bridge_get_stats(b, &s);
    CHECK(s.concealed >= 8 && s.frames_in == 40 && s.bad_frames == 1,
          "concealed %llu", (unsigned long long)s.concealed);
    uint8_t down[VDSP_OPUS_MAX_PACKET_BYTES];
    CHECK(vdsp_bridge_downlink(b, down, sizeof down, &got) == VDSP_OK && got > 0,
          "opus downlink packet");
    vdsp_opus_encoder_destroy(enc);
    vdsp_bridge_destroy(b);
}

int main(void) {
    test_g711_call();
    test_queue_limit();
    test_items();
    test_group_equals_single();
    test_opus_caller();
    return TEST_REPORT("test_bridge");
}
