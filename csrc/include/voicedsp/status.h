/*
 * voicedsp — status codes shared by every component of the C core.
 *
 * Every fallible function returns an int: VDSP_OK (0) or one of the negative
 * codes below. vdsp_status_message() maps a code to a static, NUL-terminated
 * English message; it never returns NULL.
 */
#ifndef VOICEDSP_STATUS_H
#define VOICEDSP_STATUS_H

#ifdef __cplusplus
extern "C" {
#endif

enum {
    VDSP_OK = 0,
    VDSP_ERR_INVALID_ARGUMENT = -1,  /* a NULL pointer, a negative count, a value out of range */
    VDSP_ERR_NO_MEMORY = -2,         /* an allocation at create time failed */
    VDSP_ERR_BUFFER_TOO_SMALL = -3,  /* the caller's output capacity is smaller than needed */
    VDSP_ERR_UNSUPPORTED_RATE = -4,  /* a sample rate outside the supported set */
    VDSP_ERR_BAD_FRAME_SIZE = -5,    /* a frame length that the component cannot take */
    VDSP_ERR_CORRUPT_PACKET = -6,    /* a compressed packet that cannot be decoded */
    VDSP_ERR_CODEC = -7,             /* an internal failure reported by an underlying codec */
    VDSP_ERR_BAD_STATE = -8          /* a call that is not valid in the object's current state */
};

/* The lowest status value; codes lie in [VDSP_ERR_MIN, 0]. */
#define VDSP_ERR_MIN (-8)

/* Static message for a status code (unknown codes get a generic message). */
const char *vdsp_status_message(int status);

/* Symbolic name of a status code, e.g. "VDSP_ERR_BUFFER_TOO_SMALL". */
const char *vdsp_status_name(int status);

#ifdef __cplusplus
}
#endif
#endif /* VOICEDSP_STATUS_H */
