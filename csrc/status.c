#include "voicedsp/status.h"

const char *vdsp_status_message(int status) {
    switch (status) {
    case VDSP_OK: return "ok";
    case VDSP_ERR_INVALID_ARGUMENT: return "invalid argument";
    case VDSP_ERR_NO_MEMORY: return "out of memory";
    case VDSP_ERR_BUFFER_TOO_SMALL: return "output buffer too small";
    case VDSP_ERR_UNSUPPORTED_RATE: return "unsupported sample rate";
    case VDSP_ERR_BAD_FRAME_SIZE: return "unsupported frame size";
    case VDSP_ERR_CORRUPT_PACKET: return "corrupt or invalid packet";
    case VDSP_ERR_CODEC: return "internal codec error";
    case VDSP_ERR_BAD_STATE: return "operation not valid in the current state";
    default: return "unknown error";
    }
}

const char *vdsp_status_name(int status) {
    switch (status) {
    case VDSP_OK: return "VDSP_OK";
    case VDSP_ERR_INVALID_ARGUMENT: return "VDSP_ERR_INVALID_ARGUMENT";
    case VDSP_ERR_NO_MEMORY: return "VDSP_ERR_NO_MEMORY";
    case VDSP_ERR_BUFFER_TOO_SMALL: return "VDSP_ERR_BUFFER_TOO_SMALL";
    case VDSP_ERR_UNSUPPORTED_RATE: return "VDSP_ERR_UNSUPPORTED_RATE";
    case VDSP_ERR_BAD_FRAME_SIZE: return "VDSP_ERR_BAD_FRAME_SIZE";
    case VDSP_ERR_CORRUPT_PACKET: return "VDSP_ERR_CORRUPT_PACKET";
    case VDSP_ERR_CODEC: return "VDSP_ERR_CODEC";
    case VDSP_ERR_BAD_STATE: return "VDSP_ERR_BAD_STATE";
    default: return "VDSP_ERR_UNKNOWN";
    }
}
