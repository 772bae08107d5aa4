# Every declaration of the C core, in one place. Components cimport from here.
from libc.stdint cimport int16_t, uint8_t


cdef extern from "voicedsp/status.h" nogil:
    enum:
        VDSP_OK
        VDSP_ERR_INVALID_ARGUMENT
        VDSP_ERR_NO_MEMORY
        VDSP_ERR_BUFFER_TOO_SMALL
        VDSP_ERR_UNSUPPORTED_RATE
        VDSP_ERR_BAD_FRAME_SIZE
        VDSP_ERR_CORRUPT_PACKET
        VDSP_ERR_CODEC
        VDSP_ERR_BAD_STATE
        VDSP_ERR_MIN
    const char *vdsp_status_message(int status)
    const char *vdsp_status_name(int status)


cdef extern from "voicedsp/g711.h" nogil:
    void vdsp_g711_ulaw_encode(const int16_t *pcm, size_t n, uint8_t *codes)
    void vdsp_g711_ulaw_encode_audioop(const int16_t *pcm, size_t n, uint8_t *codes)
    void vdsp_g711_alaw_encode(const int16_t *pcm, size_t n, uint8_t *codes)
    void vdsp_g711_ulaw_decode(const uint8_t *codes, size_t n, int16_t *pcm)
    void vdsp_g711_alaw_decode(const uint8_t *codes, size_t n, int16_t *pcm)
    void vdsp_g711_ulaw_to_alaw(const uint8_t *codes, size_t n, uint8_t *out)
    void vdsp_g711_alaw_to_ulaw(const uint8_t *codes, size_t n, uint8_t *out)


cdef extern from "voicedsp/resample.h" nogil:
    enum:
        VDSP_RESAMPLE_TELEPHONY
        VDSP_RESAMPLE_ALIAS_FREE
        VDSP_RESAMPLE_MAX_CHANNELS
    ctypedef struct vdsp_resampler:
        pass
    size_t VDSP_RESAMPLE_MAX_CALL
    int vdsp_resampler_create(vdsp_resampler **out, int in_rate_hz, int out_rate_hz,
                              int quality, int channels)
    void vdsp_resampler_destroy(vdsp_resampler *r)
    size_t vdsp_resampler_max_output(const vdsp_resampler *r, size_t n_in)
    size_t vdsp_resampler_flush_output(const vdsp_resampler *r)
    int vdsp_resampler_process_i16(vdsp_resampler *r, const int16_t *inp, size_t n_in,
                                   int16_t *out, size_t out_capacity, size_t *n_out)
    int vdsp_resampler_process_f32(vdsp_resampler *r, const float *inp, size_t n_in,
                                   float *out, size_t out_capacity, size_t *n_out)
    int vdsp_resampler_flush_i16(vdsp_resampler *r, int16_t *out, size_t out_capacity,
                                 size_t *n_out)
    int vdsp_resampler_flush_f32(vdsp_resampler *r, float *out, size_t out_capacity,
                                 size_t *n_out)
    void vdsp_resampler_reset(vdsp_resampler *r)
    int vdsp_resampler_latency(const vdsp_resampler *r)
    int vdsp_resampler_taps(const vdsp_resampler *r)
    int vdsp_resampler_rate_supported(int rate_hz)
