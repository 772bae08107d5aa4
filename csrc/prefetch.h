/*
 * voicedsp — internal (not public API): cache prefetch hints for the group APIs.
 *
 * A server ticks thousands of bridges in a row; each one's state (a few kB spread over the
 * bridge, its turn detector, resamplers and playout queue) has been evicted by the time its
 * turn comes, and every first touch of an object is a cache miss that waits on the one before
 * it (the pointer to a resampler's history sits in the resampler). The group loops therefore
 * announce the state of the next bridges a few steps ahead. Hints only: no effect on results.
 */
#ifndef VOICEDSP_PREFETCH_H
#define VOICEDSP_PREFETCH_H

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

/* The resampler's state (stage 0: the object itself; stage 1: the history and work buffers
 * the next process call of n_in frames touches, which needs the object in cache). */
void vdsp_resampler_prefetch(const vdsp_resampler *r, int stage, size_t n_in);
/* The turn detector's state (all of it is touched per frame). */
void vdsp_turn_prefetch(const vdsp_turn *t);
/* The playout queue (stage 0: the object; stage 1: the ring where a push of n samples
 * writes (push = 1) or where the next pop reads). */
void vdsp_playout_prefetch(const vdsp_playout *p, int stage, int push, size_t n);

#endif
