/*
 * voicedsp — ITU-T G.711 mu-law and A-law, bit-exact with the ITU-T G.191 reference tools.
 *
 * Stateless kernels over spans. None of them can fail, so none returns a status:
 *   - `n` is a count of samples (PCM) or of codes (one byte each); 0 is valid and then the
 *     pointers may be NULL.
 *   - input and output spans must not overlap, except for the code-to-code converters, which
 *     may run in place (out == codes).
 *   - all are thread-safe: they read only constant tables.
 *
 * Encoders take native-endian signed 16-bit PCM (full scale -32768..32767). mu-law works on
 * the 14 most significant bits and A-law on the 12 most significant bits of magnitude, as the
 * standard specifies; negative inputs are reduced by one's complement as in G.191.
 */
#ifndef VOICEDSP_G711_H
#define VOICEDSP_G711_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* pcm[n] (in) -> codes[n] (out), ITU-T G.711 mu-law. */
void vdsp_g711_ulaw_encode(const int16_t *pcm, size_t n, uint8_t *codes);

/* Same, but reproducing CPython's audioop.lin2ulaw, which negates instead of complementing
 * negative inputs and so differs from G.711 on 508 negative inputs (for migration only). */
void vdsp_g711_ulaw_encode_audioop(const int16_t *pcm, size_t n, uint8_t *codes);

/* pcm[n] (in) -> codes[n] (out), ITU-T G.711 A-law (even bits inverted, as transmitted). */
void vdsp_g711_alaw_encode(const int16_t *pcm, size_t n, uint8_t *codes);

/* The portable table-driven kernels. The encoders and decoders above use them, or, on x86
 * CPUs with AVX2 or AVX-512, vectorized arithmetic that gives the same output; exposed so
 * tests and benchmarks can run both. */
void vdsp_g711_ulaw_encode_table(const int16_t *pcm, size_t n, uint8_t *codes);
void vdsp_g711_alaw_encode_table(const int16_t *pcm, size_t n, uint8_t *codes);
void vdsp_g711_ulaw_decode_table(const uint8_t *codes, size_t n, int16_t *pcm);
void vdsp_g711_alaw_decode_table(const uint8_t *codes, size_t n, int16_t *pcm);

/* codes[n] (in) -> pcm[n] (out): the decoder output values of G.711, scaled to 16 bits. */
void vdsp_g711_ulaw_decode(const uint8_t *codes, size_t n, int16_t *pcm);
void vdsp_g711_alaw_decode(const uint8_t *codes, size_t n, int16_t *pcm);

/* codes[n] (in) -> out[n] (out) by G.711 Table 3 (mu->A) and Table 4 (A->mu). These differ
 * from decode-then-encode by one quantization step on 44 mu-law and 32 A-law codes. May run in
 * place. */
void vdsp_g711_ulaw_to_alaw(const uint8_t *codes, size_t n, uint8_t *out);
void vdsp_g711_alaw_to_ulaw(const uint8_t *codes, size_t n, uint8_t *out);

#ifdef __cplusplus
}
#endif
#endif /* VOICEDSP_G711_H */
