/* G.711 kernels against a per-sample formula written independently of the tables, over every
 * input, at every alignment and length near the unrolled loops' edges; in-place conversion;
 * empty spans with NULL pointers. Run under ASan/UBSan by `make -C csrc asan`. */
#include <stdint.h>
#include <string.h>

#include "voicedsp/g711.h"
#include "g711_kernels.h"
#include "vdsp_test.h"

static uint8_t ulaw_formula(int x, int audioop) {
    int neg = x < 0;
    int m = neg ? (audioop ? -(x >> 2) : ~x >> 2) : x >> 2;
    if (audioop && m > 8159) m = 8159;
    m += 33;
    if (m > 0x1FFF) m = 0x1FFF;
    int seg = 0;
    while ((m >> (seg + 6)) != 0) seg++;
    int code = ((7 - seg) << 4) | (15 - ((m >> (seg + 1)) & 15));
    return (uint8_t)(neg ? code : code | 0x80);
}

static uint8_t alaw_formula(int x) {
    int neg = x < 0;
    int m = neg ? ~x >> 4 : x >> 4;
    if (m > 15) {
        int e = 1;
        while (m > 31) { m >>= 1; e++; }
        m = (m - 16) + (e << 4);
    }
    return (uint8_t)((neg ? m : m | 0x80) ^ 0x55);
}

static int16_t ulaw_dec_formula(uint8_t code) {
    int c = code ^ 0xFF, e = (c >> 4) & 7, q = c & 15;
    int mag = (((2 * q + 33) << e) - 33) * 4;
    return (int16_t)((c & 0x80) ? -mag : mag);
}

static int16_t alaw_dec_formula(uint8_t code) {
    int c = code ^ 0x55, e = (c >> 4) & 7, q = c & 15;
    int mag = ((q + (e ? 16 : 0)) << 4) + 8;
    if (e > 1) mag <<= e - 1;
    return (int16_t)((c & 0x80) ? mag : -mag);
}

int main(void) {
    static int16_t pcm[65536 + 16];
    static uint8_t codes[65536 + 16];
    static int16_t back[65536 + 16];
    for (int i = 0; i < 65536; i++) pcm[i] = (int16_t)(i - 32768);

    int bad_u = 0, bad_ua = 0, bad_a = 0;
    vdsp_g711_ulaw_encode(pcm, 65536, codes);
    for (int i = 0; i < 65536; i++) bad_u += codes[i] != ulaw_formula(pcm[i], 0);
    vdsp_g711_ulaw_encode_audioop(pcm, 65536, codes);
    for (int i = 0; i < 65536; i++) bad_ua += codes[i] != ulaw_formula(pcm[i], 1);
    vdsp_g711_alaw_encode(pcm, 65536, codes);
    for (int i = 0; i < 65536; i++) bad_a += codes[i] != alaw_formula(pcm[i]);
    int bad_t = 0;
    vdsp_g711_ulaw_encode_table(pcm, 65536, codes);
    for (int i = 0; i < 65536; i++) bad_t += codes[i] != ulaw_formula(pcm[i], 0);
    vdsp_g711_alaw_encode_table(pcm, 65536, codes);
    for (int i = 0; i < 65536; i++) bad_t += codes[i] != alaw_formula(pcm[i]);
    CHECK(bad_t == 0, "%d codes of the portable table kernels differ from the formula", bad_t);
    CHECK(bad_u == 0, "%d mu-law codes differ from the formula", bad_u);
    CHECK(bad_ua == 0, "%d audioop mu-law codes differ", bad_ua);
    CHECK(bad_a == 0, "%d A-law codes differ", bad_a);

    uint8_t all[256];
    int16_t dec[256];
    for (int c = 0; c < 256; c++) all[c] = (uint8_t)c;
    vdsp_g711_ulaw_decode(all, 256, dec);
    int bad_du = 0, bad_da = 0;
    for (int c = 0; c < 256; c++) bad_du += dec[c] != ulaw_dec_formula((uint8_t)c);
    vdsp_g711_alaw_decode(all, 256, dec);
    for (int c = 0; c < 256; c++) bad_da += dec[c] != alaw_dec_formula((uint8_t)c);
    CHECK(bad_du == 0 && bad_da == 0, "decoders differ: mu %d, A %d", bad_du, bad_da);
    vdsp_g711_ulaw_decode_table(all, 256, dec);
    for (int c = 0; c < 256; c++) bad_du += dec[c] != ulaw_dec_formula((uint8_t)c);
    vdsp_g711_alaw_decode_table(all, 256, dec);
    for (int c = 0; c < 256; c++) bad_da += dec[c] != alaw_dec_formula((uint8_t)c);
    CHECK(bad_du == 0 && bad_da == 0, "table decoders differ: mu %d, A %d", bad_du, bad_da);

    /* each arithmetic kernel this CPU runs, not only the one the public functions pick, on
     * every input and at every length up to 40 (vector loops and their scalar tails) */
    for (int level = 2; level <= 3; level++) {
        int ran = vdsp_g711_kernel_ulaw_encode(level, pcm, 65536, codes), bad = 0;
        if (!ran) {
            CHECK(1, "no level-%d G.711 kernels on this build/CPU", level);
            continue;
        }
        for (int i = 0; i < 65536; i++) bad += codes[i] != ulaw_formula(pcm[i], 0);
        vdsp_g711_kernel_alaw_encode(level, pcm, 65536, codes);
        for (int i = 0; i < 65536; i++) bad += codes[i] != alaw_formula(pcm[i]);
        vdsp_g711_kernel_ulaw_decode(level, all, 256, dec);
        for (int c = 0; c < 256; c++) bad += dec[c] != ulaw_dec_formula((uint8_t)c);
        vdsp_g711_kernel_alaw_decode(level, all, 256, dec);
        for (int c = 0; c < 256; c++) bad += dec[c] != alaw_dec_formula((uint8_t)c);
        for (size_t n = 0; n <= 40; n++) {
            memset(codes, 0xAA, sizeof codes);
            memset(back, 0x55, sizeof back);
            vdsp_g711_kernel_alaw_encode(level, pcm + 3001, n, codes + 1);
            vdsp_g711_kernel_ulaw_decode(level, all + 3, n, back + 1);
            for (size_t i = 0; i < n; i++)
                bad += (codes[1 + i] != alaw_formula(pcm[3001 + i])) +
                       (back[1 + i] != ulaw_dec_formula(all[3 + i]));
            bad += (codes[1 + n] != 0xAA) + (back[1 + n] != 0x5555);
        }
        CHECK(bad == 0, "level-%d kernels: %d outputs differ from the formula", level, bad);
    }

    /* every offset and length around the unrolled loops: the tails must be handled exactly */
    int tails_ok = 1;
    for (int off = 0; off < 8; off++) {
        for (size_t n = 0; n <= 40; n++) {
            memset(codes, 0xAA, sizeof codes);
            vdsp_g711_ulaw_encode(pcm + 1000 + off, n, codes + off);
            for (size_t i = 0; i < n; i++)
                tails_ok &= codes[off + i] == ulaw_formula(pcm[1000 + off + i], 0);
            tails_ok &= codes[off + n] == 0xAA; /* nothing written past the end */
            vdsp_g711_alaw_decode(all + off, n, back + off);
            for (size_t i = 0; i < n; i++)
                tails_ok &= back[off + i] == alaw_dec_formula(all[off + i]);
            memset(codes, 0xAA, sizeof codes);
            vdsp_g711_ulaw_encode_table(pcm + 1000 + off, n, codes + off);
            for (size_t i = 0; i < n; i++)
                tails_ok &= codes[off + i] == ulaw_formula(pcm[1000 + off + i], 0);
            tails_ok &= codes[off + n] == 0xAA;
            vdsp_g711_ulaw_decode_table(all + off, n, back + off);
            for (size_t i = 0; i < n; i++)
                tails_ok &= back[off + i] == ulaw_dec_formula(all[off + i]);
        }
    }
    CHECK(tails_ok, "offset/length sweep produced wrong or out-of-bounds output");

    /* code-to-code conversion may run in place */
    uint8_t conv[256], inplace[256];
    memcpy(inplace, all, 256);
    vdsp_g711_ulaw_to_alaw(all, 256, conv);
    vdsp_g711_ulaw_to_alaw(inplace, 256, inplace);
    CHECK(memcmp(conv, inplace, 256) == 0, "in-place mu->A differs");
    memcpy(inplace, all, 256);
    vdsp_g711_alaw_to_ulaw(all, 256, conv);
    vdsp_g711_alaw_to_ulaw(inplace, 256, inplace);
    CHECK(memcmp(conv, inplace, 256) == 0, "in-place A->mu differs");

    /* empty spans may be NULL */
    vdsp_g711_ulaw_encode(NULL, 0, NULL);
    vdsp_g711_alaw_decode(NULL, 0, NULL);
    vdsp_g711_ulaw_to_alaw(NULL, 0, NULL);
    CHECK(1, "empty spans");
    return TEST_REPORT("test_g711");
}
