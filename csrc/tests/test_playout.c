/* The playout queue and clock: framing, silence padding, items, clear, pause, and the heard
 * position against a simulated transport that plays frames after a jitter-buffer delay and
 * acknowledges marks when it plays them. */
#include <stdint.h>
#include <string.h>

#include "voicedsp/playout.h"
#include "voicedsp/status.h"
#include "vdsp_test.h"

#define F 160

static void ramp(int16_t *x, size_t n, int start) {
    for (size_t i = 0; i < n; i++) x[i] = (int16_t)(start + (int)i);
}

static void test_framing_and_items(void) {
    vdsp_playout *p = NULL;
    CHECK(vdsp_playout_create(&p, F, 1000) == VDSP_OK && p, "create");
    int16_t in[400], frame[F];
    uint32_t item = 99;
    ramp(in, 400, 1);
    CHECK(vdsp_playout_push(p, in, 250, 7) == VDSP_OK, "push 250");
    CHECK(vdsp_playout_push(p, in + 250, 100, 8) == VDSP_OK, "push 100");
    CHECK(vdsp_playout_queued(p) == 350, "queued %zu", vdsp_playout_queued(p));
    CHECK(vdsp_playout_pop(p, frame, &item) == F && item == 7 && frame[0] == 1 && frame[F - 1] == F,
          "first frame");
    CHECK(vdsp_playout_pop(p, frame, &item) == F && item == 7 && frame[0] == F + 1, "second");
    CHECK(vdsp_playout_current_item(p) == 8, "current item is that of the last sample");
    size_t n = vdsp_playout_pop(p, frame, &item);
    CHECK(n == 30 && item == 8 && frame[29] == 350 && frame[30] == 0 && frame[F - 1] == 0,
          "short frame padded with silence: n=%zu", n);
    CHECK(vdsp_playout_pop(p, frame, &item) == 0 && item == VDSP_PLAYOUT_NO_ITEM && frame[0] == 0,
          "empty queue gives silence");
    CHECK(vdsp_playout_heard_samples(p, 7) == 250 && vdsp_playout_heard_samples(p, 8) == 100,
          "without acks, handed out counts as heard");
    CHECK(vdsp_playout_ticks(p) == 4 && vdsp_playout_popped(p) == 350, "counters");

    /* capacity: a push that does not fit changes nothing */
    CHECK(vdsp_playout_push(p, in, 400, 9) == VDSP_OK, "fill");
    CHECK(vdsp_playout_push(p, in, 400, 9) == VDSP_OK, "fill");
    CHECK(vdsp_playout_push(p, in, 400, 9) == VDSP_ERR_BUFFER_TOO_SMALL, "overflow refused");
    CHECK(vdsp_playout_queued(p) == 800, "nothing appended on overflow");
    /* wrap-around keeps the order */
    for (int k = 0; k < 4; k++) vdsp_playout_pop(p, frame, &item);
    CHECK(vdsp_playout_push(p, in, 400, 10) == VDSP_OK, "push across the wrap");
    vdsp_playout_pop(p, frame, &item); /* 160 of 9 (samples 240..399 of ramp) */
    CHECK(frame[0] == 241 && item == 9, "order across wrap: %d", frame[0]);

    CHECK(vdsp_playout_push(p, in, 10, VDSP_PLAYOUT_NO_ITEM) == VDSP_ERR_INVALID_ARGUMENT,
          "item 0 is reserved");
    CHECK(vdsp_playout_push(p, NULL, 10, 3) == VDSP_ERR_INVALID_ARGUMENT, "NULL with n>0");
    vdsp_playout_destroy(p);
    vdsp_playout_destroy(NULL);
    CHECK(vdsp_playout_create(&p, 0, 10) == VDSP_ERR_INVALID_ARGUMENT && p == NULL, "bad frame");
    CHECK(vdsp_playout_create(&p, 160, 100) == VDSP_ERR_INVALID_ARGUMENT, "capacity < frame");
}

static void test_clear_and_pause(void) {
    vdsp_playout *p;
    vdsp_playout_create(&p, F, 16000);
    int16_t in[1600], frame[F];
    ramp(in, 1600, 1);
    vdsp_playout_push(p, in, 1600, 5);
    vdsp_playout_pop(p, frame, NULL);
    vdsp_playout_set_paused(p, 1);
    CHECK(vdsp_playout_pop(p, frame, NULL) == 0 && frame[5] == 0, "paused gives silence");
    CHECK(vdsp_playout_queued(p) == 1440, "pause keeps the queue");
    vdsp_playout_set_paused(p, 0);
    CHECK(vdsp_playout_pop(p, frame, NULL) == F && frame[0] == F + 1, "resume where it paused");
    CHECK(vdsp_playout_clear(p) == 1280 && vdsp_playout_queued(p) == 0, "clear drops the rest");
    CHECK(vdsp_playout_heard_samples(p, 5) == 320, "heard after clear: %llu",
          (unsigned long long)vdsp_playout_heard_samples(p, 5));
    CHECK(vdsp_playout_popped(p) == 320, "the stream ends where playout stopped");
    vdsp_playout_push(p, in, 100, 6);
    CHECK(vdsp_playout_pop(p, frame, NULL) == 100 && frame[0] == 1, "new audio after clear");
    CHECK(vdsp_playout_heard_samples(p, 6) == 100 && vdsp_playout_heard_samples(p, 5) == 320,
          "items separate after clear");
    vdsp_playout_reset(p);
    CHECK(vdsp_playout_queued(p) == 0 && vdsp_playout_popped(p) == 0 &&
          vdsp_playout_heard_samples(p, 6) == 0, "reset");
    vdsp_playout_destroy(p);
}

/* A transport whose jitter buffer plays each frame `delay` ticks after it was handed out and
 * echoes each mark when the audio before it has played. At random moments the caller barges
 * in: the clock's heard position must be within one frame of what was really played. */
static void test_clock_against_transport(int delay, int jitter, unsigned seed) {
    vdsp_playout *p;
    vdsp_playout_create(&p, F, 48000 * 4);
    int16_t chunk[2400], frame[F];
    ramp(chunk, 2400, 0);
    uint64_t handed[4096];       /* stream position after each tick's frame */
    uint64_t marks[4096];        /* mark position placed at tick t (or UINT64_MAX) */
    int worst = 0, barges = 0;
    uint32_t item = 1;
    for (int t = 0; t < 4000; t++) {
        seed = seed * 1103515245u + 12345u;
        if ((seed >> 16) % 7 == 0) vdsp_playout_push(p, chunk, 240 + (seed >> 20) % 2000, item);
        if ((seed >> 8) % 97 == 0) item++;
        vdsp_playout_pop(p, frame, NULL);
        handed[t] = vdsp_playout_popped(p);
        marks[t] = (t % 5 == 0) ? vdsp_playout_mark(p) : UINT64_MAX;
        /* the transport plays what was handed out `delay` (+ up to `jitter`) ticks ago and
         * echoes each mark once the frames before it have played */
        int d = delay + (jitter ? (int)((seed >> 12) % (unsigned)(jitter + 1)) : 0);
        uint64_t played = t >= d ? handed[t - d] : 0;
        for (int k = t - delay - jitter; k <= t - d; k++)
            if (k >= 0 && marks[k] != UINT64_MAX && handed[k] <= played) {
                vdsp_playout_ack(p, marks[k]);
                marks[k] = UINT64_MAX;
            }
        if (t > 50 && (seed >> 4) % 31 == 0) {
            long err = (long)vdsp_playout_heard_position(p) - (long)played;
            if (err < 0) err = -err;
            if (err > worst) worst = (int)err;
            barges++;
        }
    }
    int allowed = jitter ? F : 0; /* a constant delay is measured exactly */
    CHECK(barges > 50 && worst <= allowed, "delay %d jitter %d: heard position off by %d samples",
          delay, jitter, worst);
    vdsp_playout_destroy(p);
}

/* The ring grows on demand (up to the capacity) and keeps the order across growth, also
 * when the queued audio wraps around the end of the ring at the moment it grows. */
static void test_growth(void) {
    vdsp_playout *p;
    CHECK(vdsp_playout_create(&p, F, 100000) == VDSP_OK, "create");
    static int16_t chunk[7000], frame[F];
    int next_in = 0, next_out = 0, ok = 1;
    for (int round = 0; round < 40; round++) {
        for (int i = 0; i < 7000; i++) chunk[i] = (int16_t)(next_in + i);
        size_t n = 1000 + (size_t)(round * 1234) % 6000;
        if (vdsp_playout_push(p, chunk, n, 1) == VDSP_OK) next_in += (int)n;
        for (int k = 0; k < (round % 3 == 0 ? 40 : 3); k++) {
            size_t got = vdsp_playout_pop(p, frame, NULL);
            for (size_t i = 0; i < got; i++) ok &= frame[i] == (int16_t)(next_out + (int)i);
            next_out += (int)got;
        }
    }
    CHECK(ok, "order lost across growth");
    CHECK(vdsp_playout_queued(p) == (size_t)(next_in - next_out) && next_in > 90000,
          "queued %zu", vdsp_playout_queued(p));
    int16_t big[40000] = {0};
    CHECK(vdsp_playout_push(p, big, 40000, 2) == VDSP_OK || vdsp_playout_queued(p) > 60000,
          "push up to the capacity");
    CHECK(vdsp_playout_push(p, big, 40000, 2) == VDSP_ERR_BUFFER_TOO_SMALL, "beyond capacity");
    vdsp_playout_destroy(p);
}

/* tail_span + commit is push without the copy: two queues fed the same audio, one each
 * way (the span path falls back to push where the storage would wrap), hand out the same
 * frames, items and heard positions. */
static void test_zero_copy_push(void) {
    vdsp_playout *a, *b;
    CHECK(vdsp_playout_create(&a, 160, 100000) == VDSP_OK, "create");
    CHECK(vdsp_playout_create(&b, 160, 100000) == VDSP_OK, "create");
    int16_t chunk[700], fa[160], fb[160];
    int spans = 0, same = 1;
    for (int t = 0; t < 400; t++) {
        size_t n = (size_t)(t * 37 % 300) + (t % 3 ? 160 : 0);
        uint32_t item = 1 + (uint32_t)(t / 50);
        for (size_t i = 0; i < n; i++) chunk[i] = (int16_t)(t * 1000 + (int)i);
        if (t % 4 != 3) {
            CHECK(vdsp_playout_push(a, chunk, n, item) == VDSP_OK, "push");
            int16_t *dst = vdsp_playout_tail_span(b, n + 5);
            if (dst) {
                memcpy(dst, chunk, n * sizeof *chunk);  /* fewer than asked: fine */
                CHECK(vdsp_playout_commit(b, n, item) == VDSP_OK, "commit");
                spans++;
            } else {
                CHECK(vdsp_playout_push(b, chunk, n, item) == VDSP_OK, "push");
            }
        }
        uint32_t ia, ib;
        size_t na = vdsp_playout_pop(a, fa, &ia), nb = vdsp_playout_pop(b, fb, &ib);
        same &= na == nb && ia == ib && !memcmp(fa, fb, sizeof fa) &&
                vdsp_playout_heard_samples(a, item) == vdsp_playout_heard_samples(b, item);
    }
    CHECK(same && spans > 100, "zero-copy push differs from push (%d spans)", spans);
    CHECK(vdsp_playout_commit(b, 1, VDSP_PLAYOUT_NO_ITEM) == VDSP_ERR_INVALID_ARGUMENT, "item 0");
    CHECK(vdsp_playout_commit(b, 1u << 30, 1) == VDSP_ERR_INVALID_ARGUMENT, "too much");
    CHECK(vdsp_playout_tail_span(b, 0) == NULL && vdsp_playout_tail_span(NULL, 1) == NULL,
          "no span");
    vdsp_playout_destroy(a);
    vdsp_playout_destroy(b);
}

int main(void) {
    test_zero_copy_push();
    test_growth();
    test_framing_and_items();
    test_clear_and_pause();
    for (int d = 0; d <= 12; d += 3) {
        test_clock_against_transport(d, 0, 1234u + (unsigned)d);
        test_clock_against_transport(d, 1, 4321u + (unsigned)d);
    }
    return TEST_REPORT("test_playout");
}
