/* Opus wrappers: argument checks and statuses, a round trip that must resemble its input,
 * corrupt packets refused without touching the decoder state, concealment and FEC, packet
 * introspection, and random bytes (run under ASan/UBSan by `make -C csrc asan`). */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "voicedsp/opus.h"
#include "voicedsp/status.h"
#include "vdsp_test.h"

#define PI 3.14159265358979323846
#define RATE_MAX 48000
#define SECONDS 1

static uint32_t lcg_state = 12345u;
static uint32_t lcg(void) {
    lcg_state = lcg_state * 1664525u + 1013904223u;
    return lcg_state >> 8;
}

/* A voice-like test signal: a gliding harmonic tone under a slow amplitude envelope. */
static void make_signal(int rate, int channels, int16_t *pcm, int n) {
    double phase = 0.0;
    for (int i = 0; i < n; i++) {
        double t = (double)i / rate;
        double f0 = 140.0 + 40.0 * sin(2 * PI * 1.3 * t);
        phase += 2 * PI * f0 / rate;
        double env = 0.55 + 0.45 * sin(2 * PI * 3.0 * t);
        double v = 0.0;
        for (int h = 1; h <= 8; h++) v += sin(h * phase) / h;
        int16_t s = (int16_t)(6000.0 * env * v);
        for (int c = 0; c < channels; c++) pcm[i * channels + c] = s;
    }
}

/* Correlation of a with b delayed by `delay` samples (mono views). */
static double correlation(const int16_t *a, const int16_t *b, int n, int delay, int stride) {
    double ab = 0, aa = 0, bb = 0;
    for (int i = 0; i + delay < n; i++) {
        double x = a[i * stride], y = b[(i + delay) * stride];
        ab += x * y;
        aa += x * x;
        bb += y * y;
    }
    return (aa > 0 && bb > 0) ? ab / sqrt(aa * bb) : 0.0;
}

static int16_t in[RATE_MAX * SECONDS * 2], out_a[RATE_MAX * SECONDS * 2],
    out_b[RATE_MAX * SECONDS * 2];
static uint8_t packets[50 * SECONDS][VDSP_OPUS_MAX_PACKET_BYTES];
static int packet_len[50 * SECONDS];

static void test_round_trip(int rate, int channels) {
    int frame = rate / 50, n_frames = 50 * SECONDS, n = frame * n_frames;
    make_signal(rate, channels, in, n);
    vdsp_opus_encoder *enc = NULL;
    vdsp_opus_decoder *dec = NULL;
    CHECK(vdsp_opus_encoder_create(rate, channels, VDSP_OPUS_APP_VOIP, &enc) == VDSP_OK, "create");
    CHECK(vdsp_opus_decoder_create(rate, channels, &dec) == VDSP_OK, "create dec");
    if (!enc || !dec) return;
    CHECK(vdsp_opus_encoder_set(enc, VDSP_OPUS_BITRATE, 48000) == VDSP_OK, "bitrate");
    int total = 0;
    for (int f = 0; f < n_frames; f++) {
        int st = vdsp_opus_encoder_encode(enc, in + f * frame * channels, frame, packets[f],
                                          VDSP_OPUS_MAX_PACKET_BYTES, &packet_len[f]);
        CHECK(st == VDSP_OK && packet_len[f] > 2, "encode frame %d: %d", f, st);
        int got = 0;
        st = vdsp_opus_decoder_decode(dec, packets[f], (size_t)packet_len[f],
                                      out_a + total * channels, frame, &got);
        CHECK(st == VDSP_OK && got == frame, "decode frame %d: %d, %d samples", f, st, got);
        total += got;
    }
    int delay = vdsp_opus_encoder_latency(enc);
    CHECK(delay == rate * 13 / 2000, "latency %d samples, expected 6.5 ms", delay);
    double r = correlation(in, out_a, total, delay, channels);
    /* Opus is not waveform-exact on a harmonic glide (about 0.8 here); a broken round trip
     * (wrong rate, channels swapped, garbage) is near 0 */
    CHECK(r > 0.7, "%d Hz x%d: correlation %.3f at delay %d", rate, channels, r, delay);

    /* The same packets with corrupt ones in between: the corrupt ones are refused and the
     * output is bit-identical to a clean run, so nothing of the state was touched. */
    vdsp_opus_decoder *clean = NULL;
    CHECK(vdsp_opus_decoder_create(rate, channels, &clean) == VDSP_OK, "create clean");
    CHECK(vdsp_opus_decoder_reset(dec) == VDSP_OK, "reset");
    static const uint8_t bad_code3[] = {0x03};              /* code 3 without a count byte */
    static const uint8_t zero_frames[] = {0x03, 0x00};      /* code 3, zero frames */
    static const uint8_t too_long[] = {0x1B, 0x31};         /* 49 frames of 20 ms > 120 ms */
    static const uint8_t bad_code2[] = {0x02, 0xFF, 0x01};  /* first frame longer than data */
    int mismatches = 0;
    for (int f = 0; f < n_frames; f++) {
        int got = 0, got2 = 0;
        CHECK(vdsp_opus_decoder_decode(dec, bad_code3, 1, out_b, frame, &got) ==
                  VDSP_ERR_CORRUPT_PACKET && got == 0, "code 3 without count");
        CHECK(vdsp_opus_decoder_decode(dec, zero_frames, 2, out_b, frame, &got) ==
                  VDSP_ERR_CORRUPT_PACKET, "zero frames");
        CHECK(vdsp_opus_decoder_decode(dec, too_long, 2, out_b, frame, &got) ==
                  VDSP_ERR_CORRUPT_PACKET, "too long");
        CHECK(vdsp_opus_decoder_decode(dec, bad_code2, 3, out_b, frame * 6, &got) ==
                  VDSP_ERR_CORRUPT_PACKET, "bad code 2");
        CHECK(vdsp_opus_decoder_decode(dec, packets[f], 0, out_b, frame, &got) ==
                  VDSP_ERR_CORRUPT_PACKET, "empty");
        if (packet_len[f] > 3) /* truncated to its TOC byte alone is legal: 1-frame, 0 bytes */
            CHECK(vdsp_opus_decoder_decode(dec, packets[f], (size_t)packet_len[f], out_b,
                                           frame - 1, &got) == VDSP_ERR_BUFFER_TOO_SMALL,
                  "capacity");
        CHECK(vdsp_opus_decoder_decode(dec, packets[f], (size_t)packet_len[f], out_b, frame,
                                       &got) == VDSP_OK, "decode");
        CHECK(vdsp_opus_decoder_decode(clean, packets[f], (size_t)packet_len[f], out_a, frame,
                                       &got2) == VDSP_OK, "decode clean");
        mismatches += got != got2 || memcmp(out_a, out_b, (size_t)got * channels * 2) != 0;
    }
    CHECK(mismatches == 0, "%d frames differ after corrupt packets", mismatches);
    vdsp_opus_decoder_destroy(clean);
    vdsp_opus_encoder_destroy(enc);
    vdsp_opus_decoder_destroy(dec);
}

static void test_arguments(void) {
    vdsp_opus_encoder *enc = (vdsp_opus_encoder *)1;
    vdsp_opus_decoder *dec = (vdsp_opus_decoder *)1;
    CHECK(vdsp_opus_encoder_create(44100, 1, VDSP_OPUS_APP_VOIP, &enc) ==
              VDSP_ERR_UNSUPPORTED_RATE && enc == NULL, "44.1 kHz");
    CHECK(vdsp_opus_encoder_create(48000, 3, VDSP_OPUS_APP_VOIP, &enc) ==
              VDSP_ERR_INVALID_ARGUMENT, "3 channels");
    CHECK(vdsp_opus_encoder_create(48000, 1, 7, &enc) == VDSP_ERR_INVALID_ARGUMENT, "app");
    CHECK(vdsp_opus_encoder_create(48000, 1, 0, NULL) == VDSP_ERR_INVALID_ARGUMENT, "NULL");
    CHECK(vdsp_opus_decoder_create(22050, 1, &dec) == VDSP_ERR_UNSUPPORTED_RATE && !dec, "rate");
    CHECK(vdsp_opus_decoder_create(16000, 0, &dec) == VDSP_ERR_INVALID_ARGUMENT, "0 channels");
    vdsp_opus_encoder_destroy(NULL);
    vdsp_opus_decoder_destroy(NULL);

    static const int rates[] = {8000, 12000, 16000, 24000, 48000};
    for (int r = 0; r < 5; r++) {
        int legal = 0;
        for (int n = -1; n <= 6000; n++) legal += vdsp_opus_frame_samples_ok(rates[r], n);
        CHECK(legal == 9, "%d Hz: %d legal frame sizes", rates[r], legal);
        CHECK(vdsp_opus_frame_samples_ok(rates[r], rates[r] / 50), "20 ms");
        CHECK(vdsp_opus_frame_samples_ok(rates[r], rates[r] * 3 / 25), "120 ms");
        CHECK(!vdsp_opus_frame_samples_ok(rates[r], rates[r] * 3 / 100), "30 ms");
    }
    CHECK(!vdsp_opus_frame_samples_ok(44100, 882), "44.1k");

    CHECK(vdsp_opus_encoder_create(16000, 1, VDSP_OPUS_APP_AUDIO, &enc) == VDSP_OK, "create");
    CHECK(vdsp_opus_decoder_create(16000, 1, &dec) == VDSP_OK, "create");
    static int16_t pcm[16000 / 50 * 6];
    uint8_t pkt[VDSP_OPUS_MAX_PACKET_BYTES];
    int len = -1;
    CHECK(vdsp_opus_encoder_encode(enc, pcm, 300, pkt, sizeof pkt, &len) ==
              VDSP_ERR_BAD_FRAME_SIZE && len == 0, "300 samples at 16 kHz");
    CHECK(vdsp_opus_encoder_encode(enc, pcm, 320, pkt, 2, &len) == VDSP_ERR_BUFFER_TOO_SMALL,
          "capacity 2");
    CHECK(vdsp_opus_encoder_encode(enc, NULL, 320, pkt, sizeof pkt, &len) ==
              VDSP_ERR_INVALID_ARGUMENT, "NULL pcm");
    static const int frames[] = {40, 80, 160, 320, 640, 960, 1280, 1600, 1920};
    for (int i = 0; i < 9; i++)
        CHECK(vdsp_opus_encoder_encode(enc, pcm, frames[i], pkt, sizeof pkt, &len) == VDSP_OK &&
                  len > 0, "frame %d", frames[i]);

    static const struct { int control, lo, hi; } ranges[] = {
        {VDSP_OPUS_BITRATE, 500, 256000},  {VDSP_OPUS_COMPLEXITY, 0, 10},
        {VDSP_OPUS_VBR, 0, 1},             {VDSP_OPUS_INBAND_FEC, 0, 1},
        {VDSP_OPUS_PACKET_LOSS_PERC, 0, 100}, {VDSP_OPUS_DTX, 0, 1},
    };
    for (int i = 0; i < 6; i++) {
        int v = -5;
        CHECK(vdsp_opus_encoder_set(enc, ranges[i].control, ranges[i].lo - 1) ==
                  VDSP_ERR_INVALID_ARGUMENT, "control %d below", i);
        if (ranges[i].control != VDSP_OPUS_BITRATE) /* its upper bound is checked below */
            CHECK(vdsp_opus_encoder_set(enc, ranges[i].control, ranges[i].hi + 1) ==
                      VDSP_ERR_INVALID_ARGUMENT, "control %d above", i);
        CHECK(vdsp_opus_encoder_set(enc, ranges[i].control, ranges[i].hi) == VDSP_OK, "set");
        CHECK(vdsp_opus_encoder_get(enc, ranges[i].control, &v) == VDSP_OK &&
                  v == ranges[i].hi, "control %d reads %d", i, v);
    }
    int v = 0; /* libopus caps the bitrate at 300 kbit/s per channel */
    CHECK(vdsp_opus_encoder_set(enc, VDSP_OPUS_BITRATE, 512000) == VDSP_OK &&
              vdsp_opus_encoder_get(enc, VDSP_OPUS_BITRATE, &v) == VDSP_OK && v == 300000,
          "512 kbit/s reads %d", v);
    CHECK(vdsp_opus_encoder_set(enc, VDSP_OPUS_BITRATE, 512001) == VDSP_ERR_INVALID_ARGUMENT,
          "512001");
    CHECK(vdsp_opus_encoder_set(enc, 99, 0) == VDSP_ERR_INVALID_ARGUMENT, "unknown control");
    CHECK(vdsp_opus_encoder_set(enc, VDSP_OPUS_BITRATE, VDSP_OPUS_AUTO) == VDSP_OK, "auto");
    CHECK(vdsp_opus_encoder_reset(enc) == VDSP_OK, "reset");

    /* concealment sizes: multiples of 2.5 ms up to 120 ms */
    CHECK(vdsp_opus_decoder_conceal(dec, 320, pcm) == VDSP_OK, "conceal 20 ms");
    CHECK(vdsp_opus_decoder_last_packet_samples(dec) == 320, "last duration");
    CHECK(vdsp_opus_decoder_conceal(dec, 120, pcm) == VDSP_OK, "conceal 7.5 ms");
    CHECK(vdsp_opus_decoder_conceal(dec, 100, pcm) == VDSP_ERR_BAD_FRAME_SIZE, "6.25 ms");
    CHECK(vdsp_opus_decoder_conceal(dec, 0, pcm) == VDSP_ERR_BAD_FRAME_SIZE, "0");
    CHECK(vdsp_opus_decoder_conceal(dec, 1960, pcm) == VDSP_ERR_BAD_FRAME_SIZE, "122.5 ms");
    vdsp_opus_encoder_destroy(enc);
    vdsp_opus_decoder_destroy(dec);
}

static void test_fec_and_info(void) {
    const int rate = 16000, frame = 320, n_frames = 50;
    make_signal(rate, 1, in, frame * n_frames);
    vdsp_opus_encoder *enc = NULL;
    vdsp_opus_decoder *dec = NULL;
    CHECK(vdsp_opus_encoder_create(rate, 1, VDSP_OPUS_APP_VOIP, &enc) == VDSP_OK, "create");
    CHECK(vdsp_opus_decoder_create(rate, 1, &dec) == VDSP_OK, "create");
    if (!enc || !dec) return;
    CHECK(vdsp_opus_encoder_set(enc, VDSP_OPUS_INBAND_FEC, 1) == VDSP_OK, "fec");
    CHECK(vdsp_opus_encoder_set(enc, VDSP_OPUS_PACKET_LOSS_PERC, 20) == VDSP_OK, "loss");
    CHECK(vdsp_opus_encoder_set(enc, VDSP_OPUS_BITRATE, 24000) == VDSP_OK, "bitrate");
    for (int f = 0; f < n_frames; f++)
        CHECK(vdsp_opus_encoder_encode(enc, in + f * frame, frame, packets[f],
                                       VDSP_OPUS_MAX_PACKET_BYTES, &packet_len[f]) == VDSP_OK,
              "encode");
    vdsp_opus_packet_info info;
    CHECK(vdsp_opus_packet_inspect(packets[10], (size_t)packet_len[10], 48000, &info) == VDSP_OK,
          "info");
    CHECK(info.n_frames == 1 && info.samples_per_frame == 960 && info.n_samples == 960 &&
              info.channels == 1 && info.mode == VDSP_OPUS_MODE_SILK &&
              info.bandwidth_hz == VDSP_OPUS_BW_WIDEBAND,
          "info %d %d %d %d %d %d", info.n_frames, info.samples_per_frame, info.n_samples,
          info.channels, info.mode, info.bandwidth_hz);
    CHECK(vdsp_opus_packet_inspect(packets[10], (size_t)packet_len[10], 16000, &info) == VDSP_OK &&
              info.n_samples == 320, "info at 16 kHz");
    int with_fec = 0;
    for (int f = 0; f < n_frames; f++) {
        CHECK(vdsp_opus_packet_inspect(packets[f], (size_t)packet_len[f], 16000, &info) ==
                  VDSP_OK, "inspect %d", f);
        with_fec += info.has_fec;
    }
    CHECK(with_fec > n_frames / 2, "%d of %d packets carry FEC", with_fec, n_frames);
    CHECK(vdsp_opus_packet_inspect(packets[10], 0, 16000, &info) == VDSP_ERR_CORRUPT_PACKET, "0");
    CHECK(vdsp_opus_packet_inspect(packets[10], 1, 44100, &info) == VDSP_ERR_UNSUPPORTED_RATE, "r");

    /* lose every 5th packet: recover it from the next one's FEC, then decode that one */
    int got, off = 0;
    for (int f = 0; f < n_frames; f++, off += frame) {
        if (f % 5 == 3) {
            CHECK(vdsp_opus_decoder_decode_fec(dec, packets[f + 1], (size_t)packet_len[f + 1],
                                               frame, out_a + off) == VDSP_OK, "fec %d", f);
            continue;
        }
        CHECK(vdsp_opus_decoder_decode(dec, packets[f], (size_t)packet_len[f], out_a + off,
                                       frame, &got) == VDSP_OK && got == frame, "decode %d", f);
    }
    int delay = vdsp_opus_encoder_latency(enc);
    double r = correlation(in, out_a, off, delay, 1);
    CHECK(r > 0.8, "FEC recovered run: correlation %.3f", r);
    CHECK(vdsp_opus_decoder_decode_fec(dec, packets[1], (size_t)packet_len[1], 100, out_a) ==
              VDSP_ERR_BAD_FRAME_SIZE, "fec size");
    CHECK(vdsp_opus_decoder_decode_fec(dec, packets[1], 0, frame, out_a) ==
              VDSP_ERR_CORRUPT_PACKET, "fec empty");
    vdsp_opus_encoder_destroy(enc);
    vdsp_opus_decoder_destroy(dec);
}

static void test_random_bytes(void) {
    static const int rates[] = {8000, 16000, 48000};
    int ok = 0, corrupt = 0, other = 0;
    static uint8_t buf[1500];
    for (int r = 0; r < 3; r++) {
        for (int channels = 1; channels <= 2; channels++) {
            vdsp_opus_decoder *dec = NULL;
            CHECK(vdsp_opus_decoder_create(rates[r], channels, &dec) == VDSP_OK, "create");
            if (!dec) continue;
            for (int i = 0; i < 1500; i++) {
                size_t len = lcg() % (i % 10 == 0 ? sizeof buf : 64);
                for (size_t k = 0; k < len; k++) buf[k] = (uint8_t)lcg();
                int got = 0;
                int st = vdsp_opus_decoder_decode(dec, buf, len, out_a,
                                                  VDSP_OPUS_MAX_FRAME_SAMPLES, &got);
                vdsp_opus_packet_info info;
                int st2 = vdsp_opus_packet_inspect(buf, len, rates[r], &info);
                ok += st == VDSP_OK;
                corrupt += st == VDSP_ERR_CORRUPT_PACKET;
                other += st != VDSP_OK && st != VDSP_ERR_CORRUPT_PACKET;
                /* introspection and decoding agree on what is well-formed */
                if ((st == VDSP_OK) != (st2 == VDSP_OK)) other++;
                if (st == VDSP_OK && got != info.n_samples) other++;
                if (i % 7 == 0) vdsp_opus_decoder_decode_fec(dec, buf, len, rates[r] / 50, out_a);
            }
            vdsp_opus_decoder_destroy(dec);
        }
    }
    CHECK(other == 0, "%d random packets gave another status or disagreed", other);
    CHECK(ok > 100 && corrupt > 100, "random: %d decoded, %d refused", ok, corrupt);
}

int main(void) {
    const char *v = vdsp_opus_version();
    CHECK(v && strncmp(v, "libopus ", 8) == 0, "version %s", v ? v : "(null)");
    test_arguments();
    test_round_trip(48000, 1);
    test_round_trip(16000, 1);
    test_round_trip(48000, 2);
    test_round_trip(8000, 2);
    test_fec_and_info();
    test_random_bytes();
    return TEST_REPORT("test_opus");
}
