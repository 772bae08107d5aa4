/*
 * voicedsp — energy voice-activity detector for phone audio.
 *
 * Per frame (10, 20 or 30 ms at 8, 16, 24 or 48 kHz) the input is box-decimated to 8 kHz
 * and split by two short integer FIRs into band A (~300-2500 Hz) and band B (~1-3.8 kHz);
 * DC and mains hum fall outside both. Each band keeps an adaptive noise floor (the mean of
 * the first 200 ms, leaving out frames 10 dB above it; then it follows quiet frames down at
 * once and up slowly, so a louder steady noise is learnt in a few seconds). A frame is speech when either band rises `threshold_db` above its floor;
 * while in speech, a two-frame average only has to stay `release_db` above it
 * (hysteresis, smoother offsets).
 *
 * Cost: one pass over the frame, integer arithmetic, no allocation, no globals.
 * Thread-safety: one object per thread (objects are independent).
 */
#ifndef VOICEDSP_VAD_H
#define VOICEDSP_VAD_H

#include <stddef.h>
#include <stdint.h>

#include "voicedsp/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vdsp_vad vdsp_vad;

/* Defaults of the two sensitivity knobs (dB above the noise floor). */
#define VDSP_VAD_DEFAULT_THRESHOLD_DB 3.0
#define VDSP_VAD_DEFAULT_RELEASE_DB 1.0

/*
 * Samples per frame for a rate (8000, 16000, 24000, 48000 Hz) and a frame length (10, 20,
 * 30 ms); 0 if either is unsupported.
 */
size_t vdsp_vad_frame_samples(int sample_rate_hz, int frame_ms);

/*
 * Create a detector.
 *   sample_rate_hz  in: 8000, 16000, 24000 or 48000      (else VDSP_ERR_UNSUPPORTED_RATE)
 *   frame_ms        in: 10, 20 or 30                      (else VDSP_ERR_BAD_FRAME_SIZE)
 *   threshold_db    in: onset threshold, 0 < x <= 40 dB   (else VDSP_ERR_INVALID_ARGUMENT)
 *   release_db      in: hold threshold, 0 <= x <= threshold_db (else INVALID_ARGUMENT)
 *   out             out: the new object (NULL on error)
 * Returns VDSP_OK, the codes above, VDSP_ERR_NO_MEMORY.
 */
int vdsp_vad_create(int sample_rate_hz, int frame_ms, double threshold_db, double release_db,
                    vdsp_vad **out);

/*
 * Classify one frame.
 *   frame      in: exactly vdsp_vad_frame_samples() mono int16 samples
 *   n_samples  in: the frame length in samples (else VDSP_ERR_BAD_FRAME_SIZE)
 * Returns 1 (speech), 0 (not speech) or a negative status (VDSP_ERR_INVALID_ARGUMENT for a
 * NULL pointer). A failed call leaves the state unchanged.
 */
int vdsp_vad_process(vdsp_vad *vad, const int16_t *frame, size_t n_samples);

/* Current noise floor of band A and B, in dB relative to full-scale (for plots/debugging). */
int vdsp_vad_noise_floor_db(const vdsp_vad *vad, double out_db[2]);

/* Forget everything learnt (noise floors, history); the configuration stays. */
void vdsp_vad_reset(vdsp_vad *vad);

/* Free the object; NULL is a no-op. */
void vdsp_vad_destroy(vdsp_vad *vad);

#ifdef __cplusplus
}
#endif
#endif /* VOICEDSP_VAD_H */
