/*
 * voicedsp — turn detector for a phone call: who has the floor, frame by frame.
 *
 * Each call to vdsp_turn_process() takes one uplink frame (the caller's microphone) and the
 * downlink frame being played to the caller at the same moment (the agent; NULL when the
 * agent is silent), and appends the events that fired to a caller-provided array:
 *
 *   SPEECH_START / SPEECH_END  a caller speech segment (energy VAD, echo discounted); the
 *                              event's ref time is the back-dated segment boundary
 *   TURN_COMMIT                the caller's turn ended: silence_threshold_ms of silence
 *                              after the last speech frame, with at least
 *                              response_min_speech_ms of speech in the turn (4/5 of it
 *                              if the turn had a confirmed barge-in: speech held over the
 *                              agent already showed a real turn, and echo hides some of it)
 *   BACKCHANNEL                a turn that ended with less speech than that ("mhm")
 *   BARGE_CANDIDATE            caller speech started while the agent is audible (hold)
 *   BARGE_IN                   ... and lasted barge_confirm_ms (or at once: instant_barge)
 *   BARGE_REJECTED             ... and went silent (over 220 ms) before that (the agent
 *                              keeps the floor)
 *
 * End of turn is measured from the last speech frame. Under noise or echo, the part of the
 * speech's decay (down to 33 dB under the turn's peak) that the noise/echo floor hides is
 * added to the silence timer (9 ms per hidden dB, at most 300 ms), so a masked tail does not
 * end the turn early. Under noise (not echo) that wait is corrected by the level 60 ms before
 * the last speech frame: 8 ms more per dB above 3.6 dB over the masking level (the speech
 * dropped into the noise mid-word), 8 ms less per dB below (it faded out). Where the noise
 * hides part of the decay, the frames after the last speech frame are also heard in a low
 * band (~100-700 Hz): a voiced tail heard there ends the turn silence + 20 ms after it; if
 * that band hears none and its noise is within 7 dB of the VAD bands' noise floor (a
 * white-like noise, which would have let it hear one), the level-based wait is 60 ms
 * shorter. Within a turn, energy 40 dB under its peak is not speech.
 *
 * Echo-aware gating (on by default): the downlink is the reference of the echo a leg
 * without an echo canceller sends back. The detector estimates the echo delay (0 to
 * echo_max_delay_ms, cross-correlation of frame energy envelopes) and the echo gain
 * (a quantile tracker of uplink-over-downlink energy that double talk does not train),
 * and uplink energy the delayed, attenuated downlink explains is not caller speech. Two
 * echo models share the delay: a conservative one (slow echo tail) and a tight one
 * (fractional delay, fast tail, gain capped 6 dB above the other's); the tight one is used
 * alone while it explains clearly more of the recent echo frames, else the larger of both.
 *
 * Times are in samples from the first sample processed (after create or reset):
 * `t_samples` is the decision time (end of the frame that fired), `ref_samples` the time
 * the event refers to (segment start/end, last speech, candidate onset).
 *
 * No allocation after create; no globals; one object per call leg (not thread-safe within
 * one object, independent across objects).
 */
#ifndef VOICEDSP_TURN_H
#define VOICEDSP_TURN_H

#include <stddef.h>
#include <stdint.h>

#include "voicedsp/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vdsp_turn vdsp_turn;

enum {
    VDSP_TURN_SPEECH_START = 0,
    VDSP_TURN_SPEECH_END = 1,
    VDSP_TURN_COMMIT = 2,
    VDSP_TURN_BACKCHANNEL = 3,
    VDSP_TURN_BARGE_IN = 4,
    VDSP_TURN_BARGE_CANDIDATE = 5,
    VDSP_TURN_BARGE_REJECTED = 6
};

/* Most events one frame can emit; size the events array with this. */
#define VDSP_TURN_MAX_EVENTS 8

typedef struct {
    int type;              /* VDSP_TURN_* */
    int64_t t_samples;     /* decision time: end of the frame that fired */
    int64_t ref_samples;   /* the moment the event refers to (see the list above) */
    int64_t start_samples; /* TURN_COMMIT / BACKCHANNEL: where the turn's audio starts
                              (first speech minus prefix_padding_ms, >= 0); else = ref */
} vdsp_turn_event;

/* Knobs (all times in ms). vdsp_turn_config_default() fills the defaults shown. */
typedef struct {
    int silence_threshold_ms;    /* 500: trailing silence that ends a turn (0..10000) */
    int response_min_speech_ms;  /* 600: shorter turns are backchannels (0..10000); a turn
                                  * with a confirmed barge-in needs 4/5 of it */
    int commit_min_interval_ms;  /* 1500: minimum gap between two commits (0..60000) */
    int barge_confirm_ms;        /* 300: sustained speech that confirms a barge-in (0..5000) */
    int instant_barge;           /* 0: 1 = barge-in on the first speech frame */
    int mic_guard_ms;            /* 0: uplink ignored this long after agent audio stops
                                    (0..5000) */
    int prefix_padding_ms;       /* 300: audio before onset that belongs to the turn
                                    (0..2000; reported, not used by the decisions) */
    double vad_threshold_db;     /* 3.0: onset, dB above noise (+echo) floor (0 < x <= 40) */
    double vad_release_db;       /* 1.0: hold, dB above it (0 <= x <= vad_threshold_db) */
    int echo_gating;             /* 1: discount echo of the downlink (0 = off) */
    int echo_max_delay_ms;       /* 300: longest echo delay searched (0..600) */
} vdsp_turn_config;

void vdsp_turn_config_default(vdsp_turn_config *cfg);

/*
 * Create a detector.
 *   sample_rate_hz  in: 8000, 16000, 24000, 48000 (else VDSP_ERR_UNSUPPORTED_RATE)
 *   frame_ms        in: 10, 20, 30 (else VDSP_ERR_BAD_FRAME_SIZE)
 *   cfg             in: knobs; NULL = defaults; out of range -> VDSP_ERR_INVALID_ARGUMENT
 *   out             out: the new object (NULL on error)
 * Returns VDSP_OK, the codes above or VDSP_ERR_NO_MEMORY.
 */
int vdsp_turn_create(int sample_rate_hz, int frame_ms, const vdsp_turn_config *cfg,
                     vdsp_turn **out);

/* Samples per frame of this detector (uplink and downlink alike). */
size_t vdsp_turn_frame_samples(const vdsp_turn *turn);

/*
 * Process one frame.
 *   uplink      in: vdsp_turn_frame_samples() int16 samples (the caller)
 *   downlink    in: as many samples played to the caller meanwhile, or NULL (silence)
 *   n_samples   in: frame length in samples (else VDSP_ERR_BAD_FRAME_SIZE)
 *   events      out: room for `capacity` events (VDSP_TURN_MAX_EVENTS is always enough)
 *   capacity    in: (else VDSP_ERR_BUFFER_TOO_SMALL, before any state changes)
 * Returns the number of events written (>= 0) or a negative status; on error the state is
 * unchanged.
 */
int vdsp_turn_process(vdsp_turn *turn, const int16_t *uplink, const int16_t *downlink,
                      size_t n_samples, vdsp_turn_event *events, size_t capacity);

/* State for plots and logs (all out-parameters may be NULL). */
int vdsp_turn_inspect(const vdsp_turn *turn, int *vad_raw, int *agent_audible,
                      double *echo_delay_ms, double *echo_gain_db);

/* Forget all state (time restarts at 0); the configuration stays. */
void vdsp_turn_reset(vdsp_turn *turn);

/* Free the object; NULL is a no-op. */
void vdsp_turn_destroy(vdsp_turn *turn);

#ifdef __cplusplus
}
#endif
#endif /* VOICEDSP_TURN_H */
