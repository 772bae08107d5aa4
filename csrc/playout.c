#include "voicedsp/playout.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "voicedsp/status.h"
#include "group.h"

#define N_SEGMENTS 64 /* responses remembered for heard_samples() */
#define N_HISTORY 512  /* ticks of handed-out positions remembered: the largest lag measured */

typedef struct {
    uint32_t item;
    uint64_t start, end; /* stream positions [start, end) */
} segment;

/* The ring starts small and doubles when a push needs room, up to the capacity asked for at
 * create: a call's queue costs what its longest reply needs, not max_queue_ms up front (at
 * 8 kHz, 2 minutes would be 1.9 MB per call). Growth happens in push, never in pop. */
#define INITIAL_RING 2048

struct vdsp_playout {
    int16_t *ring;
    size_t cap, head, count; /* queued audio: ring[head .. head+count) modulo cap */
    size_t max_cap;          /* the most the ring may grow to */
    size_t frame;
    uint64_t popped;         /* stream position of the next sample to hand out */
    uint64_t ticks;          /* frames handed out, silence included */
    uint64_t lag;                /* ticks between handing a sample out and its playout */
    int has_ack, paused;
    uint32_t current;
    size_t n_seg, seg_next; /* ring of the most recent segments; seg_next = slot of the newest + 1 */
    /* the arrays last: the scalars above share the first cache lines */
    segment seg[N_SEGMENTS];
    uint64_t history[N_HISTORY]; /* history[t % N_HISTORY] = popped after tick t */
};

int vdsp_playout_create(vdsp_playout **out, size_t frame_samples, size_t capacity_samples) {
    if (!out) return VDSP_ERR_INVALID_ARGUMENT;
    *out = NULL;
    if (frame_samples < 1 || frame_samples > 48000 || capacity_samples < frame_samples)
        return VDSP_ERR_INVALID_ARGUMENT;
    vdsp_playout *p = calloc(1, sizeof *p);
    if (!p) return VDSP_ERR_NO_MEMORY;
    p->cap = capacity_samples < INITIAL_RING ? capacity_samples : INITIAL_RING;
    p->ring = malloc(p->cap * sizeof *p->ring);
    if (!p->ring) {
        free(p);
        return VDSP_ERR_NO_MEMORY;
    }
    /* Touch every page now: fresh heap memory is mapped on first write, and a server that
     * starts thousands of calls at once would otherwise take all those page faults in the
     * first 20 ms tick (measured: 6,000 bridges missed their first deadline). */
    memset(p->ring, 0, p->cap * sizeof *p->ring);
    memset(p->history, 0, sizeof p->history);
    memset(p->seg, 0, sizeof p->seg);
    p->max_cap = capacity_samples;
    p->frame = frame_samples;
    *out = p;
    return VDSP_OK;
}

void vdsp_playout_destroy(vdsp_playout *p) {
    if (!p) return;
    free(p->ring);
    free(p);
}

void vdsp_playout_reset(vdsp_playout *p) {
    int16_t *ring = p->ring;
    size_t cap = p->cap, max_cap = p->max_cap, frame = p->frame;
    memset(p, 0, sizeof *p);
    p->ring = ring;
    p->cap = cap;
    p->max_cap = max_cap;
    p->frame = frame;
}

/* Make room for `need` queued samples (need <= max_cap): double the ring, unwrapping it. */
static int grow(vdsp_playout *p, size_t need) {
    size_t cap = p->cap;
    while (cap < need) cap = cap > p->max_cap / 2 ? p->max_cap : 2 * cap;
    int16_t *ring = malloc(cap * sizeof *ring);
    if (!ring) return VDSP_ERR_NO_MEMORY;
    size_t first = p->count < p->cap - p->head ? p->count : p->cap - p->head;
    memcpy(ring, p->ring + p->head, first * sizeof *ring);
    memcpy(ring + first, p->ring, (p->count - first) * sizeof *ring);
    free(p->ring);
    p->ring = ring;
    p->cap = cap;
    p->head = 0;
    return VDSP_OK;
}

static segment *newest_segment(vdsp_playout *p) {
    return p->n_seg ? &p->seg[(p->seg_next + N_SEGMENTS - 1) % N_SEGMENTS] : NULL;
}

/* n samples of `item`, already in the ring after the queued ones, join the queue. */
static void append(vdsp_playout *p, size_t n, uint32_t item) {
    uint64_t end = p->popped + p->count;
    segment *s = newest_segment(p);
    if (s && s->item == item && s->end == end) {
        s->end += n;
    } else {
        p->seg[p->seg_next] = (segment){item, end, end + n};
        p->seg_next = (p->seg_next + 1) % N_SEGMENTS;
        if (p->n_seg < N_SEGMENTS) p->n_seg++;
    }
    p->count += n;
}

int vdsp_playout_push(vdsp_playout *p, const int16_t *pcm, size_t n, uint32_t item) {
    if (!p || (n && !pcm) || item == VDSP_PLAYOUT_NO_ITEM) return VDSP_ERR_INVALID_ARGUMENT;
    if (n == 0) return VDSP_OK;
    if (n > p->max_cap - p->count) return VDSP_ERR_BUFFER_TOO_SMALL;
    if (n > p->cap - p->count) {
        int st = grow(p, p->count + n);
        if (st != VDSP_OK) return st;
    }
    size_t tail = (p->head + p->count) % p->cap;
    size_t first = n < p->cap - tail ? n : p->cap - tail;
    memcpy(p->ring + tail, pcm, first * sizeof *pcm);
    memcpy(p->ring, pcm + first, (n - first) * sizeof *pcm);
    append(p, n, item);
    return VDSP_OK;
}

int16_t *vdsp_playout_tail_span(vdsp_playout *p, size_t n) {
    if (!p || n == 0 || n > p->cap - p->count) return NULL;
    size_t tail = (p->head + p->count) % p->cap;
    return n <= p->cap - tail ? p->ring + tail : NULL;
}

int vdsp_playout_commit(vdsp_playout *p, size_t n, uint32_t item) {
    if (!p || item == VDSP_PLAYOUT_NO_ITEM || n > p->cap - p->count)
        return VDSP_ERR_INVALID_ARGUMENT;
    if (n) append(p, n, item);
    return VDSP_OK;
}

/* The item that owns stream position `pos`, searching newest first. */
static uint32_t item_at(const vdsp_playout *p, uint64_t pos) {
    for (size_t k = 1; k <= p->n_seg; k++) {
        const segment *s = &p->seg[(p->seg_next + N_SEGMENTS - k) % N_SEGMENTS];
        if (pos >= s->start && pos < s->end) return s->item;
        if (s->end <= pos) break; /* segments are in stream order */
    }
    return VDSP_PLAYOUT_NO_ITEM;
}

size_t vdsp_playout_pop(vdsp_playout *p, int16_t *frame, uint32_t *item) {
    size_t n = p->paused ? 0 : (p->count < p->frame ? p->count : p->frame);
    uint32_t first_item = n ? item_at(p, p->popped) : VDSP_PLAYOUT_NO_ITEM;
    size_t first = n < p->cap - p->head ? n : p->cap - p->head;
    memcpy(frame, p->ring + p->head, first * sizeof *frame);
    memcpy(frame + first, p->ring, (n - first) * sizeof *frame);
    memset(frame + n, 0, (p->frame - n) * sizeof *frame);
    if (n) {
        p->head = (p->head + n) % p->cap;
        p->count -= n;
        p->popped += n;
        p->current = item_at(p, p->popped - 1);
    }
    p->history[p->ticks % N_HISTORY] = p->popped;
    p->ticks++;
    if (item) *item = first_item;
    return n;
}

void vdsp_playout_set_paused(vdsp_playout *p, int paused) { p->paused = paused != 0; }
int vdsp_playout_paused(const vdsp_playout *p) { return p->paused; }

size_t vdsp_playout_clear(vdsp_playout *p) {
    size_t dropped = p->count;
    p->head = p->count = 0;
    /* the dropped audio leaves the stream: cut the segments at the handed-out position */
    for (size_t k = 1; k <= p->n_seg; k++) {
        segment *s = &p->seg[(p->seg_next + N_SEGMENTS - k) % N_SEGMENTS];
        if (s->end <= p->popped) break;
        s->end = s->start > p->popped ? s->start : p->popped;
    }
    return dropped;
}

uint64_t vdsp_playout_mark(const vdsp_playout *p) { return p->ticks; }

/* handed-out position after tick t (t < ticks, and within the history) */
static uint64_t handed_at(const vdsp_playout *p, uint64_t t) { return p->history[t % N_HISTORY]; }

void vdsp_playout_ack(vdsp_playout *p, uint64_t mark) {
    /* the frames handed out before the mark are playing now: playout lags by the ticks since,
     * and keeps lagging by that much until the next acknowledgement */
    p->lag = mark < p->ticks ? p->ticks - mark : 0;
    p->has_ack = 1;
}

uint64_t vdsp_playout_heard_position(const vdsp_playout *p) {
    if (!p->has_ack || p->lag == 0) return p->popped;
    uint64_t lag = p->lag < N_HISTORY ? p->lag : N_HISTORY;
    return lag >= p->ticks ? 0 : handed_at(p, p->ticks - 1 - lag);
}

uint64_t vdsp_playout_heard_samples(const vdsp_playout *p, uint32_t item) {
    uint64_t heard = vdsp_playout_heard_position(p), total = 0;
    for (size_t k = 0; k < p->n_seg; k++) {
        const segment *s = &p->seg[k];
        if (s->item != item || heard <= s->start) continue;
        total += (heard < s->end ? heard : s->end) - s->start;
    }
    return total;
}

uint32_t vdsp_playout_current_item(const vdsp_playout *p) { return p->current; }
uint64_t vdsp_playout_lag_ticks(const vdsp_playout *p) { return p->has_ack ? p->lag : 0; }
size_t vdsp_playout_queued(const vdsp_playout *p) { return p->count; }
uint64_t vdsp_playout_popped(const vdsp_playout *p) { return p->popped; }
uint64_t vdsp_playout_ticks(const vdsp_playout *p) { return p->ticks; }

void vdsp_playout_prefetch(const vdsp_playout *p, int stage, int push, size_t n) {
    if (!p) return;
    if (stage == 0) {
        vdsp_prefetch_span(p, offsetof(vdsp_playout, seg), 1);
        return;
    }
    size_t newest = (p->seg_next + N_SEGMENTS - 1) % N_SEGMENTS;
    VDSP_PREFETCH_W(&p->seg[newest]);
    if (push) {
        VDSP_PREFETCH_W(&p->seg[p->seg_next]);
        size_t tail = (p->head + p->count) % p->cap;
        size_t first = n < p->cap - tail ? n : p->cap - tail;
        vdsp_prefetch_span(p->ring + tail, first * sizeof *p->ring, 1);
    } else {
        VDSP_PREFETCH_W(&p->history[p->ticks % N_HISTORY]);
        size_t first = p->frame < p->cap - p->head ? p->frame : p->cap - p->head;
        vdsp_prefetch_span(p->ring + p->head, first * sizeof *p->ring, 0);
    }
}
