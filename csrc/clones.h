/* Internal: function multiversioning (not installed, not part of the API).
 *
 * Where the toolchain and the C library support it (GCC 6+ or clang 14+, x86-64 glibc: ifunc),
 * a function marked VDSP_CLONES is compiled for AVX2 and for the baseline, and the loader
 * picks the best for the CPU; VDSP_CLONES_WIDE adds an x86-64-v4 (AVX-512) clone. A plain
 * build everywhere else (musl, macOS, MSVC, other CPUs), or with VDSP_NO_CLONES. Only
 * functions whose result cannot depend on the clone get the mark: integer arithmetic, or
 * float code with the same operations in the same order in every clone (no FMA: -std=c99
 * turns contraction off in GCC; for clang, which fuses within expressions by default, the
 * pragma below). */
#ifndef VDSP_CLONES_H
#define VDSP_CLONES_H

#include <stdlib.h> /* defines __GLIBC__ on glibc */

#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif

#if defined(__clang__)
#define VDSP_CLONES_OK (__clang_major__ >= 14) /* target_clones with "arch=" */
#elif defined(__GNUC__)
#define VDSP_CLONES_OK (__GNUC__ >= 6)
#else
#define VDSP_CLONES_OK 0
#endif

#if VDSP_CLONES_OK && defined(__x86_64__) && defined(__linux__) && defined(__GLIBC__) && \
    !defined(VDSP_NO_CLONES)
#define VDSP_CLONES __attribute__((target_clones("avx2", "default")))
#define VDSP_CLONES_WIDE __attribute__((target_clones("arch=x86-64-v4", "avx2", "default")))
#define VDSP_HAVE_WIDE 1
#else
#define VDSP_CLONES
#define VDSP_CLONES_WIDE
#define VDSP_HAVE_WIDE 0
#endif

#endif
