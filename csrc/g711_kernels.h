/* Internal (tests and benchmarks, not installed): the arithmetic G.711 kernels by instruction
 * set, which vdsp_g711_ulaw_encode and the others pick for the CPU (the widest it runs) or
 * replace with the portable tables (no such kernel). level: 2 = AVX2, 3 = AVX-512 (F, BW,
 * VL). Each returns 1 after converting n samples as the public function does, 0 (nothing
 * written) when this build or this CPU has no kernel of that level. */
#ifndef VOICEDSP_G711_KERNELS_H
#define VOICEDSP_G711_KERNELS_H

#include <stddef.h>
#include <stdint.h>

int vdsp_g711_kernel_ulaw_encode(int level, const int16_t *pcm, size_t n, uint8_t *codes);
int vdsp_g711_kernel_alaw_encode(int level, const int16_t *pcm, size_t n, uint8_t *codes);
int vdsp_g711_kernel_ulaw_decode(int level, const uint8_t *codes, size_t n, int16_t *pcm);
int vdsp_g711_kernel_alaw_decode(int level, const uint8_t *codes, size_t n, int16_t *pcm);

#endif
