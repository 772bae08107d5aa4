/* libFuzzer target for the MediaBridge (`make -C csrc fuzz`), and through it the turn
 * detector, the VAD, the playout queue, the resamplers and the codecs. The input picks a
 * configuration (codecs, rates, frame length, hold-and-resume, a few turn knobs), then runs
 * a sequence of operations, each one byte of opcode and its bytes: an uplink frame (right or
 * wrong size, garbage Opus, a lost packet), model audio of any size, a pre-roll clip, a
 * downlink tick, a mark and its ack, clear, reset. In group mode (no Opus side) frames and
 * model audio go through the group calls (one bridge: their lent work buffers), and model
 * audio may come without an item (0: the current response).
 * Checks: no crash or sanitizer report; every call returns a documented status; outputs stay
 * within the advertised capacities; a refused uplink frame changes no counter but bad_frames;
 * frames in and out are counted exactly. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "voicedsp/bridge.h"
#include "voicedsp/status.h"

static const int CODECS[] = {VDSP_CODEC_PCM16, VDSP_CODEC_G711_ULAW, VDSP_CODEC_G711_ALAW,
                             VDSP_CODEC_OPUS};
static const int RATES[] = {8000, 16000, 24000, 48000};
static const int FRAMES[] = {10, 20, 30};

static int documented(int st) {
    return st == VDSP_OK || st == VDSP_ERR_BAD_FRAME_SIZE || st == VDSP_ERR_INVALID_ARGUMENT ||
           st == VDSP_ERR_CORRUPT_PACKET || st == VDSP_ERR_BUFFER_TOO_SMALL ||
           st == VDSP_ERR_NO_MEMORY || st == VDSP_ERR_UNSUPPORTED_RATE || st == VDSP_ERR_CODEC;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 6) return 0;
    vdsp_bridge_config cfg;
    vdsp_bridge_config_default(&cfg);
    cfg.caller_codec = CODECS[data[0] & 3];
    cfg.model_codec = CODECS[(data[0] >> 2) & 3];
    cfg.caller_rate_hz = cfg.caller_codec == VDSP_CODEC_G711_ULAW ||
                                 cfg.caller_codec == VDSP_CODEC_G711_ALAW
                             ? 8000
                             : RATES[(data[0] >> 4) & 3];
    cfg.model_input_rate_hz = RATES[data[1] & 3];
    cfg.model_output_rate_hz = RATES[(data[1] >> 2) & 3];
    cfg.frame_ms = FRAMES[(data[1] >> 4) % 3];
    cfg.hold_and_resume = (data[1] >> 6) & 1;
    cfg.turn.instant_barge = (data[1] >> 7) & 1;
    cfg.turn.silence_threshold_ms = 100 + 20 * (data[2] & 31);
    cfg.turn.mic_guard_ms = 20 * (data[2] >> 5);
    cfg.max_queue_ms = 1000 + 1000 * (data[3] & 7);
    int group = (data[3] >> 3) & 1 && cfg.caller_codec != VDSP_CODEC_OPUS &&
                cfg.model_codec != VDSP_CODEC_OPUS;
    data += 4;
    size -= 4;

    vdsp_bridge *b = NULL;
    int st = vdsp_bridge_create(&cfg, &b);
    if (!documented(st)) abort();
    if (st != VDSP_OK) {
        if (b) abort();
        return 0;
    }
    size_t frame_bytes = vdsp_bridge_caller_frame_bytes(b);
    size_t up_cap = vdsp_bridge_uplink_max_bytes(b), down_cap = vdsp_bridge_downlink_max_bytes(b);
    uint8_t *up_out = malloc(up_cap + 16), *down_out = malloc(down_cap + 16);
    if (!up_out || !down_out) abort();
    vdsp_bridge_event ev[VDSP_BRIDGE_MAX_EVENTS];
    uint64_t ins = 0, outs = 0, bad = 0;
    uint32_t item = 1;

    while (size >= 2) {
        int op = data[0] & 7;
        size_t n = data[1];
        data += 2;
        size -= 2;
        if (op <= 2) { /* uplink: a right-sized frame (op 0), any size (1), lost (2) */
            size_t len = op == 0 && frame_bytes ? frame_bytes : n * 4;
            if (op == 2) len = 0;
            uint8_t *frame = malloc(len + 1);
            if (!frame) abort();
            for (size_t i = 0; i < len; i++) frame[i] = size ? data[i % size] : (uint8_t)i;
            vdsp_bridge_stats s0, s1;
            vdsp_bridge_get_stats(b, &s0);
            size_t got = 0, n_ev = 0;
            if (group && op == 0) { /* uplink and downlink of a one-bridge group */
                size_t down_got = 0;
                uint32_t evb[VDSP_BRIDGE_MAX_EVENTS];
                int gst = vdsp_bridge_tick_group(&b, 1, frame, len, NULL, up_out, up_cap, &got,
                                                 down_out, down_cap, &down_got, ev, evb,
                                                 VDSP_BRIDGE_MAX_EVENTS, &n_ev, &st);
                if (gst != VDSP_OK || st != VDSP_OK || down_got > down_cap) abort();
                outs++;
            } else {
                st = vdsp_bridge_uplink(b, len ? frame : NULL, len, up_out, up_cap, &got, ev,
                                        VDSP_BRIDGE_MAX_EVENTS, &n_ev);
            }
            free(frame);
            vdsp_bridge_get_stats(b, &s1);
            if (!documented(st) || got > up_cap || n_ev > VDSP_BRIDGE_MAX_EVENTS) abort();
            if (st == VDSP_OK) {
                ins++;
                if (s1.frames_in != s0.frames_in + 1) abort();
            } else if (st == VDSP_ERR_BAD_FRAME_SIZE) {
                bad++;
                if (s1.frames_in != s0.frames_in || s1.bad_frames != s0.bad_frames + 1) abort();
            }
        } else if (op == 3) { /* model audio of any size (PCM16: any even count is valid) */
            size_t len = n * 8 < size ? n * 8 : size;
            if (n & 1) item++;
            uint32_t it = n & 2 ? 0 : item;  /* 0: the current response, or a new one */
            if (group) {
                const uint8_t *ptr = data;
                if (vdsp_bridge_push_model_group(&b, 1, &ptr, &len, &it, &st) != VDSP_OK) abort();
            } else {
                st = vdsp_bridge_push_model(b, data, len, it);
            }
            if (!documented(st)) abort();
            data += len;
            size -= len;
        } else if (op == 4) { /* downlink tick */
            size_t got = 0;
            st = vdsp_bridge_downlink(b, down_out, down_cap, &got);
            if (st != VDSP_OK || got > down_cap) abort();
            outs++;
        } else if (op == 5) { /* a pre-roll clip at any supported rate */
            size_t m = (n * 8 < size ? n * 8 : size) / 2;
            int16_t *pcm = malloc(m * sizeof(int16_t) + 2);
            if (!pcm) abort();
            memcpy(pcm, data, m * sizeof(int16_t));
            st = vdsp_bridge_push_clip(b, pcm, m, RATES[n & 3], ++item);
            free(pcm);
            if (!documented(st)) abort();
            data += m * 2;
            size -= m * 2;
        } else if (op == 6) { /* a mark and, maybe later, its ack */
            uint64_t token = vdsp_bridge_mark(b);
            if (n & 1) vdsp_bridge_ack(b, token);
            if (n & 2) vdsp_bridge_ack(b, token + n);  /* an unknown token: ignored */
        } else {              /* clear, or reset */
            if (n & 1) {
                vdsp_bridge_reset(b);
                ins = outs = bad = 0;
            } else if (vdsp_bridge_clear(b) < 0.0) {
                abort();
            }
        }
        (void)vdsp_bridge_heard_ms(b, item);
        (void)vdsp_bridge_queued_ms(b);
    }
    vdsp_bridge_stats s;
    vdsp_bridge_get_stats(b, &s);
    if (s.frames_in != ins || s.frames_out != outs || s.bad_frames != bad) abort();
    free(up_out);
    free(down_out);
    vdsp_bridge_destroy(b);
    return 0;
}
