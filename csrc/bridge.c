#include "voicedsp/bridge.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "voicedsp/g711.h"
#include "voicedsp/opus.h"
#include "voicedsp/playout.h"
#include "voicedsp/resample.h"
#include "voicedsp/status.h"
#include "group.h"
#include "turn_ref.h"

#define FAR_HISTORY 32   /* downlink frames whose reference measure is kept to align it with
                          * playout */
#define SLICE 2880       /* model audio is resampled in slices of at most this many samples */

struct vdsp_bridge {
    vdsp_bridge_config cfg;
    size_t caller_n;         /* samples per frame at the caller's rate */
    size_t model_in_n;       /* samples per uplink frame at the model's input rate */
    vdsp_turn *turn;
    vdsp_resampler *up;      /* caller rate -> model input rate */
    vdsp_resampler *down;    /* model output rate -> caller rate */
    vdsp_resample_design *own_up, *own_down;  /* designs made here (none given in cfg) */
    vdsp_opus_decoder *caller_dec, *model_dec;
    vdsp_opus_encoder *caller_enc, *model_enc;
    vdsp_playout *play;
    int16_t *up_pcm;         /* [caller_n] the last uplink frame, decoded */
    int16_t *up_model;       /* [model_in_n] the same at the model's rate */
    int16_t *down_pcm;       /* [caller_n] the last frame handed out */
    uint64_t far_count;      /* frames handed out (indexes far) */
    int16_t *slice_in;       /* [slice_in_n] decoded (or realigned) model audio */
    size_t slice_in_n;
    int16_t *slice_out;      /* [slice_out_n] the same at the caller's rate */
    size_t slice_out_n;
    int held;                /* playout paused by a barge candidate */
    uint32_t push_item;      /* the response pushes without an item continue (0: a new one) */
    uint32_t item_seq;       /* the largest response id seen */
    vdsp_bridge_stats stats;
    double far[FAR_HISTORY]; /* the turn detector's measure of each frame handed out, newest at
                              * far_count - 1 (last: a tick reads one or two entries) */
};

void vdsp_bridge_config_default(vdsp_bridge_config *cfg) {
    memset(cfg, 0, sizeof *cfg);
    cfg->caller_codec = VDSP_CODEC_G711_ULAW;
    cfg->caller_rate_hz = 8000;
    cfg->model_codec = VDSP_CODEC_PCM16;
    cfg->model_input_rate_hz = 16000;
    cfg->model_output_rate_hz = 24000;
    cfg->frame_ms = 20;
    vdsp_turn_config_default(&cfg->turn);
    cfg->hold_and_resume = 0;
    cfg->max_queue_ms = 120000;
    cfg->opus_bitrate = VDSP_OPUS_AUTO;
    cfg->opus_complexity = 5;
}

static int codec_ok(int c) { return c >= VDSP_CODEC_PCM16 && c <= VDSP_CODEC_OPUS; }
static int is_g711(int c) { return c == VDSP_CODEC_G711_ULAW || c == VDSP_CODEC_G711_ALAW; }

int vdsp_bridge_resample_precision(const vdsp_bridge_config *cfg) {
    return cfg && is_g711(cfg->caller_codec) ? VDSP_RESAMPLE_PRECISION_Q15
                                             : VDSP_RESAMPLE_PRECISION_FULL;
}

static int make_encoder(const vdsp_bridge_config *cfg, int rate, vdsp_opus_encoder **enc) {
    int st = vdsp_opus_encoder_create(rate, 1, VDSP_OPUS_APP_VOIP, enc);
    if (st == VDSP_OK) st = vdsp_opus_encoder_set(*enc, VDSP_OPUS_BITRATE, cfg->opus_bitrate);
    if (st == VDSP_OK)
        st = vdsp_opus_encoder_set(*enc, VDSP_OPUS_COMPLEXITY, cfg->opus_complexity);
    return st;
}

int vdsp_bridge_create(const vdsp_bridge_config *cfg, vdsp_bridge **out) {
    if (!out) return VDSP_ERR_INVALID_ARGUMENT;
    *out = NULL;
    if (!cfg || !codec_ok(cfg->caller_codec) || !codec_ok(cfg->model_codec) ||
        (cfg->frame_ms != 10 && cfg->frame_ms != 20 && cfg->frame_ms != 30) ||
        cfg->max_queue_ms < 1000 || cfg->max_queue_ms > 600000 ||
        cfg->opus_complexity < 0 || cfg->opus_complexity > 10)
        return VDSP_ERR_INVALID_ARGUMENT;
    if (is_g711(cfg->caller_codec) && cfg->caller_rate_hz != 8000) return VDSP_ERR_INVALID_ARGUMENT;
    if ((cfg->caller_codec == VDSP_CODEC_OPUS || cfg->model_codec == VDSP_CODEC_OPUS) &&
        cfg->frame_ms == 30)
        return VDSP_ERR_BAD_FRAME_SIZE;
    if (!vdsp_resampler_rate_supported(cfg->caller_rate_hz) ||
        !vdsp_resampler_rate_supported(cfg->model_input_rate_hz) ||
        !vdsp_resampler_rate_supported(cfg->model_output_rate_hz))
        return VDSP_ERR_UNSUPPORTED_RATE;

    vdsp_bridge *b = calloc(1, sizeof *b);
    if (!b) return VDSP_ERR_NO_MEMORY;
    b->cfg = *cfg;
    b->caller_n = (size_t)cfg->caller_rate_hz * (size_t)cfg->frame_ms / 1000;
    b->model_in_n = (size_t)cfg->model_input_rate_hz * (size_t)cfg->frame_ms / 1000;
    /* the frame buffers every tick touches first, next to the bridge (malloc places them in
     * order); the cold ones last */
    b->up_pcm = calloc(b->caller_n, sizeof *b->up_pcm);
    b->down_pcm = calloc(b->caller_n, sizeof *b->down_pcm);
    int st = !b->up_pcm || !b->down_pcm ? VDSP_ERR_NO_MEMORY : VDSP_OK;
    if (st == VDSP_OK)
        st = vdsp_turn_create(cfg->caller_rate_hz, cfg->frame_ms, &cfg->turn, &b->turn);
    /* The linear-phase telephony design: half the taps of the alias-free one. What its
     * transition band (0.85-1.15 x Nyquist) lets through is far below a G.711 leg's own
     * quantization noise and outside what a speech model listens to. */
    /* G.711 calls: one int16 coefficient per tap (half the multiplies). Its images, aliases
     * and rounding (about -76 dBc; a few LSB, 78 dB under the signal) sit far under
     * mu-law/A-law's own quantization noise (about -37 dB), which every sample of such a call
     * carries both ways. */
    const int precision = vdsp_bridge_resample_precision(cfg);
    const vdsp_resample_design *up_d = cfg->up_design, *down_d = cfg->down_design;
    if (st == VDSP_OK && !up_d) {
        st = vdsp_resample_design_create(&b->own_up, cfg->caller_rate_hz,
                                         cfg->model_input_rate_hz, VDSP_RESAMPLE_TELEPHONY,
                                         precision);
        up_d = b->own_up;
    }
    if (st == VDSP_OK && !down_d) {
        st = vdsp_resample_design_create(&b->own_down, cfg->model_output_rate_hz,
                                         cfg->caller_rate_hz, VDSP_RESAMPLE_TELEPHONY, precision);
        down_d = b->own_down;
    }
    if (st == VDSP_OK &&
        (!vdsp_resample_design_matches(up_d, cfg->caller_rate_hz, cfg->model_input_rate_hz,
                                       VDSP_RESAMPLE_TELEPHONY, precision) ||
         !vdsp_resample_design_matches(down_d, cfg->model_output_rate_hz, cfg->caller_rate_hz,
                                       VDSP_RESAMPLE_TELEPHONY, precision)))
        st = VDSP_ERR_INVALID_ARGUMENT;
    /* History sized for what the bridge passes: one caller frame up; down, one frame of model
     * audio per pass (longer pushes take several passes; the output is the same). */
    if (st == VDSP_OK)
        st = vdsp_resampler_create_from_design(&b->up, up_d, 1, b->caller_n);
    if (st == VDSP_OK)
        st = vdsp_resampler_create_from_design(
            &b->down, down_d, 1,
            (size_t)cfg->model_output_rate_hz * (size_t)cfg->frame_ms / 1000);
    if (st == VDSP_OK && cfg->caller_codec == VDSP_CODEC_OPUS) {
        st = vdsp_opus_decoder_create(cfg->caller_rate_hz, 1, &b->caller_dec);
        if (st == VDSP_OK) st = make_encoder(cfg, cfg->caller_rate_hz, &b->caller_enc);
    }
    if (st == VDSP_OK && cfg->model_codec == VDSP_CODEC_OPUS) {
        st = vdsp_opus_decoder_create(cfg->model_output_rate_hz, 1, &b->model_dec);
        if (st == VDSP_OK) st = make_encoder(cfg, cfg->model_input_rate_hz, &b->model_enc);
    }
    if (st == VDSP_OK)
        st = vdsp_playout_create(&b->play, b->caller_n,
                                 (size_t)cfg->caller_rate_hz * (size_t)cfg->max_queue_ms / 1000);
    if (st == VDSP_OK) {
        /* a slice of model audio is at most SLICE samples; one Opus packet at most 120 ms */
        b->slice_out_n = vdsp_resampler_max_output(b->down, SLICE) + 1;
        b->up_model = calloc(b->model_in_n + 1, sizeof *b->up_model);
        /* Opus models: one whole packet; otherwise G.711 or unaligned PCM16 goes through it
         * in pieces */
        b->slice_in_n = cfg->model_codec == VDSP_CODEC_OPUS ? VDSP_OPUS_MAX_FRAME_SAMPLES : 960;
        b->slice_in = calloc(b->slice_in_n, sizeof *b->slice_in);
        b->slice_out = calloc(b->slice_out_n, sizeof *b->slice_out);
        if (!b->up_model || !b->slice_in || !b->slice_out) {
            st = VDSP_ERR_NO_MEMORY;
        } else {
            /* touch the pages now, not in the first tick (calloc leaves fresh pages unmapped;
             * see vdsp_playout_create) */
            memset(b->down_pcm, 0, b->caller_n * sizeof *b->down_pcm);
            memset(b->up_pcm, 0, b->caller_n * sizeof *b->up_pcm);
            memset(b->up_model, 0, (b->model_in_n + 1) * sizeof *b->up_model);
            memset(b->slice_in, 0, b->slice_in_n * sizeof *b->slice_in);
            memset(b->slice_out, 0, b->slice_out_n * sizeof *b->slice_out);
        }
    }
    if (st != VDSP_OK) {
        vdsp_bridge_destroy(b);
        return st;
    }
    *out = b;
    return VDSP_OK;
}

void vdsp_bridge_destroy(vdsp_bridge *b) {
    if (!b) return;
    vdsp_turn_destroy(b->turn);
    vdsp_resampler_destroy(b->up);
    vdsp_resampler_destroy(b->down);
    vdsp_resample_design_destroy(b->own_up);
    vdsp_resample_design_destroy(b->own_down);
    vdsp_opus_decoder_destroy(b->caller_dec);
    vdsp_opus_decoder_destroy(b->model_dec);
    vdsp_opus_encoder_destroy(b->caller_enc);
    vdsp_opus_encoder_destroy(b->model_enc);
    vdsp_playout_destroy(b->play);
    free(b->up_pcm);
    free(b->up_model);
    free(b->down_pcm);
    free(b->slice_in);
    free(b->slice_out);
    free(b);
}

size_t vdsp_bridge_caller_frame_samples(const vdsp_bridge *b) { return b->caller_n; }

static size_t codec_bytes(int codec, size_t n) {
    switch (codec) {
    case VDSP_CODEC_PCM16: return 2 * n;
    case VDSP_CODEC_OPUS: return 0;
    default: return n;
    }
}

size_t vdsp_bridge_caller_frame_bytes(const vdsp_bridge *b) {
    return codec_bytes(b->cfg.caller_codec, b->caller_n);
}

size_t vdsp_bridge_uplink_max_bytes(const vdsp_bridge *b) {
    return b->cfg.model_codec == VDSP_CODEC_OPUS ? VDSP_OPUS_MAX_PACKET_BYTES
                                                 : codec_bytes(b->cfg.model_codec, b->model_in_n);
}

size_t vdsp_bridge_downlink_max_bytes(const vdsp_bridge *b) {
    return b->cfg.caller_codec == VDSP_CODEC_OPUS ? VDSP_OPUS_MAX_PACKET_BYTES
                                                  : codec_bytes(b->cfg.caller_codec, b->caller_n);
}

static double to_ms(const vdsp_bridge *b, int64_t samples) {
    return (double)samples * 1000.0 / b->cfg.caller_rate_hz;
}

/* Encode n samples of PCM into `codec` (Opus through enc). */
static int encode(int codec, vdsp_opus_encoder *enc, const int16_t *pcm, size_t n, uint8_t *out,
                  size_t capacity, size_t *bytes) {
    switch (codec) {
    case VDSP_CODEC_PCM16:
        if (capacity < 2 * n) return VDSP_ERR_BUFFER_TOO_SMALL;
        memcpy(out, pcm, 2 * n);
        *bytes = 2 * n;
        return VDSP_OK;
    case VDSP_CODEC_G711_ULAW:
    case VDSP_CODEC_G711_ALAW:
        if (capacity < n) return VDSP_ERR_BUFFER_TOO_SMALL;
        (codec == VDSP_CODEC_G711_ULAW ? vdsp_g711_ulaw_encode : vdsp_g711_alaw_encode)(pcm, n, out);
        *bytes = n;
        return VDSP_OK;
    default: {
        int got = 0;
        int cap = capacity > (size_t)VDSP_OPUS_MAX_PACKET_BYTES ? VDSP_OPUS_MAX_PACKET_BYTES
                                                                : (int)capacity;
        int st = vdsp_opus_encoder_encode(enc, pcm, (int)n, out, cap, &got);
        *bytes = st == VDSP_OK ? (size_t)got : 0;
        return st;
    }
    }
}

/* The measure of the frame handed out `lag` ticks ago (the one the caller hears now; 0:
 * silence). */
static double far_reference(const vdsp_bridge *b) {
    uint64_t lag = vdsp_playout_lag_ticks(b->play);
    if (lag >= FAR_HISTORY) lag = FAR_HISTORY - 1;
    if (b->far_count <= lag) return 0.0;
    return b->far[(b->far_count - 1 - lag) % FAR_HISTORY];
}

static void drop_queue(vdsp_bridge *b) {
    b->stats.dropped_samples += vdsp_playout_clear(b->play);
    b->push_item = 0;  /* the next response is a new item */
    /* the cut response's tail must not leak into the next one */
    vdsp_resampler_reset(b->down);
    vdsp_playout_set_paused(b->play, 0);
    b->held = 0;
}

/* vdsp_bridge_uplink, with the up resampler's work buffer lent by a group call (or NULL). */
static int uplink(vdsp_bridge *b, const uint8_t *frame, size_t frame_bytes, uint8_t *model_out,
                  size_t capacity, size_t *model_bytes, vdsp_bridge_event *events,
                  size_t events_capacity, size_t *n_events, void *scratch) {
    if (!b || !model_out || !model_bytes || !events || !n_events) return VDSP_ERR_INVALID_ARGUMENT;
    *model_bytes = 0;
    *n_events = 0;
    if (events_capacity < VDSP_BRIDGE_MAX_EVENTS) return VDSP_ERR_BUFFER_TOO_SMALL;
    if (capacity < vdsp_bridge_uplink_max_bytes(b) && b->cfg.model_codec != VDSP_CODEC_OPUS)
        return VDSP_ERR_BUFFER_TOO_SMALL;
    const int codec = b->cfg.caller_codec;
    const size_t n = b->caller_n;

    /* 1. decode the caller's frame (refusing a wrong size before any state changes) */
    if (codec == VDSP_CODEC_OPUS) {
        int got = 0, st = VDSP_ERR_CORRUPT_PACKET;
        if (frame && frame_bytes) {
            int samples = 0;
            st = vdsp_opus_decoder_packet_samples(b->caller_dec, frame, frame_bytes, &samples);
            if (st == VDSP_OK && (size_t)samples != n) {
                b->stats.bad_frames++;
                return VDSP_ERR_BAD_FRAME_SIZE;
            }
            if (st == VDSP_OK)
                st = vdsp_opus_decoder_decode(b->caller_dec, frame, frame_bytes, b->up_pcm,
                                              (int)n, &got);
        }
        if (st != VDSP_OK || (size_t)got != n) {
            /* lost or corrupt: conceal and carry on */
            if (vdsp_opus_decoder_conceal(b->caller_dec, (int)n, b->up_pcm) != VDSP_OK)
                memset(b->up_pcm, 0, n * sizeof *b->up_pcm);
            b->stats.concealed++;
        }
    } else {
        if (!frame || frame_bytes != codec_bytes(codec, n)) {
            b->stats.bad_frames++;
            return VDSP_ERR_BAD_FRAME_SIZE;
        }
        if (codec == VDSP_CODEC_PCM16)
            memcpy(b->up_pcm, frame, 2 * n);
        else
            (codec == VDSP_CODEC_G711_ULAW ? vdsp_g711_ulaw_decode : vdsp_g711_alaw_decode)(
                frame, n, b->up_pcm);
    }
    b->stats.frames_in++;

    /* 2. turn detection against what the caller hears now */
    vdsp_turn_event tev[VDSP_TURN_MAX_EVENTS];
    int ne = vdsp_turn_process_ref(b->turn, b->up_pcm, far_reference(b), n, tev,
                                   VDSP_TURN_MAX_EVENTS);
    if (ne < 0) return ne;
    for (int i = 0; i < ne; i++) {
        vdsp_bridge_event *e = &events[i];
        e->type = tev[i].type;
        e->t_ms = to_ms(b, tev[i].t_samples);
        e->ref_ms = to_ms(b, tev[i].ref_samples);
        e->start_ms = to_ms(b, tev[i].start_samples);
        e->item = 0;
        e->heard_ms = 0;
        switch (tev[i].type) {
        case VDSP_TURN_BARGE_CANDIDATE:
            if (b->cfg.hold_and_resume && vdsp_playout_queued(b->play)) {
                vdsp_playout_set_paused(b->play, 1);
                b->held = 1;
            }
            break;
        case VDSP_TURN_BARGE_REJECTED:
            b->stats.rejected_candidates++;
            if (b->held) {
                vdsp_playout_set_paused(b->play, 0);
                b->held = 0;
            }
            break;
        case VDSP_TURN_BARGE_IN:
            b->stats.barge_ins++;
            e->item = vdsp_playout_current_item(b->play);
            e->heard_ms = to_ms(b, (int64_t)vdsp_playout_heard_samples(b->play, e->item));
            drop_queue(b);
            break;
        case VDSP_TURN_COMMIT: b->stats.commits++; break;
        case VDSP_TURN_BACKCHANNEL: b->stats.backchannels++; break;
        default: break;
        }
    }
    *n_events = (size_t)ne;

    /* 3. to the model's rate and codec */
    size_t got = 0;
    if (b->cfg.model_codec == VDSP_CODEC_PCM16 && (uintptr_t)model_out % sizeof(int16_t) == 0) {
        /* PCM16 model: straight into the caller's buffer (capacity checked above) */
        int st = vdsp_resampler_process_i16_scratch(b->up, b->up_pcm, n, (int16_t *)(void *)model_out,
                                                    capacity / sizeof(int16_t), &got, scratch);
        *model_bytes = st == VDSP_OK ? got * sizeof(int16_t) : 0;
        return st;
    }
    int st = vdsp_resampler_process_i16_scratch(b->up, b->up_pcm, n, b->up_model,
                                                b->model_in_n + 1, &got, scratch);
    if (st != VDSP_OK) return st;
    return encode(b->cfg.model_codec, b->model_enc, b->up_model, got, model_out, capacity,
                  model_bytes);
}

int vdsp_bridge_uplink(vdsp_bridge *b, const uint8_t *frame, size_t frame_bytes,
                       uint8_t *model_out, size_t capacity, size_t *model_bytes,
                       vdsp_bridge_event *events, size_t events_capacity, size_t *n_events) {
    return uplink(b, frame, frame_bytes, model_out, capacity, model_bytes, events,
                  events_capacity, n_events, NULL);
}

/* Resample `n` samples of agent audio through r and queue them (the caller checked they fit).
 * Slices are sized so the resampled slice always fits the slice buffer. */
static int queue_model_pcm(vdsp_bridge *b, vdsp_resampler *r, const int16_t *pcm, size_t n,
                           uint32_t item, void *scratch) {
    size_t slice = SLICE;
    while (slice > 1 && vdsp_resampler_max_output(r, slice) + 1 > b->slice_out_n) slice /= 2;
    while (n) {
        size_t take = n < slice ? n : slice, got = 0, want = vdsp_resampler_max_output(r, take);
        /* straight into the queue's storage when it has the room contiguously */
        int16_t *dst = vdsp_playout_tail_span(b->play, want);
        int st;
        if (dst) {
            st = vdsp_resampler_process_i16_scratch(r, pcm, take, dst, want, &got, scratch);
            if (st == VDSP_OK) st = vdsp_playout_commit(b->play, got, item);
        } else {
            st = vdsp_resampler_process_i16_scratch(r, pcm, take, b->slice_out, b->slice_out_n,
                                                    &got, scratch);
            if (st == VDSP_OK) st = vdsp_playout_push(b->play, b->slice_out, got, item);
        }
        if (st != VDSP_OK) return st;
        pcm += take;
        n -= take;
    }
    return VDSP_OK;
}

static size_t queue_room(const vdsp_bridge *b) {
    return (size_t)b->cfg.caller_rate_hz * (size_t)b->cfg.max_queue_ms / 1000 -
           vdsp_playout_queued(b->play);
}

/* Whether n_in samples through r (plus `extra` output samples) fit the playout queue. */
static int fits(const vdsp_bridge *b, const vdsp_resampler *r, size_t n_in, size_t extra) {
    return vdsp_resampler_max_output(r, n_in) + extra <= queue_room(b);
}

uint32_t vdsp_bridge_new_item(vdsp_bridge *b) { return ++b->item_seq; }

/* The response a push of `item` belongs to (see vdsp_bridge_push_model), made current. */
static uint32_t take_item(vdsp_bridge *b, uint32_t item) {
    if (item == 0) item = b->push_item ? b->push_item : vdsp_bridge_new_item(b);
    if (item > b->item_seq) b->item_seq = item;
    return b->push_item = item;
}

/* vdsp_bridge_push_model, with the down resampler's work buffer lent by a group call. */
static int push_model(vdsp_bridge *b, const uint8_t *audio, size_t bytes, uint32_t item,
                      void *scratch) {
    if (!b || (bytes && !audio)) return VDSP_ERR_INVALID_ARGUMENT;
    item = take_item(b, item);
    int st = VDSP_OK;
    const int codec = b->cfg.model_codec;
    if (codec == VDSP_CODEC_PCM16) {
        if (bytes & 1) st = VDSP_ERR_INVALID_ARGUMENT;
        else if (!fits(b, b->down, bytes / 2, 0)) st = VDSP_ERR_BUFFER_TOO_SMALL;
        else if ((uintptr_t)audio % sizeof(int16_t) == 0)
            st = queue_model_pcm(b, b->down, (const int16_t *)(const void *)audio, bytes / 2, item, scratch);
        else {
            /* unaligned PCM: through the slice buffer */
            for (size_t off = 0; st == VDSP_OK && off < bytes; off += 2 * b->slice_in_n) {
                size_t take = bytes - off < 2 * b->slice_in_n ? bytes - off : 2 * b->slice_in_n;
                memcpy(b->slice_in, audio + off, take);
                st = queue_model_pcm(b, b->down, b->slice_in, take / 2, item, scratch);
            }
        }
    } else if (is_g711(codec)) {
        if (!fits(b, b->down, bytes, 0)) st = VDSP_ERR_BUFFER_TOO_SMALL;
        for (size_t off = 0; st == VDSP_OK && off < bytes; off += b->slice_in_n) {
            size_t take = bytes - off < b->slice_in_n ? bytes - off : b->slice_in_n;
            (codec == VDSP_CODEC_G711_ULAW ? vdsp_g711_ulaw_decode : vdsp_g711_alaw_decode)(
                audio + off, take, b->slice_in);
            st = queue_model_pcm(b, b->down, b->slice_in, take, item, scratch);
        }
    } else {
        int samples = 0, got = 0;
        st = bytes ? vdsp_opus_decoder_packet_samples(b->model_dec, audio, bytes, &samples)
                   : VDSP_ERR_CORRUPT_PACKET;
        if (st == VDSP_OK && !fits(b, b->down, (size_t)samples, 0)) st = VDSP_ERR_BUFFER_TOO_SMALL;
        if (st == VDSP_OK)
            st = vdsp_opus_decoder_decode(b->model_dec, audio, bytes, b->slice_in,
                                          VDSP_OPUS_MAX_FRAME_SAMPLES, &got);
        if (st == VDSP_OK) st = queue_model_pcm(b, b->down, b->slice_in, (size_t)got, item, scratch);
    }
    if (st == VDSP_OK)
        b->stats.model_chunks++;
    else
        b->stats.model_rejected++;
    return st;
}

int vdsp_bridge_push_model(vdsp_bridge *b, const uint8_t *audio, size_t bytes, uint32_t item) {
    return push_model(b, audio, bytes, item, NULL);
}

int vdsp_bridge_push_clip(vdsp_bridge *b, const int16_t *pcm, size_t n, int rate_hz,
                          uint32_t item) {
    if (!b || (n && !pcm) || item == 0) return VDSP_ERR_INVALID_ARGUMENT;
    take_item(b, item);
    b->push_item = 0;  /* what the model sends next is a new response */
    vdsp_resampler *r = NULL;
    int st = vdsp_resampler_create(&r, rate_hz, b->cfg.caller_rate_hz, VDSP_RESAMPLE_TELEPHONY, 1);
    if (st != VDSP_OK) return st;
    /* a clip is complete: its filter tail is flushed too (latency + 1 samples at most) */
    if (!fits(b, r, n, (size_t)vdsp_resampler_latency(r) + 1)) st = VDSP_ERR_BUFFER_TOO_SMALL;
    if (st == VDSP_OK) st = queue_model_pcm(b, r, pcm, n, item, NULL);
    size_t got = 0;
    if (st == VDSP_OK) st = vdsp_resampler_flush_i16(r, b->slice_out, b->slice_out_n, &got);
    if (st == VDSP_OK) st = vdsp_playout_push(b->play, b->slice_out, got, item);
    vdsp_resampler_destroy(r);
    return st;
}

int vdsp_bridge_downlink(vdsp_bridge *b, uint8_t *out, size_t capacity, size_t *bytes) {
    if (!b || !out || !bytes) return VDSP_ERR_INVALID_ARGUMENT;
    *bytes = 0;
    if (capacity < codec_bytes(b->cfg.caller_codec, b->caller_n)) return VDSP_ERR_BUFFER_TOO_SMALL;
    size_t real = vdsp_playout_pop(b->play, b->down_pcm, NULL);
    b->far[b->far_count % FAR_HISTORY] = vdsp_turn_reference_energy(b->turn, b->down_pcm, !real);
    b->far_count++;
    b->stats.frames_out++;
    if (!real) b->stats.silent_frames++;
    return encode(b->cfg.caller_codec, b->caller_enc, b->down_pcm, b->caller_n, out, capacity,
                  bytes);
}

uint64_t vdsp_bridge_mark(const vdsp_bridge *b) { return vdsp_playout_mark(b->play); }
void vdsp_bridge_ack(vdsp_bridge *b, uint64_t token) { vdsp_playout_ack(b->play, token); }

double vdsp_bridge_clear(vdsp_bridge *b) {
    uint64_t before = b->stats.dropped_samples;
    drop_queue(b);
    return to_ms(b, (int64_t)(b->stats.dropped_samples - before));
}

double vdsp_bridge_heard_ms(const vdsp_bridge *b, uint32_t item) {
    return to_ms(b, (int64_t)vdsp_playout_heard_samples(b->play, item));
}

uint32_t vdsp_bridge_current_item(const vdsp_bridge *b) { return vdsp_playout_current_item(b->play); }
double vdsp_bridge_queued_ms(const vdsp_bridge *b) {
    return to_ms(b, (int64_t)vdsp_playout_queued(b->play));
}
int vdsp_bridge_paused(const vdsp_bridge *b) { return vdsp_playout_paused(b->play); }

double vdsp_bridge_uplink_latency_ms(const vdsp_bridge *b) {
    return vdsp_resampler_latency(b->up) * 1000.0 / b->cfg.model_input_rate_hz;
}

void vdsp_bridge_get_stats(const vdsp_bridge *b, vdsp_bridge_stats *stats) { *stats = b->stats; }

const int16_t *vdsp_bridge_last_uplink_pcm(const vdsp_bridge *b, size_t *n) {
    *n = b->stats.frames_in ? b->caller_n : 0;
    return b->up_pcm;
}

const int16_t *vdsp_bridge_last_downlink_pcm(const vdsp_bridge *b, size_t *n) {
    *n = b->far_count ? b->caller_n : 0;
    return b->down_pcm;
}

void vdsp_bridge_reset(vdsp_bridge *b) {
    vdsp_turn_reset(b->turn);
    vdsp_resampler_reset(b->up);
    vdsp_resampler_reset(b->down);
    if (b->caller_dec) vdsp_opus_decoder_reset(b->caller_dec);
    if (b->model_dec) vdsp_opus_decoder_reset(b->model_dec);
    if (b->caller_enc) vdsp_opus_encoder_reset(b->caller_enc);
    if (b->model_enc) vdsp_opus_encoder_reset(b->model_enc);
    vdsp_playout_reset(b->play);
    memset(b->down_pcm, 0, b->caller_n * sizeof *b->down_pcm);
    memset(b->far, 0, sizeof b->far);
    b->far_count = 0;
    b->held = 0;
    b->push_item = b->item_seq = 0;
    memset(&b->stats, 0, sizeof b->stats);
}

/* Prefetch pipeline of the group loops (see prefetch.h): while bridge i runs, stage 2 of
 * bridge i + 1 (the buffers), stage 1 of i + 2 (the objects the bridge points to) and stage 0
 * of i + 3 (the bridge itself) are announced, so each stage finds what it reads in cache. */
#define PREFETCH_AHEAD 3

/* Resampler work buffer lent to every bridge of a group call whose resampler needs no more
 * (16 kB: the default bridge's 24 -> 8 kHz leg needs 7.7 kB; 48 -> 8 kHz legs need more and
 * then use their own). */
#define GROUP_SCRATCH_WORDS 4096

static void *lend(const vdsp_resampler *r, uint32_t *scratch) {
    return vdsp_resampler_scratch_bytes(r) <= GROUP_SCRATCH_WORDS * sizeof(uint32_t) ? scratch
                                                                                     : NULL;
}

static void prefetch_tick(const vdsp_bridge *b, int stage) {
    if (!b) return;
    if (stage == 0) {
        vdsp_prefetch_span(b, offsetof(vdsp_bridge, far), 1);
    } else if (stage == 1) {
        VDSP_PREFETCH_W(&b->far[(b->far_count - 1) % FAR_HISTORY]);
        VDSP_PREFETCH_W(&b->far[b->far_count % FAR_HISTORY]);
        vdsp_turn_prefetch(b->turn, 0);
        vdsp_resampler_prefetch(b->up, 0, 0, 0);
        vdsp_playout_prefetch(b->play, 0, 0, 0);
        vdsp_prefetch_span(b->up_pcm, b->caller_n * sizeof *b->up_pcm, 1);
        if (b->cfg.model_codec != VDSP_CODEC_PCM16)
            vdsp_prefetch_span(b->up_model, b->model_in_n * sizeof *b->up_model, 1);
        vdsp_prefetch_span(b->down_pcm, b->caller_n * sizeof *b->down_pcm, 1);
    } else {
        vdsp_resampler_prefetch(b->up, 1, b->caller_n,
                                vdsp_resampler_scratch_bytes(b->up) >
                                    GROUP_SCRATCH_WORDS * sizeof(uint32_t));
        vdsp_playout_prefetch(b->play, 1, 0, 0);
        vdsp_turn_prefetch(b->turn, 1);
    }
}

/* Model-rate samples in a push of `bytes` (0 when unknown: Opus). */
static size_t push_samples(const vdsp_bridge *b, size_t bytes) {
    switch (b->cfg.model_codec) {
    case VDSP_CODEC_PCM16: return bytes / 2;
    case VDSP_CODEC_OPUS: return 0;
    default: return bytes;
    }
}

static void prefetch_push(const vdsp_bridge *b, int stage, const uint8_t *audio, size_t bytes) {
    if (!b) return;
    if (stage == 0) {
        vdsp_prefetch_span(b, sizeof *b, 1);
        return;
    }
    if (stage == 1) {
        vdsp_resampler_prefetch(b->down, 0, 0, 0);
        vdsp_playout_prefetch(b->play, 0, 1, 0);
        /* the chunk too: a server's thousands of just-received chunks are not in cache
         * either (Python, 10,000 bridges: 0.5 ms less per push) */
        vdsp_prefetch_span(audio, bytes < 4096 ? bytes : 4096, 0);
    } else {
        /* reads the resampler object, so only now that stage 1 has announced it */
        size_t n = push_samples(b, bytes), out = vdsp_resampler_max_output(b->down, n) + 1;
        vdsp_resampler_prefetch(b->down, 1, n,
                                vdsp_resampler_scratch_bytes(b->down) >
                                    GROUP_SCRATCH_WORDS * sizeof(uint32_t));
        vdsp_playout_prefetch(b->play, 1, 1, out);
    }
}

int vdsp_bridge_push_model_group(vdsp_bridge *const *bridges, size_t k,
                                 const uint8_t *const *audio, const size_t *bytes,
                                 const uint32_t *items, int *status) {
    if (!bridges || (k && (!audio || !bytes || !items || !status)))
        return VDSP_ERR_INVALID_ARGUMENT;
    uint32_t scratch[GROUP_SCRATCH_WORDS];
    for (size_t i = 0; i < k; i++) {
        for (int s = 0; s < PREFETCH_AHEAD; s++) {
            size_t j = i + PREFETCH_AHEAD - (size_t)s;
            if (j < k && audio[j]) prefetch_push(bridges[j], s, audio[j], bytes[j]);
        }
        if (!audio[i])
            status[i] = VDSP_OK;
        else
            status[i] = bridges[i] ? push_model(bridges[i], audio[i], bytes[i], items[i],
                                                lend(bridges[i]->down, scratch))
                                   : VDSP_ERR_INVALID_ARGUMENT;
    }
    return VDSP_OK;
}

int vdsp_bridge_tick_group(vdsp_bridge *const *bridges, size_t k, const uint8_t *uplink_frames,
                           size_t in_stride, const size_t *in_bytes, uint8_t *model_out,
                           size_t model_stride, size_t *model_bytes, uint8_t *caller_out,
                           size_t caller_stride, size_t *caller_bytes,
                           vdsp_bridge_event *events, uint32_t *event_bridge,
                           size_t events_capacity, size_t *n_events, int *status) {
    if (!bridges || (k && (!uplink_frames || !model_out || !model_bytes || !caller_out ||
                           !caller_bytes || !events || !event_bridge || !n_events || !status)))
        return VDSP_ERR_INVALID_ARGUMENT;
    if (events_capacity < k * VDSP_BRIDGE_MAX_EVENTS) return VDSP_ERR_BUFFER_TOO_SMALL;
    size_t ne_total = 0;
    uint32_t scratch[GROUP_SCRATCH_WORDS];
    for (size_t i = 0; i < k; i++) {
        for (int s = 0; s < PREFETCH_AHEAD; s++) {
            size_t j = i + PREFETCH_AHEAD - (size_t)s;
            if (j < k) prefetch_tick(bridges[j], s);
        }
        vdsp_bridge *b = bridges[i];
        size_t ne = 0;
        int st = b ? uplink(b, uplink_frames + i * in_stride, in_bytes ? in_bytes[i] : in_stride,
                            model_out + i * model_stride, model_stride, &model_bytes[i],
                            events + ne_total, VDSP_BRIDGE_MAX_EVENTS, &ne, lend(b->up, scratch))
                   : VDSP_ERR_INVALID_ARGUMENT;
        for (size_t j = 0; j < ne; j++) event_bridge[ne_total + j] = (uint32_t)i;
        ne_total += ne;
        int st2 = b ? vdsp_bridge_downlink(b, caller_out + i * caller_stride, caller_stride,
                                           &caller_bytes[i])
                    : VDSP_ERR_INVALID_ARGUMENT;
        status[i] = st != VDSP_OK ? st : st2;
    }
    *n_events = ne_total;
    return VDSP_OK;
}
