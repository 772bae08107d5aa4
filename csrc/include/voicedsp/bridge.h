/*
 * voicedsp — MediaBridge: one call's full-duplex media path, fused.
 *
 * Uplink, once per caller frame: caller codec -> PCM at the caller's rate -> turn detector
 * (with the agent audio being played as its far-end reference) -> resampler -> model codec.
 * Downlink: model audio in any chunk size, bursty -> PCM at the model's output rate ->
 * resampler -> playout queue at the caller's rate; one caller-codec frame handed out per tick
 * (silence when the queue is empty), which becomes the far-end reference of the turn detector
 * once it plays (the playout lag is measured from acknowledged marks, see playout.h).
 *
 * On BARGE_IN the bridge drops the queued audio itself and reports which response was cut and
 * how much of it the caller heard. With hold_and_resume, playout pauses on BARGE_CANDIDATE and
 * resumes from the paused point on BARGE_REJECTED, so a cough does not cost the agent its
 * sentence.
 *
 * Units: rates in Hz; frame_ms in ms; sizes of encoded data in bytes; PCM counts in samples
 * (mono throughout). Times of events in ms since the bridge started (or was reset).
 *
 * Memory: create allocates everything but the playout queue, which starts small and grows
 * in push (doubling, up to max_queue_ms) as long replies need it; uplink and downlink never
 * allocate (push_clip, for pre-roll, also creates a temporary resampler). No globals: bridges run on different
 * threads at once; one bridge must not be used by two threads at the same time.
 */
#ifndef VOICEDSP_BRIDGE_H
#define VOICEDSP_BRIDGE_H

#include <stddef.h>
#include <stdint.h>

#include "voicedsp/resample.h"
#include "voicedsp/turn.h"

#ifdef __cplusplus
extern "C" {
#endif

enum {
    VDSP_CODEC_PCM16 = 0,     /* native-endian int16 */
    VDSP_CODEC_G711_ULAW = 1,
    VDSP_CODEC_G711_ALAW = 2,
    VDSP_CODEC_OPUS = 3       /* one packet per frame */
};

typedef struct {
    int caller_codec;          /* VDSP_CODEC_* */
    int caller_rate_hz;        /* 8000, 16000, 24000 or 48000 (the turn detector's rates);
                                  G.711 callers: 8000 */
    int model_codec;           /* VDSP_CODEC_* */
    int model_input_rate_hz;   /* what the model takes: any resampler rate (opus: an Opus rate) */
    int model_output_rate_hz;  /* what the model sends: likewise */
    int frame_ms;              /* 10 or 20 (30 without Opus) */
    vdsp_turn_config turn;     /* turn-taking knobs (vdsp_turn_config_default) */
    int hold_and_resume;       /* 1: pause playout on a barge candidate, resume if rejected */
    int max_queue_ms;          /* playout queue capacity, 1000..600000 (default 120000) */
    int opus_bitrate;          /* bps for the Opus encoders the bridge runs, or -1000 (auto) */
    int opus_complexity;       /* 0..10 (default 5) */
    /* Optional shared resampler designs (NULL: the bridge makes its own). A server running
     * many bridges of one configuration creates each design once (vdsp_resample_design_create
     * with VDSP_RESAMPLE_TELEPHONY) and passes it to all of them, so the filter tables are in
     * memory once instead of once per call. A design given here must be of the right rates
     * (up: caller_rate_hz -> model_input_rate_hz; down: model_output_rate_hz ->
     * caller_rate_hz), quality VDSP_RESAMPLE_TELEPHONY and the precision
     * vdsp_bridge_resample_precision(cfg) gives, and must outlive the bridge. */
    const vdsp_resample_design *up_design;
    const vdsp_resample_design *down_design;
} vdsp_bridge_config;

/* Defaults: G.711 mu-law 8 kHz caller, PCM16 16 kHz in / 24 kHz out model, 20 ms frames. */
void vdsp_bridge_config_default(vdsp_bridge_config *cfg);

/* A turn event of the bridge's caller, with what the bridge did about it. */
typedef struct {
    int type;           /* VDSP_TURN_* */
    double t_ms;        /* decision time: end of the frame that fired */
    double ref_ms;      /* the moment the event refers to (segment start/end, onset...) */
    double start_ms;    /* TURN_COMMIT / BACKCHANNEL: where the turn's audio starts */
    uint32_t item;      /* BARGE_IN: the response that was cut (0: none playing) */
    double heard_ms;    /* BARGE_IN: how much of that response the caller heard */
} vdsp_bridge_event;

/* Most events one uplink frame can produce. */
#define VDSP_BRIDGE_MAX_EVENTS VDSP_TURN_MAX_EVENTS

typedef struct {
    uint64_t frames_in;       /* uplink frames processed (concealed ones included) */
    uint64_t frames_out;      /* downlink frames handed out */
    uint64_t silent_frames;   /* downlink frames with no agent audio at all */
    uint64_t bad_frames;      /* uplink frames refused (wrong size) */
    uint64_t concealed;       /* uplink frames concealed (lost or corrupt Opus packets) */
    uint64_t model_chunks;    /* downlink pushes accepted */
    uint64_t model_rejected;  /* downlink pushes refused (bad size, corrupt, queue full) */
    uint64_t barge_ins, commits, backchannels, rejected_candidates;
    uint64_t dropped_samples; /* agent audio dropped by barge-ins and clear() */
} vdsp_bridge_stats;

typedef struct vdsp_bridge vdsp_bridge;

/* The coefficient precision of the bridge's resamplers for cfg (in):
 * VDSP_RESAMPLE_PRECISION_Q15 for G.711 callers (their own quantization noise, about -38 dB,
 * is far above what one int16 per tap adds: about -76 dBc), VDSP_RESAMPLE_PRECISION_FULL
 * otherwise. */
int vdsp_bridge_resample_precision(const vdsp_bridge_config *cfg);

/* Create. cfg (in); out (out): the bridge, or NULL on error.
 * Status: VDSP_OK; VDSP_ERR_INVALID_ARGUMENT (unknown codec, bad frame_ms or knob values,
 * G.711 caller not at 8000 Hz, a design of the wrong rates or quality, NULL); VDSP_ERR_UNSUPPORTED_RATE; VDSP_ERR_BAD_FRAME_SIZE
 * (frame_ms an Opus side cannot use); VDSP_ERR_NO_MEMORY; VDSP_ERR_CODEC. */
int vdsp_bridge_create(const vdsp_bridge_config *cfg, vdsp_bridge **out);

/* Free; NULL is a no-op. */
void vdsp_bridge_destroy(vdsp_bridge *b);

/* Samples per frame at the caller's rate; bytes of one caller frame (0 for Opus: variable). */
size_t vdsp_bridge_caller_frame_samples(const vdsp_bridge *b);
size_t vdsp_bridge_caller_frame_bytes(const vdsp_bridge *b);
/* Capacities that are always enough for one uplink output / one downlink frame, in bytes. */
size_t vdsp_bridge_uplink_max_bytes(const vdsp_bridge *b);
size_t vdsp_bridge_downlink_max_bytes(const vdsp_bridge *b);

/* One caller frame in. frame (in): frame_bytes of caller codec (Opus: one packet; NULL or
 * 0 bytes = lost, concealed); model_out (out): capacity bytes, receives *model_bytes of model
 * codec audio for the frame; events (out): room for events_capacity (VDSP_BRIDGE_MAX_EVENTS
 * is always enough), *n_events written.
 * Status: VDSP_OK; VDSP_ERR_BAD_FRAME_SIZE (wrong frame size: counted, state unchanged);
 * VDSP_ERR_BUFFER_TOO_SMALL; VDSP_ERR_INVALID_ARGUMENT (NULL); VDSP_ERR_CODEC.
 * A corrupt Opus packet is concealed and counted, not an error. */
int vdsp_bridge_uplink(vdsp_bridge *b, const uint8_t *frame, size_t frame_bytes,
                       uint8_t *model_out, size_t capacity, size_t *model_bytes,
                       vdsp_bridge_event *events, size_t events_capacity, size_t *n_events);

/* Model audio in (model codec at model_output_rate_hz): PCM16 any even byte count, G.711 any
 * count, Opus one packet. item (in): the response it belongs to; 0: the response of the
 * previous push, or a new one (vdsp_bridge_new_item) when there was none or it ended
 * (barge-in, clear, pre-roll, reset). All or nothing, but the item is taken either way.
 * Status: VDSP_OK; VDSP_ERR_INVALID_ARGUMENT (odd PCM16 size, NULL);
 * VDSP_ERR_CORRUPT_PACKET; VDSP_ERR_BUFFER_TOO_SMALL (the queue cannot take it);
 * VDSP_ERR_NO_MEMORY (growing the queue failed). */
int vdsp_bridge_push_model(vdsp_bridge *b, const uint8_t *audio, size_t bytes, uint32_t item);

/* PCM16 at any resampler rate into the playout queue as agent audio of `item` (pre-roll;
 * non-zero). The next push without an item starts a new response.
 * Status: as push_model (item 0: VDSP_ERR_INVALID_ARGUMENT), plus VDSP_ERR_UNSUPPORTED_RATE,
 * VDSP_ERR_NO_MEMORY. */
int vdsp_bridge_push_clip(vdsp_bridge *b, const int16_t *pcm, size_t n, int rate_hz,
                          uint32_t item);

/* A response id not used yet on this bridge: one more than the largest seen (pushed or
 * returned here) since creation or reset. */
uint32_t vdsp_bridge_new_item(vdsp_bridge *b);

/* One tick: the next caller-codec frame into out (capacity bytes), *bytes written.
 * Status: VDSP_OK; VDSP_ERR_BUFFER_TOO_SMALL; VDSP_ERR_CODEC. */
int vdsp_bridge_downlink(vdsp_bridge *b, uint8_t *out, size_t capacity, size_t *bytes);

/* Playout marks (see playout.h): a token for the frames handed out so far; its ack. */
uint64_t vdsp_bridge_mark(const vdsp_bridge *b);
void vdsp_bridge_ack(vdsp_bridge *b, uint64_t token);

/* Drop the queued agent audio; returns ms dropped. */
double vdsp_bridge_clear(vdsp_bridge *b);

/* ms of response `item` the caller has heard; the response playing now (0: none). */
double vdsp_bridge_heard_ms(const vdsp_bridge *b, uint32_t item);
uint32_t vdsp_bridge_current_item(const vdsp_bridge *b);
double vdsp_bridge_queued_ms(const vdsp_bridge *b);
int vdsp_bridge_paused(const vdsp_bridge *b);

/* Uplink processing delay in ms (resampler group delay). */
double vdsp_bridge_uplink_latency_ms(const vdsp_bridge *b);

void vdsp_bridge_get_stats(const vdsp_bridge *b, vdsp_bridge_stats *stats);

/* The caller-rate PCM of the last uplink frame / the last downlink frame (for taps); *n
 * receives the sample count (0 before the first frame). Valid until the next call. */
const int16_t *vdsp_bridge_last_uplink_pcm(const vdsp_bridge *b, size_t *n);
const int16_t *vdsp_bridge_last_downlink_pcm(const vdsp_bridge *b, size_t *n);

/* Back to the state after create (queue emptied, clocks at zero); the config stays. */
void vdsp_bridge_reset(vdsp_bridge *b);

/* Advance k bridges by one tick in one call: for each bridge i, uplink(uplink + i*in_stride,
 * in_bytes ? in_bytes[i] : in_stride) into model_out + i*model_stride (model_bytes[i]), then
 * downlink into caller_out + i*caller_stride (caller_bytes[i]). Events of all bridges go to
 * events (events_capacity; k * VDSP_BRIDGE_MAX_EVENTS is enough), event_bridge[j] naming the
 * bridge of events[j]; *n_events written. status[i] receives each bridge's status (a bad
 * frame on one bridge does not stop the others).
 * Returns VDSP_OK, or VDSP_ERR_INVALID_ARGUMENT / VDSP_ERR_BUFFER_TOO_SMALL for the call as a
 * whole (nothing processed). */
int vdsp_bridge_tick_group(vdsp_bridge *const *bridges, size_t k, const uint8_t *uplink,
                           size_t in_stride, const size_t *in_bytes, uint8_t *model_out,
                           size_t model_stride, size_t *model_bytes, uint8_t *caller_out,
                           size_t caller_stride, size_t *caller_bytes,
                           vdsp_bridge_event *events, uint32_t *event_bridge,
                           size_t events_capacity, size_t *n_events, int *status);

/* Push model audio into k bridges in one call: for each i with audio[i] != NULL,
 * status[i] = vdsp_bridge_push_model(bridges[i], audio[i], bytes[i], items[i]); entries with
 * audio[i] == NULL are skipped (status 0). The same results as k separate calls; faster for
 * thousands of bridges (their state is fetched from memory ahead of use).
 * Returns VDSP_OK, or VDSP_ERR_INVALID_ARGUMENT (a NULL array: nothing done). */
int vdsp_bridge_push_model_group(vdsp_bridge *const *bridges, size_t k,
                                 const uint8_t *const *audio, const size_t *bytes,
                                 const uint32_t *items, int *status);

#ifdef __cplusplus
}
#endif
#endif /* VOICEDSP_BRIDGE_H */
