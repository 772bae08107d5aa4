/*
 * voicedsp — internal test hook of the resampler (not public API, not bound in Python).
 */
#ifndef VOICEDSP_RESAMPLE_KERNELS_H
#define VOICEDSP_RESAMPLE_KERNELS_H

#include "voicedsp/resample.h"

/* Pick the vector kernel of the int16 path of integer-ratio pairs (it is chosen at create for
 * the CPU; every kernel computes the same exact integers, which is what the C tests check).
 *   r      (in/out) a resampler, right after create or reset.
 *   level  (in)  0 portable C only, 1 AVX2, 2 AVX-512 (F, BW, VL, VNNI).
 * Returns 1 if the kernel is now in use, 0 if this build, CPU or pair has no such kernel or
 * r does not run int16 calls in integers here (r unchanged). */
int vdsp_resampler_use_kernel(vdsp_resampler *r, int level);

#endif
