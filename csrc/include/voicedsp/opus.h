/*
 * voicedsp — Opus (RFC 6716) encoder and decoder over libopus, with voicedsp status codes.
 *
 * Thin, allocation-free-per-call wrappers: create() makes the only allocation (one block holding
 * our state and libopus's); encode/decode/conceal run on the caller's buffers. libopus itself
 * works on the stack, so a call never touches the heap.
 *
 * Units:
 *   - sample rates in Hz: 8000, 12000, 16000, 24000 or 48000 (else VDSP_ERR_UNSUPPORTED_RATE);
 *   - channels: 1 or 2 (else VDSP_ERR_INVALID_ARGUMENT); PCM is interleaved native-endian
 *     int16 when stereo;
 *   - "samples" always means samples PER CHANNEL (one 20 ms frame at 48 kHz is 960 samples,
 *     i.e. 1920 int16 values when stereo);
 *   - packet sizes are in bytes.
 *
 * An Opus frame lasts 2.5, 5, 10, 20, 40, 60, 80, 100 or 120 ms; vdsp_opus_frame_samples_ok()
 * tells whether a sample count is one of those at a given rate.
 *
 * There is no flush: Opus returns every frame's packet at once. The encoder's lookahead
 * (vdsp_opus_encoder_latency) is the only audio it holds; to get it out at the end of a
 * stream, encode one more frame (of silence).
 *
 * Thread-safety: distinct objects may be used on distinct threads at once; one object must not
 * be used by two threads at the same time. The stateless helpers are thread-safe.
 */
#ifndef VOICEDSP_OPUS_H
#define VOICEDSP_OPUS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The largest packet the encoder can produce (6 frames of 1275 bytes plus framing); an output
 * buffer of this many bytes never gives VDSP_ERR_BUFFER_TOO_SMALL. */
#define VDSP_OPUS_MAX_PACKET_BYTES 7656

/* The longest frame: 120 ms at 48 kHz, in samples per channel. */
#define VDSP_OPUS_MAX_FRAME_SAMPLES 5760

/* Encoder application (what libopus optimises for). */
enum {
    VDSP_OPUS_APP_VOIP = 0,                /* speech: best intelligibility */
    VDSP_OPUS_APP_AUDIO = 1,               /* music / mixed content: best fidelity */
    VDSP_OPUS_APP_RESTRICTED_LOWDELAY = 2  /* CELT only: 5 ms less algorithmic delay */
};

/* Encoder controls for vdsp_opus_encoder_set / vdsp_opus_encoder_get, with legal values. */
enum {
    VDSP_OPUS_BITRATE = 0,          /* bits per second, 500..512000, or VDSP_OPUS_AUTO or
                                       VDSP_OPUS_BITRATE_MAX; get returns the actual bps */
    VDSP_OPUS_COMPLEXITY = 1,       /* 0..10 (libopus default 9 on most builds, 10 upstream) */
    VDSP_OPUS_VBR = 2,              /* 0 = constant bitrate, 1 = variable (default) */
    VDSP_OPUS_INBAND_FEC = 3,       /* 0 or 1: carry a low-rate copy of the previous frame */
    VDSP_OPUS_PACKET_LOSS_PERC = 4, /* 0..100: expected loss, drives how much FEC is spent */
    VDSP_OPUS_DTX = 5               /* 0 or 1: discontinuous transmission in silence */
};
#define VDSP_OPUS_AUTO (-1000)
#define VDSP_OPUS_BITRATE_MAX (-1)

/* Audio bandwidth of a packet, as its upper band edge in Hz. */
enum {
    VDSP_OPUS_BW_NARROWBAND = 4000,
    VDSP_OPUS_BW_MEDIUMBAND = 6000,
    VDSP_OPUS_BW_WIDEBAND = 8000,
    VDSP_OPUS_BW_SUPERWIDEBAND = 12000,
    VDSP_OPUS_BW_FULLBAND = 20000
};

/* Coding mode of a packet. */
enum { VDSP_OPUS_MODE_SILK = 0, VDSP_OPUS_MODE_HYBRID = 1, VDSP_OPUS_MODE_CELT = 2 };

/* What a packet's header says, read without decoding (see vdsp_opus_packet_inspect). */
typedef struct vdsp_opus_packet_info {
    int n_frames;          /* Opus frames in the packet, 1..48 */
    int samples_per_frame; /* per channel, at the sample rate asked for */
    int n_samples;         /* n_frames * samples_per_frame: what one decode returns */
    int channels;          /* 1 or 2: the channels CODED in the packet (any decoder takes it) */
    int bandwidth_hz;      /* one of VDSP_OPUS_BW_* */
    int mode;              /* one of VDSP_OPUS_MODE_* */
    int has_fec;           /* 1 if the first frame carries in-band FEC (LBRR) data for the
                              packet before this one, i.e. decode_fec can recover it */
} vdsp_opus_packet_info;

typedef struct vdsp_opus_encoder vdsp_opus_encoder;
typedef struct vdsp_opus_decoder vdsp_opus_decoder;

/* The linked libopus's version string, e.g. "libopus 1.3.1" (static, never NULL). */
const char *vdsp_opus_version(void);

/* 1 if n_samples (per channel) is a legal Opus frame duration at sample_rate_hz, else 0. */
int vdsp_opus_frame_samples_ok(int sample_rate_hz, int n_samples);

/* 1 if sample_rate_hz is one Opus supports (8000, 12000, 16000, 24000, 48000), else 0. */
int vdsp_opus_rate_ok(int sample_rate_hz);

/* ---- encoder ---------------------------------------------------------------------------- */

/* Create an encoder. out (out): the new encoder, or NULL on failure.
 * Status: VDSP_OK; VDSP_ERR_UNSUPPORTED_RATE; VDSP_ERR_INVALID_ARGUMENT (channels not 1 or 2,
 * unknown application, out NULL); VDSP_ERR_NO_MEMORY; VDSP_ERR_CODEC. */
int vdsp_opus_encoder_create(int sample_rate_hz, int channels, int application,
                             vdsp_opus_encoder **out);

/* Encode one frame. pcm (in): n_samples * channels int16 values, interleaved; n_samples (in):
 * samples per channel, a legal frame duration; packet (out): capacity bytes;
 * packet_bytes (out): bytes written, 1..capacity (1 or 2 means DTX: "nothing to transmit").
 * capacity also caps the packet size (libopus's max_data_bytes); VDSP_OPUS_MAX_PACKET_BYTES
 * is always enough.
 * Status: VDSP_OK; VDSP_ERR_BAD_FRAME_SIZE; VDSP_ERR_BUFFER_TOO_SMALL (capacity < 3 or too
 * small for this frame at this bitrate); VDSP_ERR_INVALID_ARGUMENT (NULL pointer);
 * VDSP_ERR_CODEC. The encoder stays usable after any error. */
int vdsp_opus_encoder_encode(vdsp_opus_encoder *enc, const int16_t *pcm, int n_samples,
                             uint8_t *packet, int capacity, int *packet_bytes);

/* Set one control (VDSP_OPUS_BITRATE...) to value; takes effect from the next frame.
 * Status: VDSP_OK; VDSP_ERR_INVALID_ARGUMENT (unknown control or value out of range, see the
 * control list). */
int vdsp_opus_encoder_set(vdsp_opus_encoder *enc, int control, int value);

/* Read one control into *value (out). Status: VDSP_OK; VDSP_ERR_INVALID_ARGUMENT. */
int vdsp_opus_encoder_get(const vdsp_opus_encoder *enc, int control, int *value);

/* Lookahead (algorithmic delay) in samples per channel at the encoder's rate, e.g. 312 at
 * 48 kHz for VOIP/AUDIO (6.5 ms), 120 for RESTRICTED_LOWDELAY (2.5 ms). */
int vdsp_opus_encoder_latency(const vdsp_opus_encoder *enc);

/* Back to the freshly created state, keeping the controls. Status: VDSP_OK; VDSP_ERR_CODEC. */
int vdsp_opus_encoder_reset(vdsp_opus_encoder *enc);

/* Free the encoder; NULL is a no-op. */
void vdsp_opus_encoder_destroy(vdsp_opus_encoder *enc);

/* ---- decoder ---------------------------------------------------------------------------- */

/* Create a decoder producing sample_rate_hz, channels (any Opus packet decodes at any legal
 * rate and channel count). out (out): the new decoder, or NULL on failure.
 * Status: VDSP_OK; VDSP_ERR_UNSUPPORTED_RATE; VDSP_ERR_INVALID_ARGUMENT; VDSP_ERR_NO_MEMORY;
 * VDSP_ERR_CODEC. */
int vdsp_opus_decoder_create(int sample_rate_hz, int channels, vdsp_opus_decoder **out);

/* Samples per channel that decoding `packet` will produce at this decoder's rate, from the
 * header alone (cheap: reads at most 2 bytes). n_samples (out).
 * Status: VDSP_OK; VDSP_ERR_CORRUPT_PACKET (empty, or a header that cannot be valid);
 * VDSP_ERR_INVALID_ARGUMENT (NULL). */
int vdsp_opus_decoder_packet_samples(const vdsp_opus_decoder *dec, const uint8_t *packet,
                                     size_t packet_bytes, int *n_samples);

/* Decode one packet. packet (in): packet_bytes >= 1 bytes; pcm (out): room for
 * capacity_samples * channels int16 values; n_samples (out): samples per channel written
 * (= vdsp_opus_decoder_packet_samples).
 * Status: VDSP_OK; VDSP_ERR_CORRUPT_PACKET (empty, truncated or malformed framing: refused
 * before any decoding, so the decoder state is unchanged); VDSP_ERR_BUFFER_TOO_SMALL;
 * VDSP_ERR_INVALID_ARGUMENT; VDSP_ERR_CODEC. The decoder stays usable after any error.
 * Note that Opus payloads carry no checksum: garbage with valid framing decodes to noise
 * without an error, as with every Opus decoder. */
int vdsp_opus_decoder_decode(vdsp_opus_decoder *dec, const uint8_t *packet, size_t packet_bytes,
                             int16_t *pcm, int capacity_samples, int *n_samples);

/* Packet loss concealment: synthesise n_samples (per channel) for one lost packet into pcm
 * (out, n_samples * channels int16 values). n_samples must be a multiple of 2.5 ms and at
 * most 120 ms; for the best state, the lost packet's exact duration.
 * Status: VDSP_OK; VDSP_ERR_BAD_FRAME_SIZE; VDSP_ERR_INVALID_ARGUMENT; VDSP_ERR_CODEC. */
int vdsp_opus_decoder_conceal(vdsp_opus_decoder *dec, int n_samples, int16_t *pcm);

/* Recover the packet lost just before `packet` from the in-band FEC that `packet` carries
 * (falls back to concealment when it carries none). n_samples: the lost packet's duration,
 * rules as for conceal. pcm (out): n_samples * channels values. Decode `packet` itself
 * normally afterwards.
 * Status: as vdsp_opus_decoder_decode, plus VDSP_ERR_BAD_FRAME_SIZE. */
int vdsp_opus_decoder_decode_fec(vdsp_opus_decoder *dec, const uint8_t *packet,
                                 size_t packet_bytes, int n_samples, int16_t *pcm);

/* Duration of the last packet decoded or concealed, in samples per channel (0 before any). */
int vdsp_opus_decoder_last_packet_samples(const vdsp_opus_decoder *dec);

/* Back to the freshly created state. Status: VDSP_OK; VDSP_ERR_CODEC. */
int vdsp_opus_decoder_reset(vdsp_opus_decoder *dec);

/* Free the decoder; NULL is a no-op. */
void vdsp_opus_decoder_destroy(vdsp_opus_decoder *dec);

int vdsp_opus_decoder_sample_rate(const vdsp_opus_decoder *dec);
int vdsp_opus_decoder_channels(const vdsp_opus_decoder *dec);
int vdsp_opus_encoder_sample_rate(const vdsp_opus_encoder *enc);
int vdsp_opus_encoder_channels(const vdsp_opus_encoder *enc);

/* ---- packets ---------------------------------------------------------------------------- */

/* Read a packet's header and framing without decoding. sample_rate_hz (in): the rate at which
 * samples_per_frame and n_samples are counted. info (out).
 * The whole framing (frame count and every frame length) is checked, so a packet this accepts
 * is well-formed, though its payload may still fail to decode.
 * Status: VDSP_OK; VDSP_ERR_CORRUPT_PACKET; VDSP_ERR_UNSUPPORTED_RATE;
 * VDSP_ERR_INVALID_ARGUMENT (NULL). */
int vdsp_opus_packet_inspect(const uint8_t *packet, size_t packet_bytes, int sample_rate_hz,
                          vdsp_opus_packet_info *info);

#ifdef __cplusplus
}
#endif
#endif /* VOICEDSP_OPUS_H */
