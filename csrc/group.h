/*
 * voicedsp — internal (not public API): what the group APIs (vdsp_bridge_tick_group,
 * vdsp_bridge_push_model_group) use to keep thousands of bridges fast: cache prefetch hints,
 * and resampler work buffers shared by all the bridges one group call runs.
 *
 * A server ticks thousands of bridges in a row; each one's state (a few kB spread over the
 * bridge, its turn detector, resamplers and playout queue) has been evicted by the time its
 * turn comes, and every first touch of an object is a cache miss that waits on the one before
 * it (the pointer to a resampler's history sits in the resampler). The group loops therefore
 * announce the state of the next bridges a few steps ahead. Hints only: no effect on results.
 */
#ifndef VOICEDSP_GROUP_H
#define VOICEDSP_GROUP_H

#include <stddef.h>
#include <stdint.h>

#include "voicedsp/playout.h"
#include "voicedsp/resample.h"
#include "voicedsp/turn.h"

/* Into L2, not L1 (locality 2: prefetcht1): a few bridges' state ahead would evict L1's
 * working set (measured with benchmarks/bench_bridge_group.c, 10,000 bridges: 1.95 us per
 * call-frame with L2 hints, 2.9 us with L1 hints, 3.3 us without). */
#if defined(__GNUC__) || defined(__clang__)
#define VDSP_PREFETCH_R(p) __builtin_prefetch((p), 0, 2)
#define VDSP_PREFETCH_W(p) __builtin_prefetch((p), 1, 2)
#else
#define VDSP_PREFETCH_R(p) ((void)(p))
#define VDSP_PREFETCH_W(p) ((void)(p))
#endif

/* Every 64-byte line of [p, p + bytes), for reading or (write = 1) writing. */
static inline void vdsp_prefetch_span(const void *p, size_t bytes, int write) {
    const char *c = (const char *)((uintptr_t)p & ~(uintptr_t)63), *e = (const char *)p + bytes;
    if (write)
        for (; c < e; c += 64) VDSP_PREFETCH_W(c);
    else
        for (; c < e; c += 64) VDSP_PREFETCH_R(c);
}

/* The resampler's state (stage 0: the object itself; stage 1: the history (and, own_scratch,
 * the work buffers) the next process call of n_in frames touches, which needs the object in
 * cache). */
void vdsp_resampler_prefetch(const vdsp_resampler *r, int stage, size_t n_in, int own_scratch);

/* Work buffers. A resampler's int16 path rebuilds a few kB of sample pairs on every call and
 * never reads them again afterwards; a group call that runs thousands of resamplers one after
 * the other on one thread lends them all the same buffer, which stays in L1/L2, instead of
 * each writing (and later evicting) its own. Results are identical.
 * vdsp_resampler_scratch_bytes: the bytes the next calls of r need (0: none).
 * vdsp_resampler_process_i16_scratch: vdsp_resampler_process_i16 with `scratch` (at least
 * vdsp_resampler_scratch_bytes(r) bytes, aligned for uint32_t, used by nothing else during
 * the call) instead of r's own buffer; NULL: r's own. */
size_t vdsp_resampler_scratch_bytes(const vdsp_resampler *r);
int vdsp_resampler_process_i16_scratch(vdsp_resampler *r, const int16_t *in, size_t n_in,
                                       int16_t *out, size_t out_capacity, size_t *n_out,
                                       void *scratch);
/* The turn detector's state a frame touches (stage 0: all but the echo rings; stage 1, which
 * reads what stage 0 announced: the ring entries and the rest). */
void vdsp_turn_prefetch(const vdsp_turn *t, int stage);
/* The playout queue (stage 0: the object; stage 1: the ring where a push of n samples
 * writes (push = 1) or where the next pop reads). */
void vdsp_playout_prefetch(const vdsp_playout *p, int stage, int push, size_t n);

#endif
