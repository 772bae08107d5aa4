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
