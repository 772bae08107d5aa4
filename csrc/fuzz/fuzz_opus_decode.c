/* libFuzzer target: arbitrary bytes through the Opus decoder wrappers.
 *
 *   make -C csrc fuzz FUZZ_SECONDS=60      (needs clang; corpus in csrc/tests/bin/corpus/)
 *
 * Byte 0 picks the decoder (rate, channels); the rest is a sequence of packets, each prefixed
 * by one length byte. A length byte of 0 stands for a lost packet: the next packet's FEC is
 * tried, then the loss is concealed. Every status must be OK or a documented refusal, and the
 * decoder must keep decoding afterwards. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "voicedsp/opus.h"
#include "voicedsp/status.h"

static int16_t pcm[VDSP_OPUS_MAX_FRAME_SAMPLES * 2];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static const int rates[] = {8000, 12000, 16000, 24000, 48000};
    if (size < 1) return 0;
    int rate = rates[data[0] % 5], channels = 1 + ((data[0] >> 3) & 1);
    vdsp_opus_decoder *dec = NULL;
    if (vdsp_opus_decoder_create(rate, channels, &dec) != VDSP_OK) abort();
    size_t pos = 1;
    while (pos < size) {
        size_t len = data[pos++];
        int lost = len == 0;
        if (lost) len = pos < size ? data[pos++] : 0;
        if (len > size - pos) len = size - pos;
        const uint8_t *pkt = data + pos;
        pos += len;
        int n = 0, st;
        vdsp_opus_packet_info info;
        int st_info = vdsp_opus_packet_inspect(pkt, len, rate, &info);
        if (lost) {
            int last = vdsp_opus_decoder_last_packet_samples(dec);
            int want = last > 0 ? last : rate / 50;
            st = vdsp_opus_decoder_decode_fec(dec, pkt, len, want, pcm);
            if (st != VDSP_OK && st != VDSP_ERR_CORRUPT_PACKET) abort();
            if (vdsp_opus_decoder_conceal(dec, want, pcm) != VDSP_OK) abort();
        }
        st = vdsp_opus_decoder_decode(dec, pkt, len, pcm, VDSP_OPUS_MAX_FRAME_SAMPLES, &n);
        if (st != VDSP_OK && st != VDSP_ERR_CORRUPT_PACKET) abort();
        /* introspection and decoding agree on which packets are well-formed, and on length */
        if ((st == VDSP_OK) != (st_info == VDSP_OK)) abort();
        if (st == VDSP_OK && n != info.n_samples) abort();
    }
    vdsp_opus_decoder_destroy(dec);
    return 0;
}
