/*
 * Streaming polyphase FIR resampler (see include/voicedsp/resample.h for the contract).
 *
 * Design. A rate pair in/out reduces to L/M (L = out/g, M = in/g). Output frame j is the input
 * signal at input time tau_j = (j - D) * M / L, computed as sum_n x[n] h(tau_j - n), where h
 * is one fixed low-pass kernel scaled to the lower of the two rates (so the same normalized
 * design serves every pair). h is continuous: the equiripple prototype of
 * resample_tables.h (OS x oversampled) interpolated by a short Kaiser-windowed sinc, whose
 * images fall under the prototype's stop band. Writing tau_j = n0 + p/L, the taps of output j
 * depend only on the phase p, so create() samples h into L rows of T taps (T a multiple of 8,
 * the table scaled to unity DC gain) and each output is one dot product of a row with T
 * contiguous history samples.
 *
 * D (the latency) is the smallest integer for which every output that the framing contract
 * releases (floor(N * L / M) after N inputs) has all its taps inside the input seen so far
 * (rounded up to whole input samples for integer upsampling, see filter_run_up). h's time 0 is
 * its prototype's centre: the middle of the linear-phase design (telephony), so the group
 * delay is exactly D output frames; or, for the minimum-phase design (alias_free), the point
 * of its group delay at 1/8 of the lower rate, so a 1 kHz tone of an 8 kHz conversion comes
 * out D frames late and the pass-band edge up to 10.6 / fl later (see resample_tables.h).
 *
 * History is kept per channel in one linear buffer: input is appended in blocks of up to `block`
 * frames, outputs are computed, then the samples no future output needs are dropped with one
 * memmove. Each output is computed from the same samples with the same operations whatever the
 * chunking, hence chunk invariance.
 *
 * Two arithmetic paths:
 *   - float (float calls; int16 calls of pairs whose ratio is not an integer): float history
 *     (int16 scaled by 2^-15, exact), float taps, a fixed summation order per output, no FMA
 *     (so every build and clone gives the same bits). Integer downsampling computes 2 outputs
 *     per pass (4 on CPUs with AVX-512VL, whose 32 vector registers hold the 16 partial sums:
 *     1.3x faster there), sharing each coefficient load.
 *   - integer (int16 calls of integer ratios, M == 1 or L == 1: 8<->16, 8<->24, 8<->48,
 *     16<->48, 24->8, 48->16, ...; the MediaBridge's conversions): int16 history, each tap as
 *     two int16 (hi, lo: about 22-25 significant bits, see quantize_i16), int32 sums with
 *     pmaddwd. Integer sums are exact, so every kernel (portable C, AVX2, AVX-512 VNNI) gives
 *     the same bits and the vector code may sum in any order. Used where an AVX2 or AVX-512
 *     kernel runs (x86-64 with GCC or clang, picked at create); elsewhere int16 calls take the
 *     float path (an SSE2 version measured slower than the float path, so there is none).
 *     VDSP_RESAMPLE_PRECISION_Q15 designs keep one int16 per tap (B = 0, the low rows zero):
 *     the kernels skip the low products (half the multiplies) at the cost of a stop band
 *     near -76 dBc; the MediaBridge uses them on G.711 calls.
 *   Why the integer path (measured in C, -O3, on the 2-core Zen 4 VM, loaded): per 20 ms the
 *   float kernels cost 0.44 us (8->16) and 0.77 us (24->8); the integer ones 0.26 and 0.42 us
 *   with AVX-512 VNNI, 0.42 and 0.62 us with AVX2.
 *   The float kernels are latency-bound (one sequential order per output, 3-cycle adds) and
 *   downsampling pays horizontal sums; the integer kernels put one output per int32 lane
 *   (no horizontal sums), have 1-cycle add chains, and read int16. They are bound by the
 *   multiplier: the hi/lo split doubles the pmaddwd count, which is the price of the stop band
 *   (one int16 coefficient per tap, Q14/Q15, lifts the images to -71..-76 dBc: measured on the
 *   quantized tables, against the -90 dBc bar), so the gain is ~1.6-2.2x, not 4x. FMA in
 *   float would reach the same multiply rate on this CPU (2 x 8 lanes per cycle) without the
 *   cross-build identity; not taken.
 */
#include "clones.h" /* first: its pragma must precede every inline float function */
#include "voicedsp/resample.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "group.h"
#include "resample_kernels.h"
#include "resample_tables.h"
#include "voicedsp/status.h"

#if defined(_MSC_VER) && !defined(restrict)
#define restrict __restrict
#endif

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

/* Taps are padded to a multiple of LANES (the vector width of the inner loops). */
#define LANES 8
/* Input positions computed together by the integer-upsampling path. */
#define GROUP 32

static const int SUPPORTED_RATES[] = {8000,  11025, 12000, 16000, 22050,
                                       24000, 32000, 44100, 48000};

/* vector kernel of the int16 path (see run_int) */
typedef size_t (*vert_fn)(const uint32_t *Q, const size_t *soff, const uint32_t *cp, size_t U,
                          unsigned L, size_t npos, int S, int B, int16_t *y, size_t stride);

/* The filter of one (in rate, out rate, quality): computed once, immutable afterwards, so any
 * number of resamplers on any threads may read it at once (see vdsp_resample_design_create). */
struct vdsp_resample_design {
    int in_rate, out_rate, quality;
    unsigned L, M;      /* out/in = L/M, reduced */
    size_t taps;        /* T, a multiple of LANES */
    size_t first_tap;   /* taps before this one are padding (zero in every row) */
    int latency;        /* D, output frames */
    unsigned phase0;    /* initial phase and history length (zeros), for reset */
    size_t wr0;
    float *coef;        /* L rows of T taps */
    int16_t *coef16;    /* L rows of 2T taps: T high parts, then T low parts (see I16_*) */
    int shift_hi;       /* S: coefficient = (hi + lo / 2^B) / 2^S */
    int shift_lo;       /* B */
    int int_path;       /* M == 1 or L == 1 and a vector kernel runs: int16 calls in integers */
    int q15;            /* VDSP_RESAMPLE_PRECISION_Q15: one int16 per tap (low rows zero) */
    vert_fn vert;       /* the int16 vector kernel for this CPU */
    uint32_t *coef_pairs;  /* L rows of npairs hi pairs then npairs lo pairs, each repeated 8
                            * times for the AVX2 kernel (a vector operand, no broadcast)
                            * or once for AVX-512 (embedded broadcasts; less cache) */
    size_t npairs;      /* tap pairs the vector kernels compute (leading zero pairs dropped) */
    size_t pair0;       /* the first of them */
    void *coef_base, *coef16_base, *coef_pairs_base;
};

struct vdsp_resampler {
    int in_rate, out_rate, quality, channels;
    unsigned L, M;      /* out/in = L/M, reduced */
    unsigned q, rem;    /* M = q * L + rem: per output, the input position advances q + rem/L */
    size_t taps;        /* T, a multiple of LANES */
    size_t first_tap;   /* taps before this one are padding (zero in every row) */
    int latency;        /* D, output frames */
    const float *coef;  /* the design's tables (read only, shared) */
    const int16_t *coef16;
    int shift_hi;
    int shift_lo;
    int mode;           /* KIND_I16 or KIND_F32: which history is live */
    int int_path;       /* int16 calls run in integers (else in float) */
    int q15;            /* the design's precision */
    vert_fn vert;       /* the int16 vector kernel in use */
    const uint32_t *coef_pairs;  /* the design's, or own_pairs (vdsp_resampler_use_kernel) */
    size_t *pair_off;   /* npairs offsets into pairs: where tap pair u reads */
    size_t npairs;
    size_t pair0;
    uint32_t *pairs;    /* M streams of pair_stride sample pairs */
    size_t pair_stride;
    float *hist;        /* channels rows of cap floats (float calls) */
    int16_t *hist16;    /* channels rows of cap samples (int16 calls) */
    float *scratch;     /* outputs of one block, interleaved, float */
    size_t block;       /* input frames appended per pass */
    size_t cap;         /* history capacity per channel, frames */
    size_t scratch_frames;
    /* stream state */
    uint64_t frac;      /* (N * L) mod M, N = input frames so far */
    unsigned phase;     /* p of the next output */
    size_t rd;          /* history index of the first tap of the next output */
    size_t wr;          /* history frames held */
    /* initial state, for reset */
    unsigned phase0;
    size_t wr0;
};

static vert_fn pick_vert(int q15);
static void fill_pairs(const vdsp_resample_design *d, size_t rep, uint32_t *dst);
static size_t pairs_rep(vert_fn f);
static size_t pairs_bytes(const vdsp_resampler *r);

int vdsp_resampler_rate_supported(int rate_hz) {
    for (size_t i = 0; i < sizeof SUPPORTED_RATES / sizeof SUPPORTED_RATES[0]; i++)
        if (SUPPORTED_RATES[i] == rate_hz) return 1;
    return 0;
}

static unsigned gcd_u(unsigned a, unsigned b) {
    while (b) {
        unsigned t = a % b;
        a = b;
        b = t;
    }
    return a;
}

/* floor(a / b) for b > 0 and any sign of a */
static int64_t floor_div(int64_t a, int64_t b) {
    int64_t d = a / b;
    return (a % b != 0 && a < 0) ? d - 1 : d;
}

#define I0_TERMS 64  /* enough for the Kaiser betas used (<= 20) */

typedef struct {
    const double *g;
    int n;
    double centre;  /* the prototype tap at kernel time 0 */
    double inv_i0_beta;
    double inv_k2[I0_TERMS];  /* 1 / k^2: the series below then needs no division */
} proto_t;

/* Modified Bessel function I0(2 sqrt(y)) = sum_k y^k / (k!)^2. */
static double bessel_i0_y(const proto_t *pr, double y) {
    double sum = 1.0, term = 1.0;
    for (int k = 1; k < I0_TERMS; k++) {
        term *= y * pr->inv_k2[k];
        sum += term;
        if (term < sum * 1e-17) break;
    }
    return sum;
}

/* The continuous kernel at time t, in units of 1/fl (fl = the lower rate), 0 at the centre c:
 * sum_n g[n] k(t OS + c - n), k(x) = sinc(x) I0(beta sqrt(1 - (x/hw)^2)) / I0(beta). It is
 * zero outside -(c + hw) / OS < t < (n - 1 - c + hw) / OS. */
static double kernel(const proto_t *pr, double t) {
    const double hw = VDSP_RS_INTERP_HALF_WIDTH, beta = VDSP_RS_INTERP_BETA;
    double tr = t * VDSP_RS_OS + pr->centre;
    long lo = (long)ceil(tr - hw), hi = (long)floor(tr + hw);
    if (lo < 0) lo = 0;
    if (hi > pr->n - 1) hi = pr->n - 1;
    double acc = 0.0;
    for (long n = lo; n <= hi; n++) {
        double x = tr - (double)n;
        double u = x / hw;
        if (u * u >= 1.0) continue;
        /* sin of the small argument: x may be a rounding error away from an integer, where
         * sin(pi tr) of the large tr would lose the digits that matter */
        double s = x == 0.0 ? 1.0 : sin(M_PI * x) / (M_PI * x);
        acc += pr->g[n] * s * bessel_i0_y(pr, beta * beta * (1.0 - u * u) / 4.0) *
               pr->inv_i0_beta;
    }
    return acc;
}

/* Is every output the framing rule releases covered by the input seen, for latency D? With
 * u = j - D, output j needs input up to floor(u M / L) + A and is released once
 * N >= ceil((j + 1) M / L); both sides grow by M when u grows by L, so one period suffices. */
static int latency_ok(int64_t D, int64_t L, int64_t M, int64_t A) {
    for (int64_t u = 0; u < L; u++) {
        int64_t need = floor_div(u * M, L) + A;
        int64_t have = -floor_div(-(u + D + 1) * M, L) - 1;
        if (need > have) return 0;
    }
    return 1;
}

static size_t round_up(size_t n, size_t m) { return (n + m - 1) / m * m; }

static void *aligned_calloc(size_t n, void **base) {
    unsigned char *p = calloc(n + 64, 1);
    *base = p;
    if (!p) return NULL;
    return p + (64 - ((uintptr_t)p & 63));
}

/* The allocations live just after the struct; `mem` keeps the malloc'd pointers. */
typedef struct {
    struct vdsp_resampler r;
    vdsp_resample_design *owned;  /* the design, when the resampler made its own */
    void *hist_base, *scratch_base, *hist16_base;
    void *own_pairs_base, *pair_off_base, *pairs_base;
} resampler_alloc;

void vdsp_resample_design_destroy(vdsp_resample_design *d) {
    if (!d) return;
    free(d->coef_base);
    free(d->coef16_base);
    free(d->coef_pairs_base);
    free(d);
}

void vdsp_resampler_destroy(vdsp_resampler *r) {
    if (!r) return;
    resampler_alloc *a = (resampler_alloc *)r;
    vdsp_resample_design_destroy(a->owned);
    free(a->hist_base);
    free(a->scratch_base);
    free(a->hist16_base);
    free(a->own_pairs_base);
    free(a->pair_off_base);
    free(a->pairs_base);
    free(a);
}

void vdsp_resampler_reset(vdsp_resampler *r) {
    if (!r) return;
    memset(r->hist, 0, (size_t)r->channels * r->cap * sizeof(float));
    memset(r->hist16, 0, (size_t)r->channels * r->cap * sizeof(int16_t));
    r->frac = 0;
    r->phase = r->phase0;
    r->rd = 0;
    r->wr = r->wr0;
}

/* The int16 path's table: each coefficient c (unity DC gain per row) as
 * round(c 2^(S+B)) = hi 2^B + lo with lo in [0, 2^B), hi and lo int16, so that with int16
 * samples x both sums ah = sum x hi and al = sum x lo fit int32 for ANY input (bounds below),
 * and the output is (ah + (al >> B) + 2^(S-1)) >> S, saturated. S + B >= 22 for every pair:
 * the quantized filter is within 0.02 LSB of the float one (a single int16 coefficient, Q14/Q15,
 * would lift the stop band to -71..-76 dB and miss the -90 dB bar). */
static void quantize_i16(vdsp_resample_design *r, const double *c) {
    size_t T = r->taps;
    double mx = 0.0, l1 = 0.0;
    for (unsigned p = 0; p < r->L; p++) {
        double s = 0.0;
        for (size_t t = 0; t < T; t++) {
            double a = fabs(c[(size_t)p * T + t]);
            s += a;
            if (a > mx) mx = a;
        }
        if (s > l1) l1 = s;
    }
    /* |al| < 2^15 T 2^B <= 2^31; Q15 precision: B = 0 and no low part */
    int B = 0;
    while (!r->q15 && B < 15 && (T << (B + 1)) <= 65536) B++;
    /* |hi| <= 32767 and |ah| + |al >> B| + 2^(S-1) <= 2^15 (l1 2^S + 2 T + 1) < 2^31 */
    int S = 15;
    while (S > 1 && (ldexp(mx, S) + 1.0 > 32767.0 || ldexp(l1, S) + 2.0 * T + 2.0 > 65535.0))
        S--;
    r->shift_hi = S;
    r->shift_lo = B;
    for (unsigned p = 0; p < r->L; p++) {
        int16_t *hi = r->coef16 + (size_t)p * 2 * T, *lo = hi + T;
        for (size_t t = 0; t < T; t++) {
            int64_t v = (int64_t)llround(ldexp(c[(size_t)p * T + t], S + B));
            int64_t l = v & (((int64_t)1 << B) - 1);  /* 0 when B == 0 (Q15) */
            hi[t] = (int16_t)((v - l) / ((int64_t)1 << B));
            lo[t] = (int16_t)l;
        }
    }
}

int vdsp_resample_design_create(vdsp_resample_design **out, int in_rate_hz, int out_rate_hz,
                                int quality, int precision) {
    if (!out) return VDSP_ERR_INVALID_ARGUMENT;
    *out = NULL;
    if (quality != VDSP_RESAMPLE_TELEPHONY && quality != VDSP_RESAMPLE_ALIAS_FREE)
        return VDSP_ERR_INVALID_ARGUMENT;
    if (precision != VDSP_RESAMPLE_PRECISION_FULL && precision != VDSP_RESAMPLE_PRECISION_Q15)
        return VDSP_ERR_INVALID_ARGUMENT;
    if (!vdsp_resampler_rate_supported(in_rate_hz) || !vdsp_resampler_rate_supported(out_rate_hz))
        return VDSP_ERR_UNSUPPORTED_RATE;

    proto_t pr;
    if (quality == VDSP_RESAMPLE_TELEPHONY) {
        pr.g = vdsp_rs_telephony;
        pr.n = VDSP_RS_TELEPHONY_TAPS;
        pr.centre = VDSP_RS_TELEPHONY_CENTRE;
    } else {
        pr.g = vdsp_rs_alias_free;
        pr.n = VDSP_RS_ALIAS_FREE_TAPS;
        pr.centre = VDSP_RS_ALIAS_FREE_CENTRE;
    }
    for (int k = 1; k < I0_TERMS; k++) pr.inv_k2[k] = 1.0 / ((double)k * k);
    pr.inv_k2[0] = 0.0;
    pr.inv_i0_beta = 1.0 / bessel_i0_y(&pr, VDSP_RS_INTERP_BETA * VDSP_RS_INTERP_BETA / 4.0);

    unsigned g = gcd_u((unsigned)in_rate_hz, (unsigned)out_rate_hz);
    unsigned L = (unsigned)out_rate_hz / g, M = (unsigned)in_rate_hz / g;
    double fl = in_rate_hz < out_rate_hz ? in_rate_hz : out_rate_hz;
    double to_t = fl / in_rate_hz;  /* input samples -> kernel time units (1/fl) */
    /* the kernel is zero unless -ahead < t < behind (t in 1/fl; t > 0 is the past): in input
     * samples, -ahead_in < t / to_t < behind_in */
    const double hw = VDSP_RS_INTERP_HALF_WIDTH;
    double ahead_in = (pr.centre + hw) / VDSP_RS_OS / to_t;
    double behind_in = (pr.n - 1 - pr.centre + hw) / VDSP_RS_OS / to_t;

    /* taps n = n0 + i with -ahead_in < p/L - i < behind_in */
    int64_t A = (int64_t)ceil((double)(L - 1) / L + ahead_in) - 1;
    int64_t imin = (int64_t)floor(-behind_in) + 1;
    size_t T = round_up((size_t)(A - imin + 1), LANES);
    int64_t ilo = A - (int64_t)T + 1;

    int64_t D = 0;
    while (!latency_ok(D, L, M, A)) D++;
    /* integer upsampling: a whole number of input samples of delay, so blocks start on
     * phase 0 and every output takes the grouped path (costs < 1 input sample of delay) */
    if (M == 1)
        while (D % L) D++;

    vdsp_resample_design *r = calloc(1, sizeof *r);
    if (!r) return VDSP_ERR_NO_MEMORY;
    r->in_rate = in_rate_hz;
    r->out_rate = out_rate_hz;
    r->quality = quality;
    r->q15 = precision == VDSP_RESAMPLE_PRECISION_Q15;
    r->L = L;
    r->M = M;
    r->taps = T;
    r->first_tap = (size_t)(imin - ilo);
    r->latency = (int)D;

    /* initial state: history holds zeros for input indices n0(0) + ilo .. -1 */
    int64_t n00 = floor_div(-D * (int64_t)M, L);
    r->phase0 = (unsigned)(-D * (int64_t)M - n00 * (int64_t)L);
    r->wr0 = (size_t)(-(n00 + ilo));

    r->coef = aligned_calloc((size_t)L * T * sizeof(float), &r->coef_base);
    r->coef16 = aligned_calloc((size_t)L * 2 * T * sizeof(int16_t), &r->coef16_base);
    /* One gain for the whole table (not per row): per-row normalization would modulate the
     * rows and add an image of the pass band at the input rate. */
    double *tmp = malloc((size_t)L * T * sizeof(double));
    if (!r->coef || !r->coef16 || !tmp) {
        free(tmp);
        vdsp_resample_design_destroy(r);
        return VDSP_ERR_NO_MEMORY;
    }
    double sum = 0.0;
    for (unsigned p = 0; p < L; p++) {
        for (size_t k = 0; k < T; k++) {
            double delta = (double)p / L - (double)(ilo + (int64_t)k);
            tmp[(size_t)p * T + k] = kernel(&pr, delta * to_t);
            sum += tmp[(size_t)p * T + k];
        }
    }
    for (size_t i = 0; i < (size_t)L * T; i++) {
        tmp[i] *= L / sum;
        r->coef[i] = (float)tmp[i];
    }
    quantize_i16(r, tmp);
    free(tmp);
    r->int_path = (M == 1 || L == 1) && pick_vert(r->q15) != NULL;
    if (r->int_path) {
        size_t U = T / 2;
        /* leading tap pairs that are zero in every row (hi and lo) cost nothing: skipped */
        size_t u0 = 0;
        for (; u0 < U; u0++) {
            int nz = 0;
            for (unsigned p = 0; p < L; p++)
                for (size_t t = 2 * u0; t < 2 * u0 + 2; t++)
                    nz |= r->coef16[(size_t)p * 2 * T + t] | r->coef16[(size_t)p * 2 * T + T + t];
            if (nz) break;
        }
        r->npairs = U - u0;
        r->pair0 = u0;
        r->vert = pick_vert(r->q15);
        size_t rep = pairs_rep(r->vert);
        r->coef_pairs = aligned_calloc((size_t)L * 2 * r->npairs * rep * sizeof(uint32_t),
                                       &r->coef_pairs_base);
        if (!r->coef_pairs) {
            vdsp_resample_design_destroy(r);
            return VDSP_ERR_NO_MEMORY;
        }
        fill_pairs(r, rep, r->coef_pairs);
    }
    *out = r;
    return VDSP_OK;
}

int vdsp_resampler_create_from_design(vdsp_resampler **out, const vdsp_resample_design *d,
                                      int channels, size_t block_frames) {
    if (!out) return VDSP_ERR_INVALID_ARGUMENT;
    *out = NULL;
    if (!d || channels < 1 || channels > VDSP_RESAMPLE_MAX_CHANNELS ||
        block_frames > VDSP_RESAMPLE_MAX_BLOCK)
        return VDSP_ERR_INVALID_ARGUMENT;
    size_t block = block_frames ? block_frames : VDSP_RESAMPLE_DEFAULT_BLOCK;
    resampler_alloc *a = calloc(1, sizeof *a);
    if (!a) return VDSP_ERR_NO_MEMORY;
    vdsp_resampler *r = &a->r;
    unsigned L = d->L, M = d->M;
    size_t T = d->taps;
    r->in_rate = d->in_rate;
    r->out_rate = d->out_rate;
    r->quality = d->quality;
    r->channels = channels;
    r->L = L;
    r->M = M;
    r->q = M / L;
    r->rem = M % L;
    r->taps = T;
    r->first_tap = d->first_tap;
    r->latency = d->latency;
    r->coef = d->coef;
    r->coef16 = d->coef16;
    r->shift_hi = d->shift_hi;
    r->shift_lo = d->shift_lo;
    r->int_path = d->int_path;
    r->q15 = d->q15;
    r->vert = d->vert;
    r->coef_pairs = d->coef_pairs;
    r->npairs = d->npairs;
    r->pair0 = d->pair0;
    r->phase0 = d->phase0;
    r->wr0 = d->wr0;
    r->block = block;
    /* history after a block never exceeds what the next output needs: < T + D M/L + q + 2 */
    r->cap = block + T + r->wr0 + r->q + 8 + GROUP;
    r->scratch_frames = (size_t)((uint64_t)block * L / M) + 2;

    /* What every int16 call touches first (the int16 history, the pair offsets), so that
     * malloc places it next to the object; then what float calls and calls without a lent
     * work buffer use. */
    r->hist16 = aligned_calloc((size_t)channels * r->cap * sizeof(int16_t), &a->hist16_base);
    if (r->int_path) r->pair_off = aligned_calloc(d->npairs * sizeof(size_t), &a->pair_off_base);
    r->hist = aligned_calloc((size_t)channels * r->cap * sizeof(float), &a->hist_base);
    r->scratch = aligned_calloc(r->scratch_frames * (size_t)channels * sizeof(float),
                                &a->scratch_base);
    if (!r->hist || !r->scratch || !r->hist16) {
        vdsp_resampler_destroy(r);
        return VDSP_ERR_NO_MEMORY;
    }
    if (r->int_path) {
        r->pair_stride = block / M + T + 16;
        /* M streams, then (M > 1) room for the M pair_stride contiguous pairs they come from */
        r->pairs = aligned_calloc((size_t)(M > 1 ? 2 * M : 1) * r->pair_stride * sizeof(uint32_t),
                                  &a->pairs_base);
        if (!r->pair_off || !r->pairs) {
            vdsp_resampler_destroy(r);
            return VDSP_ERR_NO_MEMORY;
        }
        for (size_t u = 0; u < r->npairs; u++) {
            size_t t = 2 * (u + r->pair0);
            r->pair_off[u] = (t % M) * r->pair_stride + t / M;
        }
        /* touch the pages now rather than in the first call (calloc may leave them unmapped) */
        memset(r->pairs, 0, pairs_bytes(r));
    }
    memset(r->scratch, 0, r->scratch_frames * (size_t)channels * sizeof(float));
    vdsp_resampler_reset(r);
    *out = r;
    return VDSP_OK;
}

int vdsp_resampler_create(vdsp_resampler **out, int in_rate_hz, int out_rate_hz, int quality,
                          int channels) {
    if (!out) return VDSP_ERR_INVALID_ARGUMENT;
    *out = NULL;
    if (channels < 1 || channels > VDSP_RESAMPLE_MAX_CHANNELS) return VDSP_ERR_INVALID_ARGUMENT;
    vdsp_resample_design *d = NULL;
    int st = vdsp_resample_design_create(&d, in_rate_hz, out_rate_hz, quality,
                                         VDSP_RESAMPLE_PRECISION_FULL);
    if (st == VDSP_OK) st = vdsp_resampler_create_from_design(out, d, channels, 0);
    if (st != VDSP_OK) {
        vdsp_resample_design_destroy(d);
        return st;
    }
    ((resampler_alloc *)*out)->owned = d;
    return VDSP_OK;
}

int vdsp_resample_design_latency(const vdsp_resample_design *d) { return d ? d->latency : 0; }

int vdsp_resample_design_matches(const vdsp_resample_design *d, int in_rate_hz, int out_rate_hz,
                                 int quality, int precision) {
    return d && d->in_rate == in_rate_hz && d->out_rate == out_rate_hz && d->quality == quality &&
           d->q15 == (precision == VDSP_RESAMPLE_PRECISION_Q15);
}

size_t vdsp_resample_design_bytes(const vdsp_resample_design *d) {
    if (!d) return 0;
    size_t rep = d->int_path ? pairs_rep(d->vert) : 0;
    return sizeof *d + (size_t)d->L * d->taps * (sizeof(float) + 2 * sizeof(int16_t)) +
           (size_t)d->L * 2 * d->npairs * rep * sizeof(uint32_t);
}
int vdsp_resampler_latency(const vdsp_resampler *r) { return r ? r->latency : 0; }

int vdsp_resampler_taps(const vdsp_resampler *r) { return r ? (int)r->taps : 0; }

size_t vdsp_resampler_max_output(const vdsp_resampler *r, size_t n_in) {
    if (!r || n_in > VDSP_RESAMPLE_MAX_CALL) return 0;
    return (size_t)((r->frac + (uint64_t)n_in * r->L) / r->M);
}

size_t vdsp_resampler_flush_output(const vdsp_resampler *r) {
    if (!r) return 0;
    return (size_t)r->latency + (r->frac != 0);
}

/* 8-float vectors: GCC/clang vector extensions where available (lowered to whatever the
 * target has: 2 x SSE in the default build, one AVX register in the avx2 clone), plain arrays
 * elsewhere. Both do the same per-lane operations in the same order, so results agree. Loads
 * and stores go through memcpy (unaligned moves); macros, not functions, so no vector type
 * crosses a call (which would make the ABI depend on the clone). */
#if (defined(__GNUC__) || defined(__clang__)) && !defined(VDSP_NO_VECTOR_EXT)
typedef float vf8 __attribute__((vector_size(32)));
#define VF8_ZERO(v) vf8 v = {0, 0, 0, 0, 0, 0, 0, 0}
#define VF8_MAC(acc, cp, xp)                       \
    do {                                           \
        vf8 c_, x_;                                \
        memcpy(&c_, (cp), sizeof c_);              \
        memcpy(&x_, (xp), sizeof x_);              \
        acc += c_ * x_;                            \
    } while (0)
#define VF8_MAC_SCALAR(acc, c, xp)                 \
    do {                                           \
        vf8 x_;                                    \
        memcpy(&x_, (xp), sizeof x_);              \
        acc += (c) * x_;                           \
    } while (0)
#define VF8_MAC_V(acc, cv, xp)                     \
    do {                                           \
        vf8 x_;                                    \
        memcpy(&x_, (xp), sizeof x_);              \
        acc += (cv) * x_;                          \
    } while (0)
#define VF8_ADD(acc, b) acc += (b)
#define VF8_STORE(p, v) memcpy((p), &(v), sizeof(v))
#else
typedef struct { float f[8]; } vf8;
#define VF8_ZERO(v) vf8 v = {{0, 0, 0, 0, 0, 0, 0, 0}}
#define VF8_MAC(acc, cp, xp) \
    do { for (int l_ = 0; l_ < 8; l_++) acc.f[l_] += (cp)[l_] * (xp)[l_]; } while (0)
#define VF8_MAC_SCALAR(acc, c, xp) \
    do { for (int l_ = 0; l_ < 8; l_++) acc.f[l_] += (c) * (xp)[l_]; } while (0)
#define VF8_MAC_V(acc, cv, xp) \
    do { for (int l_ = 0; l_ < 8; l_++) acc.f[l_] += (cv).f[l_] * (xp)[l_]; } while (0)
#define VF8_ADD(acc, b) \
    do { for (int l_ = 0; l_ < 8; l_++) acc.f[l_] += (b).f[l_]; } while (0)
#define VF8_STORE(p, v) memcpy((p), &(v), sizeof(v))
#endif

/* Dot product for any ratio: four 8-lane partial sums (independent chains, so the adds are
 * not latency-bound), combined in a fixed order; the result does not depend on the alignment
 * of x. n is a multiple of LANES. */
static inline float dot(const float *restrict c, const float *restrict x, size_t n) {
    VF8_ZERO(a0);
    VF8_ZERO(a1);
    VF8_ZERO(a2);
    VF8_ZERO(a3);
    size_t k = 0;
    for (; k + 4 * LANES <= n; k += 4 * LANES) {
        VF8_MAC(a0, c + k, x + k);
        VF8_MAC(a1, c + k + LANES, x + k + LANES);
        VF8_MAC(a2, c + k + 2 * LANES, x + k + 2 * LANES);
        VF8_MAC(a3, c + k + 3 * LANES, x + k + 3 * LANES);
    }
    if (k + 2 * LANES <= n) {
        VF8_MAC(a0, c + k, x + k);
        VF8_MAC(a1, c + k + LANES, x + k + LANES);
        k += 2 * LANES;
    }
    if (k < n) VF8_MAC(a2, c + k, x + k);
    VF8_ADD(a0, a1);
    VF8_ADD(a2, a3);
    VF8_ADD(a0, a2);
    float s[LANES];
    VF8_STORE(s, a0);
    return ((s[0] + s[4]) + (s[1] + s[5])) + ((s[2] + s[6]) + (s[3] + s[7]));
}

/* k outputs of one channel from history x, into y[0], y[stride], ... (any L/M). */
VDSP_CLONES
static void filter_run(const float *restrict coef, size_t T, const float *restrict x,
                       unsigned phase, size_t rd, unsigned L, unsigned q, unsigned rem,
                       size_t k, float *restrict y, size_t stride) {
    for (size_t j = 0; j < k; j++) {
        y[j * stride] = dot(coef + (size_t)phase * T, x + rd, T);
        phase += rem;
        rd += q;
        if (phase >= L) {
            phase -= L;
            rd++;
        }
    }
}

/* Integer downsampling (L == 1): every output uses the one row, so two outputs (windows q
 * apart) share each coefficient load. Per output, the same operations in the same order as
 * dot(), so results do not depend on how outputs pair up. */
#define DOT2_STEP(acc0, acc1, off)                   \
    do {                                             \
        VF8_MAC(acc0, c + k + (off), x0 + k + (off)); \
        VF8_MAC(acc1, c + k + (off), x1 + k + (off)); \
    } while (0)

static inline void dot2(const float *restrict c, const float *restrict x0,
                        const float *restrict x1, size_t n, float *restrict y0,
                        float *restrict y1) {
    VF8_ZERO(a0);
    VF8_ZERO(a1);
    VF8_ZERO(a2);
    VF8_ZERO(a3);
    VF8_ZERO(b0);
    VF8_ZERO(b1);
    VF8_ZERO(b2);
    VF8_ZERO(b3);
    size_t k = 0;
    for (; k + 4 * LANES <= n; k += 4 * LANES) {
        DOT2_STEP(a0, b0, 0);
        DOT2_STEP(a1, b1, LANES);
        DOT2_STEP(a2, b2, 2 * LANES);
        DOT2_STEP(a3, b3, 3 * LANES);
    }
    if (k + 2 * LANES <= n) {
        DOT2_STEP(a0, b0, 0);
        DOT2_STEP(a1, b1, LANES);
        k += 2 * LANES;
    }
    if (k < n) DOT2_STEP(a2, b2, 0);
    VF8_ADD(a0, a1);
    VF8_ADD(a2, a3);
    VF8_ADD(a0, a2);
    VF8_ADD(b0, b1);
    VF8_ADD(b2, b3);
    VF8_ADD(b0, b2);
    float s[LANES], t[LANES];
    VF8_STORE(s, a0);
    VF8_STORE(t, b0);
    *y0 = ((s[0] + s[4]) + (s[1] + s[5])) + ((s[2] + s[6]) + (s[3] + s[7]));
    *y1 = ((t[0] + t[4]) + (t[1] + t[5])) + ((t[2] + t[6]) + (t[3] + t[7]));
}

#if VDSP_HAVE_WIDE
/* Four outputs at once: 16 accumulators, which only a CPU with 32 vector registers holds
 * (the AVX-512 clone below); per output, the same operations again. */
#define DOT4_STEP(i, off)                                   \
    do {                                                    \
        vf8 c_;                                             \
        memcpy(&c_, c + k + (off), sizeof c_);              \
        VF8_MAC_V(a##i, c_, x0 + k + (off));                \
        VF8_MAC_V(b##i, c_, x1 + k + (off));                \
        VF8_MAC_V(d##i, c_, x2 + k + (off));                \
        VF8_MAC_V(e##i, c_, x3 + k + (off));                \
    } while (0)
#define DOT4_SUM(a, y)                                                                     \
    do {                                                                                   \
        float s_[LANES];                                                                   \
        VF8_ADD(a##0, a##1);                                                               \
        VF8_ADD(a##2, a##3);                                                               \
        VF8_ADD(a##0, a##2);                                                               \
        VF8_STORE(s_, a##0);                                                               \
        *(y) = ((s_[0] + s_[4]) + (s_[1] + s_[5])) + ((s_[2] + s_[6]) + (s_[3] + s_[7])); \
    } while (0)

#if defined(__GNUC__)
__attribute__((always_inline))  /* into each clone: as a call it would run the default one */
#endif
static inline void dot4(const float *restrict c, const float *restrict x0,
                        const float *restrict x1, const float *restrict x2,
                        const float *restrict x3, size_t n, float *restrict y0,
                        float *restrict y1, float *restrict y2, float *restrict y3) {
    VF8_ZERO(a0); VF8_ZERO(a1); VF8_ZERO(a2); VF8_ZERO(a3);
    VF8_ZERO(b0); VF8_ZERO(b1); VF8_ZERO(b2); VF8_ZERO(b3);
    VF8_ZERO(d0); VF8_ZERO(d1); VF8_ZERO(d2); VF8_ZERO(d3);
    VF8_ZERO(e0); VF8_ZERO(e1); VF8_ZERO(e2); VF8_ZERO(e3);
    size_t k = 0;
    for (; k + 4 * LANES <= n; k += 4 * LANES) {
        DOT4_STEP(0, 0);
        DOT4_STEP(1, LANES);
        DOT4_STEP(2, 2 * LANES);
        DOT4_STEP(3, 3 * LANES);
    }
    if (k + 2 * LANES <= n) {
        DOT4_STEP(0, 0);
        DOT4_STEP(1, LANES);
        k += 2 * LANES;
    }
    if (k < n) DOT4_STEP(2, 0);  /* the tail goes to chain 2, as in dot() */
    DOT4_SUM(a, y0);
    DOT4_SUM(b, y1);
    DOT4_SUM(d, y2);
    DOT4_SUM(e, y3);
}
#endif

VDSP_CLONES_WIDE
static void filter_run_down(const float *restrict coef, size_t T, const float *restrict x,
                            size_t rd, unsigned q, size_t k, float *restrict y, size_t stride) {
    size_t j = 0;
#if VDSP_HAVE_WIDE
    if (__builtin_cpu_supports("avx512vl"))
        for (; j + 4 <= k; j += 4, rd += 4 * (size_t)q)
            dot4(coef, x + rd, x + rd + q, x + rd + 2 * (size_t)q, x + rd + 3 * (size_t)q, T,
                 &y[j * stride], &y[(j + 1) * stride], &y[(j + 2) * stride],
                 &y[(j + 3) * stride]);
#endif
    for (; j + 2 <= k; j += 2, rd += 2 * (size_t)q)
        dot2(coef, x + rd, x + rd + q, T, &y[j * stride], &y[(j + 1) * stride]);
    if (j < k) y[j * stride] = dot(coef, x + rd, T);
}

/* Integer upsampling (M == 1): the L outputs of input position rd use phases 0..L-1 of the
 * same window, and one phase over consecutive positions is a plain FIR, so up to GROUP
 * positions are computed together: one broadcast tap times GROUP contiguous samples, four
 * independent chains, no horizontal sums. Every output is the sequential sum over taps
 * first..T-1 (the leading taps are the zero padding), whether it falls in a group or not, so
 * the result does not depend on where a block starts. A short group computes all GROUP lanes
 * (reading history past the last valid sample, inside the buffer's slack) and stores the
 * valid ones. */
static inline float dot_seq(const float *restrict c, const float *restrict x, size_t first,
                            size_t n) {
    float a = 0.0f;
    for (size_t k = first; k < n; k++) a += c[k] * x[k];
    return a;
}

VDSP_CLONES
static void filter_run_up(const float *restrict coef, size_t T, size_t first,
                          const float *restrict x, unsigned phase, size_t rd, unsigned L,
                          size_t k, float *restrict y, size_t stride) {
    size_t j = 0;
    /* finish the current input position (only when a block ended inside one) */
    while (j < k && phase != 0) {
        y[j * stride] = dot_seq(coef + (size_t)phase * T, x + rd, first, T);
        j++;
        if (++phase == L) {
            phase = 0;
            rd++;
        }
    }
    /* groups of up to GROUP whole positions x L phases */
    while (j + L <= k) {
        size_t npos = (k - j) / L;
        if (npos > GROUP) npos = GROUP;
        for (unsigned p = 0; p < L; p++) {
            const float *c = coef + (size_t)p * T;
            VF8_ZERO(a0);
            VF8_ZERO(a1);
            VF8_ZERO(a2);
            VF8_ZERO(a3);
            for (size_t t = first; t < T; t++) {
                const float ct = c[t], *xs = x + rd + t;
                VF8_MAC_SCALAR(a0, ct, xs);
                VF8_MAC_SCALAR(a1, ct, xs + 8);
                VF8_MAC_SCALAR(a2, ct, xs + 16);
                VF8_MAC_SCALAR(a3, ct, xs + 24);
            }
            float s[GROUP];
            VF8_STORE(s, a0);
            VF8_STORE(s + 8, a1);
            VF8_STORE(s + 16, a2);
            VF8_STORE(s + 24, a3);
            for (size_t v = 0; v < npos; v++) y[(j + v * L + p) * stride] = s[v];
        }
        j += npos * L;
        rd += npos;
    }
    /* a last, incomplete position */
    for (; j < k; j++) {
        y[j * stride] = dot_seq(coef + (size_t)phase * T, x + rd, first, T);
        if (++phase == L) {
            phase = 0;
            rd++;
        }
    }
}

/* int16 path: one output from T int16 samples and one hi/lo row (see quantize_i16). Integer
 * sums are exact whatever the order, so the vector code is free to arrange them. */
static inline int16_t round_sat_i16(int32_t ah, int32_t al, int S, int B) {
    int32_t v = ah + (al >> B);
    v = (v + ((int32_t)1 << (S - 1))) >> S;
    return (int16_t)(v > 32767 ? 32767 : v < -32768 ? -32768 : v);
}

static inline int16_t dot_i16(const int16_t *restrict c, const int16_t *restrict x, size_t T,
                              int S, int B) {
    int32_t ah = 0, al = 0;
    for (size_t t = 0; t < T; t++) {
        ah += (int32_t)x[t] * c[t];
        al += (int32_t)x[t] * c[T + t];
    }
    return round_sat_i16(ah, al, S, B);
}

/* k outputs of one channel, any L/M: the reference kernel, and the one used where no vector
 * kernel below applies. */
static void filter_run_i16_c(const int16_t *restrict coef, size_t T, const int16_t *restrict x,
                             unsigned phase, size_t rd, unsigned L, unsigned q, unsigned rem,
                             size_t k, int16_t *restrict y, size_t stride, int S, int B) {
    for (size_t j = 0; j < k; j++) {
        y[j * stride] = dot_i16(coef + (size_t)phase * 2 * T, x + rd, T, S, B);
        phase += rem;
        rd += q;
        if (phase >= L) {
            phase -= L;
            rd++;
        }
    }
}

/* Integer ratios (M == 1 or L == 1): vertical kernels, W outputs of one phase per vector, one
 * output per int32 lane, so no horizontal sums at all. With pairs of samples
 * Q_r[i] = (x[rd + M i + r], x[rd + M i + r + 1]) (M interleaved streams; one for
 * upsampling), output (position i, phase p) is sum_u pmaddwd(Q_{2u mod M}[i + 2u div M],
 * (c_p[2u], c_p[2u + 1])): one contiguous load per tap pair, shared by the L phases, times
 * a broadcast coefficient pair, for the hi and the lo rows. Integer sums are exact whatever
 * their order, so these give exactly filter_run_i16_c's numbers. Why this kernel: integer
 * adds are 1-cycle chains (the float kernels above must keep one sequential order per output
 * for chunk invariance, which makes them latency-bound), no horizontal sums, half the
 * memory traffic of float history; and the hi/lo split keeps the float filter's stop band
 * (one int16 coefficient per tap would lift it to -71..-76 dB, missing the -90 dB bar). */
#if (defined(__GNUC__) || defined(__clang__)) && defined(__x86_64__) && !defined(VDSP_NO_SIMD)
#define VDSP_I16_SIMD 1
/* AVX-512 VNNI intrinsics and target names: GCC 9+, clang 8+ */
#if (defined(__clang__) && __clang_major__ >= 8) || (!defined(__clang__) && __GNUC__ >= 9)
#define VDSP_I16_AVX512 1
#endif
#include <immintrin.h>

/* Store the 8 int16 results of phase p0 + p for positions i .. i + 7 (or 4: n). */
static inline void scatter_i16(const int16_t *v, size_t n, unsigned L, unsigned p, int16_t *y,
                               size_t stride) {
    for (size_t i = 0; i < n; i++) y[(i * L + p) * stride] = v[i];
}

/* 8 sums v -> 8 int16: (v + 2^(S-1)) >> S, saturated */
#define fin256(v, half, ss)                                                                 \
    _mm_packs_epi32(_mm256_castsi256_si128(_mm256_sra_epi32(_mm256_add_epi32(v, half), ss)), \
                    _mm256_extracti128_si256(_mm256_sra_epi32(_mm256_add_epi32(v, half), ss), 1))

/* NPH phases (1..3) from p0, NBK blocks of 8 positions per pass (so each coefficient
 * broadcast serves NBK loads and there are 2 NPH NBK independent sums), blocks b0 .. nb-1 while
 * NBK fit; AVX2. Leaves b at the first block not done. */
#define VERT_256(NPH, NBK, MAC, REP, SG)                                                        \
    for (; b + NBK <= nb; b += NBK) {                                                        \
        __m256i ah[NPH][NBK], al[NPH][NBK];                                                  \
        for (int p = 0; p < NPH; p++)                                                        \
            for (int i = 0; i < NBK; i++) ah[p][i] = al[p][i] = _mm256_setzero_si256();      \
        for (size_t u = 0; u < U; u++) {                                                     \
            const uint32_t *q = Q + soff[u] + 8 * b;                                         \
            __m256i xv[NBK];                                                                 \
            for (int i = 0; i < NBK; i++)                                                    \
                xv[i] = _mm256_loadu_si256((const __m256i *)(const void *)(q + 8 * i));      \
            for (int p = 0; p < NPH; p++) {                                                  \
                const uint32_t *c = cp + ((size_t)(p0 + p) * 2 * U + u) * REP;         \
                for (int i = 0; i < NBK; i++) {                                              \
                    ah[p][i] = MAC(ah[p][i], xv[i], CL256(c, REP));                          \
                    if (!(SG)) al[p][i] = MAC(al[p][i], xv[i], CL256(c + REP * U, REP));      \
                }                                                                            \
            }                                                                                \
        }                                                                                    \
        for (int i = 0; i < NBK; i++) {                                                      \
            __m128i o[NPH];                                                                  \
            for (int p = 0; p < NPH; p++) {                                                  \
                __m256i v = _mm256_add_epi32(ah[p][i], _mm256_sra_epi32(al[p][i], sb));      \
                v = _mm256_sra_epi32(_mm256_add_epi32(v, half), ss);                         \
                o[p] = _mm_packs_epi32(_mm256_castsi256_si128(v),                            \
                                       _mm256_extracti128_si256(v, 1));                      \
            }                                                                                \
            int16_t *yb = y + 8 * (b + (size_t)i) * L * stride;                              \
            if (NPH == 1 && L == 1 && stride == 1) {                                         \
                _mm_storeu_si128((__m128i *)(void *)yb, o[0]);                               \
            } else if (NPH == 2 && L == 2 && stride == 1) {                                  \
                _mm_storeu_si128((__m128i *)(void *)yb, _mm_unpacklo_epi16(o[0], o[NPH - 1])); \
                _mm_storeu_si128((__m128i *)(void *)(yb + 8),                                \
                                 _mm_unpackhi_epi16(o[0], o[NPH - 1]));                      \
            } else {                                                                         \
                for (int p = 0; p < NPH; p++) {                                              \
                    int16_t t[8];                                                            \
                    _mm_storeu_si128((__m128i *)(void *)t, o[p]);                            \
                    scatter_i16(t, 8, L, p0 + (unsigned)p, yb, stride);                      \
                }                                                                            \
            }                                                                                \
        }                                                                                    \
    }

/* acc + pmaddwd(x, c): AVX2, and AVX512-VNNI's fused vpdpwssd (fewer instructions, the
 * same exact integers) */
#define MAC_AVX2(acc, x, c) _mm256_add_epi32(acc, _mm256_madd_epi16(x, c))
#define MAC_VNNI(acc, x, c) _mm256_dpwssd_epi32(acc, x, c)

/* The hot cases written out with named accumulators (arrays of vectors make GCC shuffle
 * registers every iteration): 4 blocks of one phase (integer downsampling), and 2 blocks
 * of 2 phases (x2 upsampling). Same arithmetic as VERT_256. */
#define LD256(p) _mm256_loadu_si256((const __m256i *)(const void *)(p))
/* a broadcast coefficient pair: from a table repeated REP (8 or 1) times */
#define CL256(p, REP)                                                                        \
    ((REP) == 8 ? _mm256_load_si256((const __m256i *)(const void *)(p))                      \
                : _mm256_set1_epi32((int)*(p)))
#define FIN256(h, l) \
    fin256(_mm256_add_epi32(h, _mm256_sra_epi32(l, sb)), half, ss)
#define VERT_DOWN4(MAC, REP, SG)                                                                    \
    for (; L == 1 && b + 4 <= nb; b += 4) {                                                  \
        __m256i h0 = _mm256_setzero_si256(), h1 = h0, h2 = h0, h3 = h0;                      \
        __m256i l0 = h0, l1 = h0, l2 = h0, l3 = h0;                                          \
        for (size_t u = 0; u < U; u++) {                                                     \
            const uint32_t *q = Q + soff[u] + 8 * b;                                         \
            const uint32_t *c = cp + u * REP;                                            \
            __m256i ch = CL256(c, REP), cl = CL256(c + REP * U, REP);                    \
            __m256i x0 = LD256(q), x1 = LD256(q + 8), x2 = LD256(q + 16), x3 = LD256(q + 24); \
            h0 = MAC(h0, x0, ch);                                                            \
            if (!(SG)) l0 = MAC(l0, x0, cl);                                                  \
            h1 = MAC(h1, x1, ch);                                                            \
            if (!(SG)) l1 = MAC(l1, x1, cl);                                                  \
            h2 = MAC(h2, x2, ch);                                                            \
            if (!(SG)) l2 = MAC(l2, x2, cl);                                                  \
            h3 = MAC(h3, x3, ch);                                                            \
            if (!(SG)) l3 = MAC(l3, x3, cl);                                                  \
        }                                                                                    \
        int16_t *yb = y + 8 * b * stride;                                                    \
        __m128i o[4] = {FIN256(h0, l0), FIN256(h1, l1), FIN256(h2, l2), FIN256(h3, l3)};     \
        for (int i = 0; i < 4; i++) {                                                        \
            if (stride == 1) {                                                               \
                _mm_storeu_si128((__m128i *)(void *)(yb + 8 * i), o[i]);                     \
            } else {                                                                         \
                int16_t t[8];                                                                \
                _mm_storeu_si128((__m128i *)(void *)t, o[i]);                                \
                scatter_i16(t, 8, 1, 0, yb + 8 * (size_t)i * stride, stride);                \
            }                                                                                \
        }                                                                                    \
    }
#define VERT_UP2(MAC, REP, SG)                                                                      \
    for (; L == 2 && b + 2 <= nb; b += 2) {                                                  \
        __m256i h0 = _mm256_setzero_si256(), h1 = h0, g0 = h0, g1 = h0;                      \
        __m256i l0 = h0, l1 = h0, m0 = h0, m1 = h0;                                          \
        for (size_t u = 0; u < U; u++) {                                                     \
            const uint32_t *q = Q + soff[u] + 8 * b;                                         \
            const uint32_t *c = cp + u * REP, *d = c + 2 * REP * U;                      \
            __m256i x0 = LD256(q), x1 = LD256(q + 8);                                        \
            __m256i ch = CL256(c, REP), cl = CL256(c + REP * U, REP);                    \
            h0 = MAC(h0, x0, ch);                                                            \
            if (!(SG)) l0 = MAC(l0, x0, cl);                                                  \
            h1 = MAC(h1, x1, ch);                                                            \
            if (!(SG)) l1 = MAC(l1, x1, cl);                                                  \
            __m256i dh = CL256(d, REP), dl = CL256(d + REP * U, REP);                    \
            g0 = MAC(g0, x0, dh);                                                            \
            if (!(SG)) m0 = MAC(m0, x0, dl);                                                  \
            g1 = MAC(g1, x1, dh);                                                            \
            if (!(SG)) m1 = MAC(m1, x1, dl);                                                  \
        }                                                                                    \
        __m128i e0 = FIN256(h0, l0), e1 = FIN256(h1, l1);                                    \
        __m128i o0 = FIN256(g0, m0), o1 = FIN256(g1, m1);                                    \
        int16_t *yb = y + 16 * b * stride;                                                   \
        if (stride == 1) {                                                                   \
            _mm_storeu_si128((__m128i *)(void *)yb, _mm_unpacklo_epi16(e0, o0));             \
            _mm_storeu_si128((__m128i *)(void *)(yb + 8), _mm_unpackhi_epi16(e0, o0));       \
            _mm_storeu_si128((__m128i *)(void *)(yb + 16), _mm_unpacklo_epi16(e1, o1));      \
            _mm_storeu_si128((__m128i *)(void *)(yb + 24), _mm_unpackhi_epi16(e1, o1));      \
        } else {                                                                             \
            int16_t t[8];                                                                    \
            _mm_storeu_si128((__m128i *)(void *)t, e0);                                      \
            scatter_i16(t, 8, 2, 0, yb, stride);                                             \
            _mm_storeu_si128((__m128i *)(void *)t, o0);                                      \
            scatter_i16(t, 8, 2, 1, yb, stride);                                             \
            _mm_storeu_si128((__m128i *)(void *)t, e1);                                      \
            scatter_i16(t, 8, 2, 0, yb + 16 * stride, stride);                               \
            _mm_storeu_si128((__m128i *)(void *)t, o1);                                      \
            scatter_i16(t, 8, 2, 1, yb + 16 * stride, stride);                               \
        }                                                                                    \
    }

#define VERT_FN(name, MAC, REP, SG)                                                                 \
    static size_t name(const uint32_t *Q, const size_t *soff, const uint32_t *cp, size_t U,  \
                       unsigned L, size_t npos, int S, int B, int16_t *y, size_t stride) {   \
        size_t nb = npos / 8;                                                                \
        const __m128i sb = _mm_cvtsi32_si128(B), ss = _mm_cvtsi32_si128(S);                  \
        const __m256i half = _mm256_set1_epi32(1 << (S - 1));                                \
        for (unsigned p0 = 0; p0 < L; p0 += 3) {                                             \
            unsigned nph = L - p0 < 3 ? L - p0 : 3;                                          \
            size_t b = 0;                                                                    \
            if (nph == 1) {                                                                  \
                VERT_DOWN4(MAC, REP, SG)                                                            \
                VERT_256(1, 1, MAC, REP, SG)                                                        \
            } else if (nph == 2) {                                                           \
                VERT_UP2(MAC, REP, SG)                                                              \
                VERT_256(2, 1, MAC, REP, SG)                                                        \
            } else {                                                                         \
                VERT_256(3, 1, MAC, REP, SG)                                                        \
            }                                                                                \
        }                                                                                    \
        return nb * 8;                                                                       \
    }

__attribute__((target("avx2")))
VERT_FN(vert_avx2, MAC_AVX2, 8, 0)
__attribute__((target("avx2")))
VERT_FN(vert_avx2_q15, MAC_AVX2, 8, 1)

#ifdef VDSP_I16_AVX512
__attribute__((target("avx2,avx512vl,avx512vnni")))
VERT_FN(vert_vnni, MAC_VNNI, 1, 0)
__attribute__((target("avx2,avx512vl,avx512vnni")))
VERT_FN(vert_vnni_q15, MAC_VNNI, 1, 1)

/* AVX-512 (F, BW, VNNI): 16 lanes, fused vpdpwssd with broadcast operands, 32 registers;
 * the hot cases (one phase: downsampling; two phases: x2 upsampling) in 512-bit vectors,
 * every other case with the 256-bit code. Half the instructions of the 256-bit kernels for
 * the same multiplies. */
#define LD512(p) _mm512_loadu_si512((const void *)(p))
#define BC512(p) _mm512_set1_epi32((int)*(p))
#define FIN512(h, l)                                                                         \
    _mm512_cvtsepi32_epi16(_mm512_sra_epi32(                                                 \
        _mm512_add_epi32(_mm512_add_epi32(h, _mm512_sra_epi32(l, sb)), half16), ss))

/* Store 32 consecutive outputs (a then b) at y, every `stride`-th int16. */
__attribute__((target("avx2")))
static inline void store32_i16(int16_t *y, size_t stride, __m256i a, __m256i b) {
    if (stride == 1) {
        _mm256_storeu_si256((__m256i *)(void *)y, a);
        _mm256_storeu_si256((__m256i *)(void *)(y + 16), b);
    } else {
        int16_t t[32];
        _mm256_storeu_si256((__m256i *)(void *)t, a);
        _mm256_storeu_si256((__m256i *)(void *)(t + 16), b);
        scatter_i16(t, 32, 1, 0, y, stride);
    }
}

__attribute__((target("avx2,avx512f,avx512bw,avx512vl,avx512vnni"), always_inline))
static inline size_t vert_avx512_body(const uint32_t *Q, const size_t *soff, const uint32_t *cp,
                                      size_t U, unsigned L, size_t npos, int S, int B, int16_t *y,
                                      size_t stride, const int SG) {
    const __m128i sb = _mm_cvtsi32_si128(B), ss = _mm_cvtsi32_si128(S);
    const __m512i half16 = _mm512_set1_epi32(1 << (S - 1));
    size_t nb = npos / 16, b = 0;
    if (SG && L == 1) {
        /* Q15, one phase: with no low rows only two sums per pass would remain, a chain of
         * dependent vpdpwssd (latency-bound); four blocks per pass give four chains. */
        for (; b + 4 <= nb; b += 4) {
            __m512i h0 = _mm512_setzero_si512(), h1 = h0, h2 = h0, h3 = h0;
            for (size_t u = 0; u < U; u++) {
                const uint32_t *q = Q + soff[u] + 16 * b;
                __m512i c0 = BC512(cp + u);
                h0 = _mm512_dpwssd_epi32(h0, LD512(q), c0);
                h1 = _mm512_dpwssd_epi32(h1, LD512(q + 16), c0);
                h2 = _mm512_dpwssd_epi32(h2, LD512(q + 32), c0);
                h3 = _mm512_dpwssd_epi32(h3, LD512(q + 48), c0);
            }
            const __m512i z = _mm512_setzero_si512();
            store32_i16(y + 16 * b * stride, stride, FIN512(h0, z), FIN512(h1, z));
            store32_i16(y + 16 * (b + 2) * stride, stride, FIN512(h2, z), FIN512(h3, z));
        }
    }
    if (L == 1) {
        for (; b + 2 <= nb; b += 2) {
            __m512i h0 = _mm512_setzero_si512(), h1 = h0, l0 = h0, l1 = h0;
            for (size_t u = 0; u < U; u++) {
                const uint32_t *q = Q + soff[u] + 16 * b, *c = cp + u;
                __m512i x0 = LD512(q), x1 = LD512(q + 16);
                h0 = _mm512_dpwssd_epi32(h0, x0, BC512(c));
                if (!SG) l0 = _mm512_dpwssd_epi32(l0, x0, BC512(c + U));
                h1 = _mm512_dpwssd_epi32(h1, x1, BC512(c));
                if (!SG) l1 = _mm512_dpwssd_epi32(l1, x1, BC512(c + U));
            }
            store32_i16(y + 16 * b * stride, stride, FIN512(h0, l0), FIN512(h1, l1));
        }
    } else if (L == 2) {
        for (; b + 2 <= nb; b += 2) {  /* two blocks per pass: 8 independent sums */
            __m512i h0 = _mm512_setzero_si512(), l0 = h0, g0 = h0, m0 = h0;
            __m512i h1 = h0, l1 = h0, g1 = h0, m1 = h0;
            for (size_t u = 0; u < U; u++) {
                const uint32_t *q = Q + soff[u] + 16 * b, *c = cp + u, *d = c + 2 * U;
                __m512i x0 = LD512(q), x1 = LD512(q + 16);
                __m512i ch = BC512(c), cl = BC512(c + U), dh = BC512(d), dl = BC512(d + U);
                h0 = _mm512_dpwssd_epi32(h0, x0, ch);
                if (!SG) l0 = _mm512_dpwssd_epi32(l0, x0, cl);
                g0 = _mm512_dpwssd_epi32(g0, x0, dh);
                if (!SG) m0 = _mm512_dpwssd_epi32(m0, x0, dl);
                h1 = _mm512_dpwssd_epi32(h1, x1, ch);
                if (!SG) l1 = _mm512_dpwssd_epi32(l1, x1, cl);
                g1 = _mm512_dpwssd_epi32(g1, x1, dh);
                if (!SG) m1 = _mm512_dpwssd_epi32(m1, x1, dl);
            }
            __m256i e[2] = {FIN512(h0, l0), FIN512(h1, l1)};
            __m256i o[2] = {FIN512(g0, m0), FIN512(g1, m1)};
            for (int i = 0; i < 2; i++) {
                __m256i lo = _mm256_unpacklo_epi16(e[i], o[i]);
                __m256i hi = _mm256_unpackhi_epi16(e[i], o[i]);
                __m256i r0 = _mm256_permute2x128_si256(lo, hi, 0x20);
                __m256i r1 = _mm256_permute2x128_si256(lo, hi, 0x31);
                store32_i16(y + 32 * (b + (size_t)i) * stride, stride, r0, r1);
            }
        }
        for (; b < nb; b++) {
            __m512i h0 = _mm512_setzero_si512(), l0 = h0, g0 = h0, m0 = h0;
            for (size_t u = 0; u < U; u++) {
                const uint32_t *q = Q + soff[u] + 16 * b, *c = cp + u, *d = c + 2 * U;
                __m512i x0 = LD512(q);
                h0 = _mm512_dpwssd_epi32(h0, x0, BC512(c));
                if (!SG) l0 = _mm512_dpwssd_epi32(l0, x0, BC512(c + U));
                g0 = _mm512_dpwssd_epi32(g0, x0, BC512(d));
                if (!SG) m0 = _mm512_dpwssd_epi32(m0, x0, BC512(d + U));
            }
            __m256i e = FIN512(h0, l0), o = FIN512(g0, m0);
            __m256i lo = _mm256_unpacklo_epi16(e, o), hi = _mm256_unpackhi_epi16(e, o);
            __m256i r0 = _mm256_permute2x128_si256(lo, hi, 0x20);
            __m256i r1 = _mm256_permute2x128_si256(lo, hi, 0x31);
            store32_i16(y + 32 * b * stride, stride, r0, r1);
        }
    } else if (L == 3) {
        /* output word w of 48 = position w / 3, phase w % 3: from [e | o] (32 words) and g */
        int16_t i0[32], i1[32];
        for (int w = 0; w < 48; w++) {
            int src = (w % 3) * 16 + w / 3;  /* e: 0..15, o: 16..31, g: 32..47 */
            if (w < 32)
                i0[w] = (int16_t)src;
            else
                i1[w - 32] = (int16_t)src;
        }
        for (int w = 16; w < 32; w++) i1[w] = 0;
        const __m512i idx0 = LD512(i0), idx1 = LD512(i1);
        for (; b < nb; b++) {
            __m512i h0 = _mm512_setzero_si512(), l0 = h0, g0 = h0, m0 = h0, k0 = h0, n0 = h0;
            for (size_t u = 0; u < U; u++) {
                const uint32_t *q = Q + soff[u] + 16 * b, *c = cp + u, *d = c + 2 * U,
                               *e = d + 2 * U;
                __m512i x0 = LD512(q);
                h0 = _mm512_dpwssd_epi32(h0, x0, BC512(c));
                if (!SG) l0 = _mm512_dpwssd_epi32(l0, x0, BC512(c + U));
                g0 = _mm512_dpwssd_epi32(g0, x0, BC512(d));
                if (!SG) m0 = _mm512_dpwssd_epi32(m0, x0, BC512(d + U));
                k0 = _mm512_dpwssd_epi32(k0, x0, BC512(e));
                if (!SG) n0 = _mm512_dpwssd_epi32(n0, x0, BC512(e + U));
            }
            __m512i eo = _mm512_inserti64x4(_mm512_castsi256_si512(FIN512(h0, l0)),
                                            FIN512(g0, m0), 1);
            __m512i gg = _mm512_castsi256_si512(FIN512(k0, n0));
            __m512i r0 = _mm512_permutex2var_epi16(eo, idx0, gg);
            __m256i r1 = _mm512_castsi512_si256(_mm512_permutex2var_epi16(eo, idx1, gg));
            int16_t *yb = y + 48 * b * stride;
            if (stride == 1) {
                _mm512_storeu_si512((void *)yb, r0);
                _mm256_storeu_si256((__m256i *)(void *)(yb + 32), r1);
            } else {
                int16_t t[48];
                _mm512_storeu_si512((void *)t, r0);
                _mm256_storeu_si256((__m256i *)(void *)(t + 32), r1);
                scatter_i16(t, 48, 1, 0, yb, stride);
            }
        }
    }
    size_t done = b * 16;
    return done + (SG ? vert_vnni_q15 : vert_vnni)(Q + done, soff, cp, U, L, npos - done, S, B,
                                                   y + done * L * stride, stride);
}

__attribute__((target("avx2,avx512f,avx512bw,avx512vl,avx512vnni")))
static size_t vert_avx512(const uint32_t *Q, const size_t *soff, const uint32_t *cp, size_t U,
                          unsigned L, size_t npos, int S, int B, int16_t *y, size_t stride) {
    return vert_avx512_body(Q, soff, cp, U, L, npos, S, B, y, stride, 0);
}

/* Q15 tables (VDSP_RESAMPLE_PRECISION_Q15): the low rows are zero, so their products are
 * skipped (half the multiplies). */
__attribute__((target("avx2,avx512f,avx512bw,avx512vl,avx512vnni")))
static size_t vert_avx512_q15(const uint32_t *Q, const size_t *soff, const uint32_t *cp,
                              size_t U, unsigned L, size_t npos, int S, int B, int16_t *y,
                              size_t stride) {
    return vert_avx512_body(Q, soff, cp, U, L, npos, S, B, y, stride, 1);
}

#endif

#endif

/* no vector kernel: every output through filter_run_i16_c */
static size_t vert_none(const uint32_t *Q, const size_t *soff, const uint32_t *cp, size_t U,
                        unsigned L, size_t npos, int S, int B, int16_t *y, size_t stride) {
    (void)Q, (void)soff, (void)cp, (void)U, (void)L, (void)npos, (void)S, (void)B, (void)y,
        (void)stride;
    return 0;
}

static vert_fn pick_vert(int q15) {
#ifdef VDSP_I16_SIMD
#ifdef VDSP_I16_AVX512
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni"))
        return q15 ? vert_avx512_q15 : vert_avx512;
#endif
    if (__builtin_cpu_supports("avx2")) return q15 ? vert_avx2_q15 : vert_avx2;
#endif
    (void)q15;
    return NULL;
}

/* Coefficient pairs as kernel f reads them: each repeated 8 times for the AVX2 kernel (a
 * vector operand), once for AVX-512 (embedded broadcasts); none for the portable kernel. */
static size_t pairs_rep(vert_fn f) {
#ifdef VDSP_I16_AVX512
    if (f == vert_avx512 || f == vert_avx512_q15) return 1;
#endif
    return f == vert_none ? 0 : 8;
}

static void fill_pairs_rows(const int16_t *coef16, unsigned L, size_t T, size_t pair0, size_t U,
                            size_t rep, uint32_t *dst) {
    for (unsigned p = 0; p < L; p++) {
        for (size_t half = 0; half < 2; half++) {  /* hi row, lo row */
            const int16_t *c = coef16 + (size_t)p * 2 * T + half * T + 2 * pair0;
            uint32_t *d = dst + ((size_t)p * 2 + half) * U * rep;
            for (size_t u = 0; u < U; u++)
                for (size_t v = 0; v < rep; v++)
                    d[u * rep + v] =
                        (uint32_t)(uint16_t)c[2 * u] | (uint32_t)(uint16_t)c[2 * u + 1] << 16;
        }
    }
}

static void fill_pairs(const vdsp_resample_design *d, size_t rep, uint32_t *dst) {
    fill_pairs_rows(d->coef16, d->L, d->taps, d->pair0, d->npairs, rep, dst);
}

/* Use kernel f on this resampler only: the design (possibly shared) is never written; a
 * kernel whose table layout differs from the design's gets a private copy. */
static int set_kernel(vdsp_resampler *r, vert_fn f) {
    size_t rep = pairs_rep(f), cur = pairs_rep(r->vert);
    if (rep && rep != cur) {
        resampler_alloc *a = (resampler_alloc *)r;
        void *base = NULL;
        uint32_t *p = aligned_calloc((size_t)r->L * 2 * r->npairs * rep * sizeof(uint32_t), &base);
        if (!p) return 0;
        fill_pairs_rows(r->coef16, r->L, r->taps, r->pair0, r->npairs, rep, p);
        free(a->own_pairs_base);
        a->own_pairs_base = base;
        r->coef_pairs = p;
    }
    r->vert = f;
    return 1;
}

int vdsp_resampler_use_kernel(vdsp_resampler *r, int level) {
    if (!r || !r->int_path) return 0;
    switch (level) {
    case 0:
        return set_kernel(r, vert_none);
#ifdef VDSP_I16_SIMD
    case 1:
        if (!__builtin_cpu_supports("avx2")) return 0;
        return set_kernel(r, r->q15 ? vert_avx2_q15 : vert_avx2);
#endif
#ifdef VDSP_I16_AVX512
    case 2:
        if (pick_vert(0) != vert_avx512) return 0;
        return set_kernel(r, r->q15 ? vert_avx512_q15 : vert_avx512);
#endif
    default:
        return 0;
    }
}

/* Sample pairs of the M streams (see above) for n positions each. */
VDSP_CLONES
static void build_pairs(const int16_t *restrict x, unsigned M, size_t n, uint32_t *restrict Q,
                        size_t qs) {
    if (M == 1) {
        for (size_t i = 0; i < n; i++)
            Q[i] = (uint32_t)(uint16_t)x[i] | (uint32_t)(uint16_t)x[i + 1] << 16;
        return;
    }
    /* all pairs, contiguous (vectorizes), then dealt to the M streams */
    uint32_t *P = Q + M * qs;
    size_t np = M * n;
    for (size_t i = 0; i < np; i++)
        P[i] = (uint32_t)(uint16_t)x[i] | (uint32_t)(uint16_t)x[i + 1] << 16;
    if (M == 2) {
        for (size_t i = 0; i < n; i++) {
            Q[i] = P[2 * i];
            Q[qs + i] = P[2 * i + 1];
        }
    } else if (M == 3) {
        for (size_t i = 0; i < n; i++) {
            Q[i] = P[3 * i];
            Q[qs + i] = P[3 * i + 1];
            Q[2 * qs + i] = P[3 * i + 2];
        }
    } else {
        for (unsigned r = 0; r < M; r++)
            for (size_t i = 0; i < n; i++) Q[r * qs + i] = P[M * i + r];
    }
}

#ifdef VDSP_I16_AVX512
/* Word indices of (x[M i + r], x[M i + r + 1]), i = 0 .. 15, in the 64 words from x[0]. */
static const int16_t PAIR_IDX2[2][32] = {
    {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31},
    {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32}};
static const int16_t PAIR_IDX3[3][32] = {
    {0, 1, 3, 4, 6, 7, 9, 10, 12, 13, 15, 16, 18, 19, 21, 22, 24, 25, 27, 28, 30, 31, 33, 34, 36, 37, 39, 40, 42, 43, 45, 46},
    {1, 2, 4, 5, 7, 8, 10, 11, 13, 14, 16, 17, 19, 20, 22, 23, 25, 26, 28, 29, 31, 32, 34, 35, 37, 38, 40, 41, 43, 44, 46, 47},
    {2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18, 20, 21, 23, 24, 26, 27, 29, 30, 32, 33, 35, 36, 38, 39, 41, 42, 44, 45, 47, 48}};

/* build_pairs for M = 2 or 3 with AVX-512BW (used with the AVX-512 kernels, whose CPUs have
 * it): 16 positions of stream r are one word permute of the samples from x[M i0], written
 * straight to the stream (the portable code builds all pairs contiguously, then deals them
 * element by element). Masked loads never read past x[M n]. Same pairs either way. */
__attribute__((target("avx2,avx512f,avx512bw")))
static void build_pairs_bw(const int16_t *restrict x, unsigned M, size_t n,
                           uint32_t *restrict Q, size_t qs) {
    const int16_t(*idx)[32] = M == 2 ? PAIR_IDX2 : PAIR_IDX3;
    __m512i ix[3];
    for (unsigned r = 0; r < M; r++) ix[r] = _mm512_loadu_si512((const void *)idx[r]);
    for (size_t i = 0; i < n; i += 16) {
        size_t m = n - i < 16 ? n - i : 16, words = M * m + 1; /* x[M i] .. x[M (i + m)] */
        const int16_t *w = x + M * i;
        __mmask32 ka = words >= 32 ? ~(__mmask32)0 : (__mmask32)((1u << words) - 1u);
        __mmask32 kb = words <= 32 ? 0 : (__mmask32)((1u << (words - 32)) - 1u);
        __mmask16 ks = (__mmask16)((1u << m) - 1u);
        __m512i a = _mm512_maskz_loadu_epi16(ka, (const void *)w);
        __m512i b = _mm512_maskz_loadu_epi16(kb, (const void *)(w + 32));
        for (unsigned r = 0; r < M; r++)
            _mm512_mask_storeu_epi32((void *)(Q + r * qs + i), ks,
                                     _mm512_permutex2var_epi16(a, ix[r], b));
    }
}
#endif

/* k int16 outputs of one channel of an integer-ratio pair: partial positions with the
 * reference kernel, whole ones with the vector kernel. */
static void run_int(const vdsp_resampler *r, const int16_t *x, unsigned phase, size_t rd,
                    size_t k, int16_t *y, size_t stride) {
    size_t T = r->taps, j = 0;
    unsigned L = r->L, M = r->M;
    int S = r->shift_hi, B = r->shift_lo;
    for (; j < k && phase != 0; j++) {
        y[j * stride] = dot_i16(r->coef16 + (size_t)phase * 2 * T, x + rd, T, S, B);
        if (++phase == L) {
            phase = 0;
            rd++;
        }
    }
    size_t npos = (k - j) / L;
    if (npos >= 8) {
        npos &= ~(size_t)7;
        size_t n = npos + (T - 2) / M + 1;
#ifdef VDSP_I16_AVX512
        if ((M == 2 || M == 3) && (r->vert == vert_avx512 || r->vert == vert_avx512_q15))
            build_pairs_bw(x + rd, M, n, r->pairs, r->pair_stride);
        else
#endif
            build_pairs(x + rd, M, n, r->pairs, r->pair_stride);
        size_t done = r->vert(r->pairs, r->pair_off, r->coef_pairs, r->npairs, L, npos,
                              S, B, y + j * stride, stride);
        j += done * L;
        rd += done * M;
    }
    filter_run_i16_c(r->coef16, T, x, phase, rd, L, r->q, r->rem, k - j, y + j * stride,
                     stride, S, B);
}

typedef enum { KIND_I16, KIND_F32 } kind_t;

/* Compute k outputs (int16 calls: straight into out at frame `done`; float calls: into
 * r->scratch, interleaved) and advance the phase. */
static void compute(vdsp_resampler *r, size_t k, void *out, size_t done) {
    size_t C = (size_t)r->channels;
    for (size_t ch = 0; ch < C; ch++) {
        if (r->mode == KIND_I16) {
            run_int(r, r->hist16 + ch * r->cap, r->phase, r->rd, k,
                    (int16_t *)out + done * C + ch, C);
            continue;
        }
        const float *x = r->hist + ch * r->cap;
        if (r->M == 1 && r->L > 1)
            filter_run_up(r->coef, r->taps, r->first_tap, x, r->phase, r->rd, r->L, k,
                          r->scratch + ch, C);
        else if (r->L == 1)
            filter_run_down(r->coef, r->taps, x, r->rd, r->q, k, r->scratch + ch, C);
        else
            filter_run(r->coef, r->taps, x, r->phase, r->rd, r->L, r->q, r->rem, k,
                       r->scratch + ch, C);
    }
    /* advance by k outputs: the input position moves by k * M / L */
    uint64_t adv = (uint64_t)k * r->rem + r->phase;
    r->rd += (size_t)((uint64_t)k * r->q + adv / r->L);
    r->phase = (unsigned)(adv % r->L);
}

/* Drop the history no future output needs. */
static void compact(vdsp_resampler *r) {
    size_t keep = r->wr > r->rd ? r->wr - r->rd : 0, drop = r->wr - keep;
    if (drop == 0) return;
    for (int ch = 0; ch < r->channels; ch++) {
        size_t o = (size_t)ch * r->cap;
        if (r->mode == KIND_I16)
            memmove(r->hist16 + o, r->hist16 + o + drop, keep * sizeof(int16_t));
        else
            memmove(r->hist + o, r->hist + o + drop, keep * sizeof(float));
    }
    r->rd -= drop;
    r->wr = keep;
}

/* float -> int16 in two passes, each a branch-free loop the compiler vectorizes (fused, GCC
 * keeps branches): scale and saturate in place, then round half to even (adding and
 * subtracting 1.5 * 2^23 rounds to an integer; exact for |v| < 2^22) and convert. */
VDSP_CLONES
static void saturate(float *restrict y, size_t n) {
    for (size_t i = 0; i < n; i++) {
        float v = y[i] * 32768.0f;
        v = v < 32767.0f ? v : 32767.0f;
        v = v > -32768.0f ? v : -32768.0f;
        y[i] = v;
    }
}

VDSP_CLONES
static void narrow_i16(const float *restrict y, size_t n, int16_t *restrict out) {
    for (size_t i = 0; i < n; i++) out[i] = (int16_t)(int32_t)((y[i] + 12582912.0f) - 12582912.0f);
}

VDSP_CLONES
static void widen_i16(const int16_t *restrict s, size_t m, size_t stride, float *restrict h) {
    if (stride == 1) {
        for (size_t i = 0; i < m; i++) h[i] = (float)s[i] * (1.0f / 32768.0f);
    } else {
        for (size_t i = 0; i < m; i++) h[i] = (float)s[i * stride] * (1.0f / 32768.0f);
    }
}

/* The history is int16 for int16 calls of integer-ratio pairs, float otherwise. A call of the
 * other kind converts what is held (int16 -> float exactly; float -> int16 rounded and
 * saturated, as int16 input would be). */
static void set_mode(vdsp_resampler *r, kind_t call) {
    kind_t kind = call == KIND_I16 && r->int_path ? KIND_I16 : KIND_F32;
    if ((int)kind == r->mode) return;
    for (size_t ch = 0; ch < (size_t)r->channels; ch++) {
        float *h = r->hist + ch * r->cap;
        int16_t *h16 = r->hist16 + ch * r->cap;
        if (kind == KIND_F32) {
            widen_i16(h16, r->wr, 1, h);
        } else {
            for (size_t i = 0; i < r->wr; i++) {
                float v = h[i] * 32768.0f;
                v = v < 32767.0f ? v : 32767.0f;
                v = v > -32768.0f ? v : -32768.0f;
                h16[i] = (int16_t)lrintf(v);
            }
        }
    }
    r->mode = (int)kind;
}

static void append(vdsp_resampler *r, const void *in, kind_t kind, size_t m) {
    size_t C = (size_t)r->channels;
    for (size_t ch = 0; ch < C; ch++) {
        if (r->mode == KIND_I16) {
            int16_t *h = r->hist16 + ch * r->cap + r->wr;
            const int16_t *s = (const int16_t *)in + ch;
            if (C == 1)
                memcpy(h, s, m * sizeof(int16_t));
            else
                for (size_t i = 0; i < m; i++) h[i] = s[i * C];
            continue;
        }
        float *h = r->hist + ch * r->cap + r->wr;
        if (kind == KIND_I16) {
            widen_i16((const int16_t *)in + ch, m, C, h);
        } else if (C == 1) {
            memcpy(h, in, m * sizeof(float));
        } else {
            const float *s = (const float *)in + ch;
            for (size_t i = 0; i < m; i++) h[i] = s[i * C];
        }
    }
    r->wr += m;
}

static void store(const vdsp_resampler *r, size_t k, void *out, kind_t kind, size_t done) {
    size_t C = (size_t)r->channels;
    if (r->mode == KIND_I16) return;  /* written by compute */
    if (kind == KIND_I16) {
        saturate(r->scratch, k * C);
        narrow_i16(r->scratch, k * C, (int16_t *)out + done * C);
    } else {
        memcpy((float *)out + done * C, r->scratch, k * C * sizeof(float));
    }
}

static int process(vdsp_resampler *r, const void *in, size_t n_in, kind_t kind, void *out,
                   size_t out_capacity, size_t *n_out) {
    if (n_out) *n_out = 0;
    if (!r || !n_out || (!in && n_in) || n_in > VDSP_RESAMPLE_MAX_CALL)
        return VDSP_ERR_INVALID_ARGUMENT;
    size_t total = vdsp_resampler_max_output(r, n_in);
    if (total > out_capacity) return VDSP_ERR_BUFFER_TOO_SMALL;
    if (total && !out) return VDSP_ERR_INVALID_ARGUMENT;
    set_mode(r, kind);
    size_t done = 0, esize = kind == KIND_I16 ? sizeof(int16_t) : sizeof(float);
    const unsigned char *src = in;
    while (n_in) {
        size_t m = n_in < r->block ? n_in : r->block;
        append(r, src, kind, m);
        src += m * esize * (size_t)r->channels;
        n_in -= m;
        uint64_t acc = r->frac + (uint64_t)m * r->L;
        size_t k = (size_t)(acc / r->M);
        r->frac = acc % r->M;
        compute(r, k, out, done);
        store(r, k, out, kind, done);
        done += k;
        compact(r);
    }
    *n_out = done;
    return VDSP_OK;
}

int vdsp_resampler_process_i16(vdsp_resampler *r, const int16_t *in, size_t n_in,
                               int16_t *out, size_t out_capacity, size_t *n_out) {
    return process(r, in, n_in, KIND_I16, out, out_capacity, n_out);
}

/* A lent work buffer: the pair streams, then (one channel) room for the whole int16 history. */
static size_t pairs_bytes(const vdsp_resampler *r) {
    return (size_t)(r->M > 1 ? 2 * r->M : 1) * r->pair_stride * sizeof(uint32_t);
}

size_t vdsp_resampler_scratch_bytes(const vdsp_resampler *r) {
    if (!r || !r->int_path) return 0;
    return pairs_bytes(r) + (r->channels == 1 ? r->cap * sizeof(int16_t) : 0);
}

int vdsp_resampler_process_i16_scratch(vdsp_resampler *r, const int16_t *in, size_t n_in,
                                       int16_t *out, size_t out_capacity, size_t *n_out,
                                       void *scratch) {
    if (!r || !scratch) return process(r, in, n_in, KIND_I16, out, out_capacity, n_out);
    /* borrowed for this call only: the pairs never outlive a call. One channel, int16
     * history: the call also runs on a copy of the history in the lent buffer (which stays in
     * cache from one resampler to the next) and writes back only what the next call needs
     * (about one filter length), not every input sample appended and moved. */
    uint32_t *own = r->pairs;
    int16_t *own16 = r->hist16;
    int staged = r->channels == 1 && r->int_path && r->mode == KIND_I16;
    r->pairs = scratch;
    if (staged) {
        r->hist16 = (int16_t *)(void *)((unsigned char *)scratch + pairs_bytes(r));
        memcpy(r->hist16, own16, r->wr * sizeof(int16_t));
    }
    int st = process(r, in, n_in, KIND_I16, out, out_capacity, n_out);
    if (staged) {
        memcpy(own16, r->hist16, r->wr * sizeof(int16_t));
        r->hist16 = own16;
    }
    r->pairs = own;
    return st;
}

int vdsp_resampler_process_f32(vdsp_resampler *r, const float *in, size_t n_in, float *out,
                               size_t out_capacity, size_t *n_out) {
    return process(r, in, n_in, KIND_F32, out, out_capacity, n_out);
}

static int flush(vdsp_resampler *r, kind_t kind, void *out, size_t out_capacity,
                 size_t *n_out) {
    if (n_out) *n_out = 0;
    if (!r || !n_out) return VDSP_ERR_INVALID_ARGUMENT;
    size_t total = vdsp_resampler_flush_output(r);
    if (total > out_capacity) return VDSP_ERR_BUFFER_TOO_SMALL;
    if (total && !out) return VDSP_ERR_INVALID_ARGUMENT;
    set_mode(r, kind);
    size_t done = 0;
    while (done < total) {
        /* append silence, then compute the outputs whose taps it completes */
        size_t room = r->cap - GROUP - r->wr, m = room < r->block ? room : r->block;
        for (int ch = 0; ch < r->channels; ch++) {
            if (r->mode == KIND_I16)
                memset(r->hist16 + (size_t)ch * r->cap + r->wr, 0, m * sizeof(int16_t));
            else
                memset(r->hist + (size_t)ch * r->cap + r->wr, 0, m * sizeof(float));
        }
        r->wr += m;
        size_t k = 0;
        /* outputs whose last tap lies inside the history; at most what is still owed */
        size_t rd = r->rd;
        unsigned ph = r->phase;
        while (done + k < total && k < r->scratch_frames && rd + r->taps <= r->wr) {
            k++;
            ph += r->rem;
            rd += r->q;
            if (ph >= r->L) {
                ph -= r->L;
                rd++;
            }
        }
        compute(r, k, out, done);
        store(r, k, out, kind, done);
        done += k;
        compact(r);
    }
    vdsp_resampler_reset(r);
    *n_out = done;
    return VDSP_OK;
}

int vdsp_resampler_flush_i16(vdsp_resampler *r, int16_t *out, size_t out_capacity,
                             size_t *n_out) {
    return flush(r, KIND_I16, out, out_capacity, n_out);
}

int vdsp_resampler_flush_f32(vdsp_resampler *r, float *out, size_t out_capacity,
                             size_t *n_out) {
    return flush(r, KIND_F32, out, out_capacity, n_out);
}

void vdsp_resampler_prefetch(const vdsp_resampler *r, int stage, size_t n_in, int own_scratch) {
    if (!r) return;
    if (stage == 0) {
        vdsp_prefetch_span(r, sizeof *r, 1);
        return;
    }
    size_t m = n_in < r->block ? n_in : r->block;
    if (r->mode == KIND_I16) {
        /* a lent buffer holds the appended samples (one channel): only the history is read */
        size_t held = r->wr + (own_scratch || r->channels > 1 ? m : 0);
        vdsp_prefetch_span(r->hist16, held * sizeof(int16_t), 1);
        if (r->int_path && own_scratch) {
            /* the pair streams (and, M > 1, the contiguous pairs they are dealt from) */
            size_t n = m / r->M + r->taps / r->M + 2;
            for (unsigned s = 0; s < r->M; s++)
                vdsp_prefetch_span(r->pairs + (size_t)s * r->pair_stride, n * sizeof(uint32_t), 1);
            if (r->M > 1)
                vdsp_prefetch_span(r->pairs + (size_t)r->M * r->pair_stride,
                                   (size_t)r->M * n * sizeof(uint32_t), 1);
        }
        if (r->int_path) vdsp_prefetch_span(r->pair_off, r->npairs * sizeof(size_t), 0);
    } else {
        vdsp_prefetch_span(r->hist, (r->wr + m) * sizeof(float), 1);
    }
}
