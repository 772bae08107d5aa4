/*
 * voicedsp — the playout queue and clock of a call's downlink.
 *
 * Agent audio (PCM16 at the caller's rate) is pushed in any chunk size, tagged with the id of
 * the response it belongs to, and handed out one frame per tick. The clock knows how much of
 * each response the caller has heard:
 *   - without acknowledgements, what was handed out counts as heard;
 *   - once the transport acknowledges playout marks (Twilio `mark` echoes), the lag between
 *     handing a frame out and its playout is measured at each acknowledgement (in ticks) and
 *     carried forward: the heard position is what had been handed out that many ticks ago.
 * Positions are sample counts on the queue's stream: the audio handed out so far followed by
 * the audio queued (clear() removes the queued part from the stream).
 *
 * Thread-safety: one object per call; not safe for concurrent use of one object.
 */
#ifndef VOICEDSP_PLAYOUT_H
#define VOICEDSP_PLAYOUT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vdsp_playout vdsp_playout;

/* Item id of no response (silence, or before anything was pushed). */
#define VDSP_PLAYOUT_NO_ITEM 0u

/* Create a queue handing out frames of `frame_samples` (1..48000) that holds at most
 * `capacity_samples` (>= frame_samples) of audio. The storage starts at 2048 samples and
 * doubles when a push needs more, up to that capacity (push may allocate; pop never does). *out receives the object (NULL on error).
 * Returns VDSP_OK, VDSP_ERR_INVALID_ARGUMENT or VDSP_ERR_NO_MEMORY. */
int vdsp_playout_create(vdsp_playout **out, size_t frame_samples, size_t capacity_samples);

/* Destroy; NULL is allowed. */
void vdsp_playout_destroy(vdsp_playout *p);

/* Append `n` samples of response `item` (any non-zero id; 0 is reserved). If they do not fit
 * the capacity, nothing is appended and VDSP_ERR_BUFFER_TOO_SMALL is returned; if growing the
 * storage fails, VDSP_ERR_NO_MEMORY (nothing appended either). n == 0 is a no-op. */
int vdsp_playout_push(vdsp_playout *p, const int16_t *pcm, size_t n, uint32_t item);

/* Zero-copy push: where the next n samples would go if they fit the current storage
 * contiguously (no growth, no wrap), or NULL (then use vdsp_playout_push). Write up to n
 * samples there, then vdsp_playout_commit(p, m, item) with the number m written (m <= n):
 * the same as vdsp_playout_push of those m samples. Nothing is queued until the commit.
 * Commit returns VDSP_OK, or VDSP_ERR_INVALID_ARGUMENT (item 0, m more than fits). */
int16_t *vdsp_playout_tail_span(vdsp_playout *p, size_t n);
int vdsp_playout_commit(vdsp_playout *p, size_t m, uint32_t item);

/* Hand out the next frame: frame_samples samples of queued audio, padded with silence when the
 * queue runs short (or entirely silence while paused or empty). Returns the number of real
 * audio samples in it (0..frame_samples). `*item` (may be NULL) receives the response of its
 * first real sample, or VDSP_PLAYOUT_NO_ITEM. */
size_t vdsp_playout_pop(vdsp_playout *p, int16_t *frame, uint32_t *item);

/* Pause / resume handing out audio (pop returns silence while paused; the queue is kept). */
void vdsp_playout_set_paused(vdsp_playout *p, int paused);
int vdsp_playout_paused(const vdsp_playout *p);

/* Drop all queued audio; returns the number of samples dropped. */
size_t vdsp_playout_clear(vdsp_playout *p);

/* A playout mark after the frames handed out so far (send the transport's mark, e.g. a Twilio
 * `mark` message, right after those frames). Returns the mark's token. */
uint64_t vdsp_playout_mark(const vdsp_playout *p);

/* The transport reports that mark `token` has played: everything handed out before it is being
 * heard now, so playout lags hand-out by the ticks since the mark. That lag holds until the
 * next acknowledgement. Tokens from the future are treated as "no lag". */
void vdsp_playout_ack(vdsp_playout *p, uint64_t token);

/* The heard position on the stream, by the clock described above. */
uint64_t vdsp_playout_heard_position(const vdsp_playout *p);

/* Samples of response `item` the caller has heard, by the clock (0 for unknown items). The
 * queue remembers the last 64 responses. */
uint64_t vdsp_playout_heard_samples(const vdsp_playout *p, uint32_t item);

/* The response being played (the item of the last real sample handed out), or 0. */
uint32_t vdsp_playout_current_item(const vdsp_playout *p);

/* The playout lag measured at the last acknowledgement, in ticks (0 without acks). */
uint64_t vdsp_playout_lag_ticks(const vdsp_playout *p);

/* Samples waiting in the queue; samples handed out so far; frames handed out so far. */
size_t vdsp_playout_queued(const vdsp_playout *p);
uint64_t vdsp_playout_popped(const vdsp_playout *p);
uint64_t vdsp_playout_ticks(const vdsp_playout *p);

/* Forget everything: empty queue, clock at zero, no items. */
void vdsp_playout_reset(vdsp_playout *p);

#ifdef __cplusplus
}
#endif
#endif /* VOICEDSP_PLAYOUT_H */
