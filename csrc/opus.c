/* Opus encoder/decoder over libopus: argument checking up front (so errors name our rules, not
 * libopus's), libopus error codes mapped to voicedsp statuses, one allocation per object. */
#include "voicedsp/opus.h"

#include <limits.h>
#include <opus.h>
#include <stdlib.h>

#include "voicedsp/status.h"

/* Our struct and libopus's state share one block; libopus's starts at this offset, which keeps
 * the alignment malloc gave the block (libopus asks no more than malloc's of its own). */
#define STATE_ALIGN 16
#define STATE_OFFSET(type) ((sizeof(type) + STATE_ALIGN - 1) / STATE_ALIGN * STATE_ALIGN)

struct vdsp_opus_encoder {
    OpusEncoder *st;
    int sample_rate_hz;
    int channels;
};

struct vdsp_opus_decoder {
    OpusDecoder *st;
    int sample_rate_hz;
    int channels;
};

static int map_error(int opus_err) {
    switch (opus_err) {
    case OPUS_BAD_ARG: return VDSP_ERR_INVALID_ARGUMENT;
    case OPUS_BUFFER_TOO_SMALL: return VDSP_ERR_BUFFER_TOO_SMALL;
    case OPUS_INVALID_PACKET: return VDSP_ERR_CORRUPT_PACKET;
    case OPUS_ALLOC_FAIL: return VDSP_ERR_NO_MEMORY;
    case OPUS_INVALID_STATE: return VDSP_ERR_BAD_STATE;
    default: return VDSP_ERR_CODEC; /* OPUS_INTERNAL_ERROR, OPUS_UNIMPLEMENTED, unknown */
    }
}

const char *vdsp_opus_version(void) { return opus_get_version_string(); }

int vdsp_opus_rate_ok(int sample_rate_hz) {
    switch (sample_rate_hz) {
    case 8000: case 12000: case 16000: case 24000: case 48000: return 1;
    default: return 0;
    }
}

int vdsp_opus_frame_samples_ok(int sample_rate_hz, int n_samples) {
    if (!vdsp_opus_rate_ok(sample_rate_hz) || n_samples <= 0 ||
        n_samples > sample_rate_hz / 400 * 48)
        return 0;
    int unit = sample_rate_hz / 400; /* 2.5 ms */
    if (n_samples % unit) return 0;
    switch (n_samples / unit) {
    case 1: case 2: case 4: case 8: case 16: case 24: case 32: case 40: case 48: return 1;
    default: return 0;
    }
}

/* A multiple of 2.5 ms, 2.5..120 ms: what concealment and FEC accept. */
static int conceal_samples_ok(int sample_rate_hz, int n_samples) {
    int unit = sample_rate_hz / 400;
    return n_samples > 0 && n_samples % unit == 0 && n_samples <= unit * 48;
}

/* ---- encoder ---------------------------------------------------------------------------- */

int vdsp_opus_encoder_create(int sample_rate_hz, int channels, int application,
                             vdsp_opus_encoder **out) {
    if (!out) return VDSP_ERR_INVALID_ARGUMENT;
    *out = NULL;
    if (!vdsp_opus_rate_ok(sample_rate_hz)) return VDSP_ERR_UNSUPPORTED_RATE;
    if (channels != 1 && channels != 2) return VDSP_ERR_INVALID_ARGUMENT;
    int app;
    switch (application) {
    case VDSP_OPUS_APP_VOIP: app = OPUS_APPLICATION_VOIP; break;
    case VDSP_OPUS_APP_AUDIO: app = OPUS_APPLICATION_AUDIO; break;
    case VDSP_OPUS_APP_RESTRICTED_LOWDELAY: app = OPUS_APPLICATION_RESTRICTED_LOWDELAY; break;
    default: return VDSP_ERR_INVALID_ARGUMENT;
    }
    int size = opus_encoder_get_size(channels);
    if (size <= 0) return VDSP_ERR_CODEC;
    size_t offset = STATE_OFFSET(struct vdsp_opus_encoder);
    vdsp_opus_encoder *enc = malloc(offset + (size_t)size);
    if (!enc) return VDSP_ERR_NO_MEMORY;
    enc->st = (OpusEncoder *)((unsigned char *)enc + offset);
    enc->sample_rate_hz = sample_rate_hz;
    enc->channels = channels;
    int err = opus_encoder_init(enc->st, sample_rate_hz, channels, app);
    if (err != OPUS_OK) {
        free(enc);
        return map_error(err);
    }
    *out = enc;
    return VDSP_OK;
}

int vdsp_opus_encoder_encode(vdsp_opus_encoder *enc, const int16_t *pcm, int n_samples,
                             uint8_t *packet, int capacity, int *packet_bytes) {
    if (packet_bytes) *packet_bytes = 0;
    if (!enc || !pcm || !packet || !packet_bytes) return VDSP_ERR_INVALID_ARGUMENT;
    if (!vdsp_opus_frame_samples_ok(enc->sample_rate_hz, n_samples))
        return VDSP_ERR_BAD_FRAME_SIZE;
    if (capacity < 3) return VDSP_ERR_BUFFER_TOO_SMALL;
    opus_int32 n = opus_encode(enc->st, pcm, n_samples, packet, capacity);
    if (n < 0) return map_error(n);
    *packet_bytes = (int)n;
    return VDSP_OK;
}

int vdsp_opus_encoder_set(vdsp_opus_encoder *enc, int control, int value) {
    if (!enc) return VDSP_ERR_INVALID_ARGUMENT;
    int err;
    switch (control) {
    case VDSP_OPUS_BITRATE:
        if (value != VDSP_OPUS_AUTO && value != VDSP_OPUS_BITRATE_MAX &&
            (value < 500 || value > 512000))
            return VDSP_ERR_INVALID_ARGUMENT;
        err = opus_encoder_ctl(enc->st, OPUS_SET_BITRATE(value));
        break;
    case VDSP_OPUS_COMPLEXITY:
        if (value < 0 || value > 10) return VDSP_ERR_INVALID_ARGUMENT;
        err = opus_encoder_ctl(enc->st, OPUS_SET_COMPLEXITY(value));
        break;
    case VDSP_OPUS_VBR:
        if (value != 0 && value != 1) return VDSP_ERR_INVALID_ARGUMENT;
        err = opus_encoder_ctl(enc->st, OPUS_SET_VBR(value));
        break;
    case VDSP_OPUS_INBAND_FEC:
        if (value != 0 && value != 1) return VDSP_ERR_INVALID_ARGUMENT;
        err = opus_encoder_ctl(enc->st, OPUS_SET_INBAND_FEC(value));
        break;
    case VDSP_OPUS_PACKET_LOSS_PERC:
        if (value < 0 || value > 100) return VDSP_ERR_INVALID_ARGUMENT;
        err = opus_encoder_ctl(enc->st, OPUS_SET_PACKET_LOSS_PERC(value));
        break;
    case VDSP_OPUS_DTX:
        if (value != 0 && value != 1) return VDSP_ERR_INVALID_ARGUMENT;
        err = opus_encoder_ctl(enc->st, OPUS_SET_DTX(value));
        break;
    default:
        return VDSP_ERR_INVALID_ARGUMENT;
    }
    return err == OPUS_OK ? VDSP_OK : map_error(err);
}

int vdsp_opus_encoder_get(const vdsp_opus_encoder *enc, int control, int *value) {
    if (!enc || !value) return VDSP_ERR_INVALID_ARGUMENT;
    opus_int32 v = 0;
    int err;
    /* the GET requests only read the state, but libopus's ctl takes a non-const pointer */
    OpusEncoder *st = enc->st;
    switch (control) {
    case VDSP_OPUS_BITRATE: err = opus_encoder_ctl(st, OPUS_GET_BITRATE(&v)); break;
    case VDSP_OPUS_COMPLEXITY: err = opus_encoder_ctl(st, OPUS_GET_COMPLEXITY(&v)); break;
    case VDSP_OPUS_VBR: err = opus_encoder_ctl(st, OPUS_GET_VBR(&v)); break;
    case VDSP_OPUS_INBAND_FEC: err = opus_encoder_ctl(st, OPUS_GET_INBAND_FEC(&v)); break;
    case VDSP_OPUS_PACKET_LOSS_PERC:
        err = opus_encoder_ctl(st, OPUS_GET_PACKET_LOSS_PERC(&v));
        break;
    case VDSP_OPUS_DTX: err = opus_encoder_ctl(st, OPUS_GET_DTX(&v)); break;
    default: return VDSP_ERR_INVALID_ARGUMENT;
    }
    if (err != OPUS_OK) return map_error(err);
    *value = (int)v;
    return VDSP_OK;
}

int vdsp_opus_encoder_latency(const vdsp_opus_encoder *enc) {
    opus_int32 v = 0;
    if (!enc || opus_encoder_ctl(enc->st, OPUS_GET_LOOKAHEAD(&v)) != OPUS_OK) return 0;
    return (int)v;
}

int vdsp_opus_encoder_reset(vdsp_opus_encoder *enc) {
    if (!enc) return VDSP_ERR_INVALID_ARGUMENT;
    int err = opus_encoder_ctl(enc->st, OPUS_RESET_STATE);
    return err == OPUS_OK ? VDSP_OK : map_error(err);
}

void vdsp_opus_encoder_destroy(vdsp_opus_encoder *enc) { free(enc); }

int vdsp_opus_encoder_sample_rate(const vdsp_opus_encoder *enc) {
    return enc ? enc->sample_rate_hz : 0;
}

int vdsp_opus_encoder_channels(const vdsp_opus_encoder *enc) { return enc ? enc->channels : 0; }

/* ---- decoder ---------------------------------------------------------------------------- */

int vdsp_opus_decoder_create(int sample_rate_hz, int channels, vdsp_opus_decoder **out) {
    if (!out) return VDSP_ERR_INVALID_ARGUMENT;
    *out = NULL;
    if (!vdsp_opus_rate_ok(sample_rate_hz)) return VDSP_ERR_UNSUPPORTED_RATE;
    if (channels != 1 && channels != 2) return VDSP_ERR_INVALID_ARGUMENT;
    int size = opus_decoder_get_size(channels);
    if (size <= 0) return VDSP_ERR_CODEC;
    size_t offset = STATE_OFFSET(struct vdsp_opus_decoder);
    vdsp_opus_decoder *dec = malloc(offset + (size_t)size);
    if (!dec) return VDSP_ERR_NO_MEMORY;
    dec->st = (OpusDecoder *)((unsigned char *)dec + offset);
    dec->sample_rate_hz = sample_rate_hz;
    dec->channels = channels;
    int err = opus_decoder_init(dec->st, sample_rate_hz, channels);
    if (err != OPUS_OK) {
        free(dec);
        return map_error(err);
    }
    *out = dec;
    return VDSP_OK;
}

int vdsp_opus_decoder_packet_samples(const vdsp_opus_decoder *dec, const uint8_t *packet,
                                     size_t packet_bytes, int *n_samples) {
    if (n_samples) *n_samples = 0;
    if (!dec || !packet || !n_samples) return VDSP_ERR_INVALID_ARGUMENT;
    if (packet_bytes == 0 || packet_bytes > INT32_MAX) return VDSP_ERR_CORRUPT_PACKET;
    int n = opus_packet_get_nb_samples(packet, (opus_int32)packet_bytes, dec->sample_rate_hz);
    if (n <= 0) return VDSP_ERR_CORRUPT_PACKET;
    *n_samples = n;
    return VDSP_OK;
}

int vdsp_opus_decoder_decode(vdsp_opus_decoder *dec, const uint8_t *packet, size_t packet_bytes,
                             int16_t *pcm, int capacity_samples, int *n_samples) {
    if (n_samples) *n_samples = 0;
    if (!dec || !packet || !pcm || !n_samples) return VDSP_ERR_INVALID_ARGUMENT;
    int need;
    int status = vdsp_opus_decoder_packet_samples(dec, packet, packet_bytes, &need);
    if (status != VDSP_OK) return status;
    if (capacity_samples < need) return VDSP_ERR_BUFFER_TOO_SMALL;
    int n = opus_decode(dec->st, packet, (opus_int32)packet_bytes, pcm, need, 0);
    if (n < 0) return map_error(n);
    *n_samples = n;
    return VDSP_OK;
}

int vdsp_opus_decoder_conceal(vdsp_opus_decoder *dec, int n_samples, int16_t *pcm) {
    if (!dec || !pcm) return VDSP_ERR_INVALID_ARGUMENT;
    if (!conceal_samples_ok(dec->sample_rate_hz, n_samples)) return VDSP_ERR_BAD_FRAME_SIZE;
    int n = opus_decode(dec->st, NULL, 0, pcm, n_samples, 0);
    if (n < 0) return map_error(n);
    return n == n_samples ? VDSP_OK : VDSP_ERR_CODEC;
}

int vdsp_opus_decoder_decode_fec(vdsp_opus_decoder *dec, const uint8_t *packet,
                                 size_t packet_bytes, int n_samples, int16_t *pcm) {
    if (!dec || !packet || !pcm) return VDSP_ERR_INVALID_ARGUMENT;
    if (!conceal_samples_ok(dec->sample_rate_hz, n_samples)) return VDSP_ERR_BAD_FRAME_SIZE;
    int need;
    int status = vdsp_opus_decoder_packet_samples(dec, packet, packet_bytes, &need);
    if (status != VDSP_OK) return status;
    int n = opus_decode(dec->st, packet, (opus_int32)packet_bytes, pcm, n_samples, 1);
    if (n < 0) return map_error(n);
    return n == n_samples ? VDSP_OK : VDSP_ERR_CODEC;
}

int vdsp_opus_decoder_last_packet_samples(const vdsp_opus_decoder *dec) {
    opus_int32 v = 0;
    if (!dec || opus_decoder_ctl(dec->st, OPUS_GET_LAST_PACKET_DURATION(&v)) != OPUS_OK)
        return 0;
    return (int)v;
}

int vdsp_opus_decoder_reset(vdsp_opus_decoder *dec) {
    if (!dec) return VDSP_ERR_INVALID_ARGUMENT;
    int err = opus_decoder_ctl(dec->st, OPUS_RESET_STATE);
    return err == OPUS_OK ? VDSP_OK : map_error(err);
}

void vdsp_opus_decoder_destroy(vdsp_opus_decoder *dec) { free(dec); }

int vdsp_opus_decoder_sample_rate(const vdsp_opus_decoder *dec) {
    return dec ? dec->sample_rate_hz : 0;
}

int vdsp_opus_decoder_channels(const vdsp_opus_decoder *dec) { return dec ? dec->channels : 0; }

/* ---- packets ---------------------------------------------------------------------------- */

int vdsp_opus_packet_inspect(const uint8_t *packet, size_t packet_bytes, int sample_rate_hz,
                          vdsp_opus_packet_info *info) {
    if (!packet || !info) return VDSP_ERR_INVALID_ARGUMENT;
    if (!vdsp_opus_rate_ok(sample_rate_hz)) return VDSP_ERR_UNSUPPORTED_RATE;
    if (packet_bytes == 0 || packet_bytes > INT32_MAX) return VDSP_ERR_CORRUPT_PACKET;
    unsigned char toc;
    const unsigned char *frames[48];
    opus_int16 sizes[48];
    int n_frames = opus_packet_parse(packet, (opus_int32)packet_bytes, &toc, frames, sizes,
                                     NULL);
    if (n_frames <= 0) return VDSP_ERR_CORRUPT_PACKET;
    info->n_frames = n_frames;
    info->samples_per_frame = opus_packet_get_samples_per_frame(packet, sample_rate_hz);
    info->n_samples = n_frames * info->samples_per_frame;
    info->channels = opus_packet_get_nb_channels(packet);
    switch (opus_packet_get_bandwidth(packet)) {
    case OPUS_BANDWIDTH_NARROWBAND: info->bandwidth_hz = VDSP_OPUS_BW_NARROWBAND; break;
    case OPUS_BANDWIDTH_MEDIUMBAND: info->bandwidth_hz = VDSP_OPUS_BW_MEDIUMBAND; break;
    case OPUS_BANDWIDTH_WIDEBAND: info->bandwidth_hz = VDSP_OPUS_BW_WIDEBAND; break;
    case OPUS_BANDWIDTH_SUPERWIDEBAND: info->bandwidth_hz = VDSP_OPUS_BW_SUPERWIDEBAND; break;
    default: info->bandwidth_hz = VDSP_OPUS_BW_FULLBAND; break;
    }
    /* TOC configs 0-11 are SILK-only, 12-15 hybrid, 16-31 CELT-only (RFC 6716 3.1) */
    int config = toc >> 3;
    info->mode = config < 12 ? VDSP_OPUS_MODE_SILK
                 : config < 16 ? VDSP_OPUS_MODE_HYBRID : VDSP_OPUS_MODE_CELT;
    info->has_fec = 0;
    if (info->mode != VDSP_OPUS_MODE_CELT && sizes[0] > 0) {
        /* The SILK layer opens with flags coded at probability 1/2, which the range coder
         * stores as plain leading bits (RFC 6716 4.2.3): per channel, one VAD flag per
         * 20 ms SILK frame, then the LBRR (FEC) flag; the side channel's follow the mid's. */
        int ms = opus_packet_get_samples_per_frame(packet, 48000) / 48;
        int n_silk = ms <= 20 ? 1 : ms / 20;
        int first = frames[0][0];
        info->has_fec = (first >> (7 - n_silk)) & 1;
        if (info->channels == 2) info->has_fec |= (first >> (6 - 2 * n_silk)) & 1;
    }
    return VDSP_OK;
}
