/*
 * voicedsp — streaming polyphase FIR sample-rate conversion for telephony.
 *
 * Rates: every pair among 8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100 and 48000 Hz
 * (including
 * equal rates, which still filter and delay like any other pair so a pipeline's latency does
 * not depend on its configuration). Any other rate gives VDSP_ERR_UNSUPPORTED_RATE.
 *
 * Units: every count is in FRAMES (one sample per channel); buffers hold frames x channels
 * values, interleaved, aligned for their type (as any int16_t / float pointer in C). int16 samples are full scale at -32768..32767, float samples at
 * -1.0..1.0 (float output is not clipped; int16 output is rounded to nearest and saturated).
 * int16 calls of integer ratios (8<->16, 8<->24, 24->8, 48->16 kHz, ...) are computed in
 * integers (taps with 22+ significant bits: the same filter within 0.02 LSB); float calls and
 * other pairs in float. One object may mix int16 and float calls: the history it holds is
 * converted (float -> int16 rounded and saturated, as int16 input would be).
 *
 * Framing contract (the same for every chunking of the input):
 *   - after N input frames in total since create/reset/flush, exactly floor(N * out / in)
 *     output frames have come out. A call with n frames returns
 *     floor((N + n) * out / in) - floor(N * out / in) frames: never zero for n >= in / out,
 *     and vdsp_resampler_max_output() gives that exact number before the call.
 *   - output frame j is the input signal at time j - latency (in output frames): the delay is
 *     the filter's group delay and nothing else; vdsp_resampler_latency() reports it.
 *   - the output depends only on the input samples, never on how they were split across calls
 *     (bit-identical on a given build and CPU).
 *   - flush returns the last `latency` frames (plus one, if the input ends between two output
 *     samples), as if the input were followed by silence, then returns to the initial state.
 *     A whole stream (all process outputs then the flush output) without its first `latency`
 *     frames is ceil(N * out / in) frames, aligned with the input.
 *
 * Memory: everything is allocated by create (filter tables and history: a few kB for pairs of
 * 8/16/24/48 kHz, up to ~170 kB for 11025 <-> 32000 Hz, whose ratio has 1280 phases; create
 * then takes < 0.1 ms, respectively up to ~20 ms); process, flush and reset never allocate.
 * The tables can be shared between resamplers (vdsp_resample_design_*, below). No global mutable state:
 * different objects may be used from different threads at the same time; one object must not
 * be used from two threads at once.
 */
#ifndef VOICEDSP_RESAMPLE_H
#define VOICEDSP_RESAMPLE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Filter designs (the `quality` argument of vdsp_resampler_create). Both are flat within
 * +-0.1 dB up to 0.85 x the lower Nyquist frequency and reject their stop band by > 90 dB. */
enum {
    /* Linear phase; stop band from 1.15 x the lower Nyquist frequency: nothing aliases into or
     * images out of 0..0.85 x Nyquist; content between 0.85 and 1.15 x Nyquist is partly
     * rejected. Every frequency is exactly `latency` late: about 1.8 ms for 8 kHz
     * conversions, 0.9 ms for 16 kHz ones. Half the taps of VDSP_RESAMPLE_ALIAS_FREE. */
    VDSP_RESAMPLE_TELEPHONY = 0,
    /* Minimum phase; stop band from the lower Nyquist frequency: nothing aliases at all.
     * `latency` is the group delay at 1/8 of the lower rate (0.375-0.5 ms for 8 kHz
     * conversions); it rises towards the pass-band edge (at most 1.74 ms for 8 kHz
     * conversions, 0.87 ms for 16 kHz ones). The default of the Python API. */
    VDSP_RESAMPLE_ALIAS_FREE = 1
};

/* Maximum number of interleaved channels. */
#define VDSP_RESAMPLE_MAX_CHANNELS 16

typedef struct vdsp_resampler vdsp_resampler;

/* Create a resampler.
 *   out          (out) receives the new object; set to NULL on failure.
 *   in_rate_hz   (in)  input sample rate in Hz, one of the supported rates.
 *   out_rate_hz  (in)  output sample rate in Hz, one of the supported rates.
 *   quality      (in)  VDSP_RESAMPLE_TELEPHONY or VDSP_RESAMPLE_ALIAS_FREE.
 *   channels     (in)  1..VDSP_RESAMPLE_MAX_CHANNELS interleaved channels.
 * Returns VDSP_OK, VDSP_ERR_INVALID_ARGUMENT (out NULL, bad quality or channels),
 * VDSP_ERR_UNSUPPORTED_RATE, or VDSP_ERR_NO_MEMORY. */
int vdsp_resampler_create(vdsp_resampler **out, int in_rate_hz, int out_rate_hz, int quality,
                          int channels);

/* Free a resampler. NULL is allowed and does nothing. */
void vdsp_resampler_destroy(vdsp_resampler *r);

/* A filter design: the tables of one (in rate, out rate, quality), shared by any number of
 * resamplers. vdsp_resampler_create computes a private one per object; a program that runs
 * many resamplers of the same pair (a media server: two per call) creates the design once
 * and makes each resampler from it, so the tables sit in memory (and in the caches) once.
 * A design is immutable once created: resamplers on any threads may read it at the same time
 * with no locking. It is owned by its creator, who must keep it alive until every resampler
 * made from it is destroyed (the C core keeps no reference count and no global cache). */
typedef struct vdsp_resample_design vdsp_resample_design;

/* Coefficient precision of the integer path (int16 calls of integer ratios; the `precision`
 * argument of vdsp_resample_design_create). Float calls, and pairs without the integer path,
 * use the float taps whatever the precision. */
enum {
    /* Each tap as two int16 (22-25 significant bits): the float filter within 0.02 LSB,
     * images/aliases <= -94.5 dBc. What vdsp_resampler_create uses. */
    VDSP_RESAMPLE_PRECISION_FULL = 0,
    /* One int16 per tap (15 fractional bits): half the multiplies of FULL. The coefficient
     * rounding lifts images/aliases to about -76 dBc (8->16 and 24->8 kHz, measured with
     * benchmarks/bench_bridge_precision.py) and moves outputs by up to a few LSB (3 on
     * speech, an error 78 dB under the signal); still far below G.711's own quantization
     * noise (about -37 dB relative to the signal), which is what the MediaBridge uses it for
     * on G.711 calls. */
    VDSP_RESAMPLE_PRECISION_Q15 = 1
};

/* Create a design.
 *   out          (out) receives the design; set to NULL on failure.
 *   in_rate_hz, out_rate_hz, quality (in)  as for vdsp_resampler_create.
 *   precision    (in)  VDSP_RESAMPLE_PRECISION_FULL or VDSP_RESAMPLE_PRECISION_Q15.
 * Returns VDSP_OK, VDSP_ERR_INVALID_ARGUMENT (out NULL, bad quality or precision),
 * VDSP_ERR_UNSUPPORTED_RATE, or VDSP_ERR_NO_MEMORY. */
int vdsp_resample_design_create(vdsp_resample_design **out, int in_rate_hz, int out_rate_hz,
                                int quality, int precision);

/* Free a design (after every resampler made from it). NULL is allowed and does nothing. */
void vdsp_resample_design_destroy(vdsp_resample_design *d);

/* Latency of resamplers made from d, in output frames (as vdsp_resampler_latency); 0 if NULL. */
int vdsp_resample_design_latency(const vdsp_resample_design *d);

/* 1 if d was created with these arguments, 0 otherwise (or d NULL). */
int vdsp_resample_design_matches(const vdsp_resample_design *d, int in_rate_hz, int out_rate_hz,
                                 int quality, int precision);

/* Heap bytes the design holds (its tables), for memory accounting; 0 if NULL. */
size_t vdsp_resample_design_bytes(const vdsp_resample_design *d);

/* Input frames a resampler appends to its history per pass, unless told otherwise; at most
 * VDSP_RESAMPLE_MAX_BLOCK. Larger inputs are processed in several passes. */
#define VDSP_RESAMPLE_DEFAULT_BLOCK 512
#define VDSP_RESAMPLE_MAX_BLOCK 65536

/* Create a resampler that reads the tables of design d (which must outlive it). It behaves
 * exactly like one from vdsp_resampler_create with the design's arguments (the same output,
 * bit for bit, for every chunking), and holds only its history and work buffers.
 *   out           (out) receives the new object; set to NULL on failure.
 *   d             (in)  the design (only read, never written).
 *   channels      (in)  1..VDSP_RESAMPLE_MAX_CHANNELS interleaved channels.
 *   block_frames  (in)  input frames per pass, 1..VDSP_RESAMPLE_MAX_BLOCK, or 0 for
 *                       VDSP_RESAMPLE_DEFAULT_BLOCK. It sizes the history and work buffers
 *                       (about 10 bytes per frame per channel, plus the filter length):
 *                       a caller that always passes n frames needs no more than n. Any call
 *                       size stays valid and the output does not depend on block_frames.
 * Returns VDSP_OK, VDSP_ERR_INVALID_ARGUMENT (out or d NULL, bad channels or block_frames),
 * or VDSP_ERR_NO_MEMORY. */
int vdsp_resampler_create_from_design(vdsp_resampler **out, const vdsp_resample_design *d,
                                      int channels, size_t block_frames);

/* Exact number of output frames the next process call with n_in input frames will return
 * (the framing contract above). 0 if r is NULL or n_in exceeds VDSP_RESAMPLE_MAX_CALL. */
size_t vdsp_resampler_max_output(const vdsp_resampler *r, size_t n_in);

/* Exact number of frames the next flush will return (latency, or latency + 1). */
size_t vdsp_resampler_flush_output(const vdsp_resampler *r);

/* Largest n_in accepted by one process call: 2^40 frames (2^28 where size_t is 32 bits), so
 * that n_in x the rate factor cannot overflow. */
#if SIZE_MAX > 0xFFFFFFFFu
#define VDSP_RESAMPLE_MAX_CALL ((size_t)1 << 40)
#else
#define VDSP_RESAMPLE_MAX_CALL ((size_t)1 << 28)
#endif

/* Resample a chunk.
 *   r             (in/out) the resampler.
 *   in            (in)  n_in x channels interleaved samples; may be NULL when n_in == 0.
 *   n_in          (in)  input frames, 0..VDSP_RESAMPLE_MAX_CALL.
 *   out           (out) room for out_capacity frames; must not overlap `in`.
 *   out_capacity  (in)  capacity of `out` in frames.
 *   n_out         (out) frames written (= vdsp_resampler_max_output(r, n_in)).
 * Returns VDSP_OK; VDSP_ERR_INVALID_ARGUMENT (a NULL pointer that is not allowed, n_in too
 * large); VDSP_ERR_BUFFER_TOO_SMALL (out_capacity < vdsp_resampler_max_output(r, n_in)).
 * On error nothing is consumed or written, *n_out is 0 and the state is unchanged. */
int vdsp_resampler_process_i16(vdsp_resampler *r, const int16_t *in, size_t n_in,
                               int16_t *out, size_t out_capacity, size_t *n_out);
int vdsp_resampler_process_f32(vdsp_resampler *r, const float *in, size_t n_in, float *out,
                               size_t out_capacity, size_t *n_out);

/* End the stream: write the frames still inside the filter (vdsp_resampler_flush_output(r)
 * of them, computed as if silence followed the input), then reset. Arguments and statuses
 * as for process; on VDSP_ERR_BUFFER_TOO_SMALL nothing is written and the state is kept. */
int vdsp_resampler_flush_i16(vdsp_resampler *r, int16_t *out, size_t out_capacity,
                             size_t *n_out);
int vdsp_resampler_flush_f32(vdsp_resampler *r, float *out, size_t out_capacity,
                             size_t *n_out);

/* Forget all input: back to the state right after create (silent history). NULL-safe. */
void vdsp_resampler_reset(vdsp_resampler *r);

/* Delay of the output behind the input, in output frames (the filter's group delay, an
 * integer by construction). 0 if r is NULL. */
int vdsp_resampler_latency(const vdsp_resampler *r);

/* Number of filter taps each output frame costs (per channel), for benchmarks and docs. */
int vdsp_resampler_taps(const vdsp_resampler *r);

/* 1 if in_rate_hz is one of the supported rates, 0 otherwise. */
int vdsp_resampler_rate_supported(int rate_hz);

#ifdef __cplusplus
}
#endif
#endif /* VOICEDSP_RESAMPLE_H */
