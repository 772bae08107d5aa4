# Every declaration of the C core, in one place. Components cimport from here.
from libc.stdint cimport int16_t, int64_t, uint8_t, uint32_t, uint64_t


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
    void vdsp_g711_ulaw_encode_table(const int16_t *pcm, size_t n, uint8_t *codes)
    void vdsp_g711_alaw_encode_table(const int16_t *pcm, size_t n, uint8_t *codes)
    void vdsp_g711_ulaw_decode_table(const uint8_t *codes, size_t n, int16_t *pcm)
    void vdsp_g711_alaw_decode_table(const uint8_t *codes, size_t n, int16_t *pcm)
    void vdsp_g711_ulaw_decode(const uint8_t *codes, size_t n, int16_t *pcm)
    void vdsp_g711_alaw_decode(const uint8_t *codes, size_t n, int16_t *pcm)
    void vdsp_g711_ulaw_to_alaw(const uint8_t *codes, size_t n, uint8_t *out)
    void vdsp_g711_alaw_to_ulaw(const uint8_t *codes, size_t n, uint8_t *out)


cdef extern from "voicedsp/opus.h" nogil:
    enum:
        VDSP_OPUS_MAX_PACKET_BYTES
        VDSP_OPUS_MAX_FRAME_SAMPLES
        VDSP_OPUS_APP_VOIP
        VDSP_OPUS_APP_AUDIO
        VDSP_OPUS_APP_RESTRICTED_LOWDELAY
        VDSP_OPUS_BITRATE
        VDSP_OPUS_COMPLEXITY
        VDSP_OPUS_VBR
        VDSP_OPUS_INBAND_FEC
        VDSP_OPUS_PACKET_LOSS_PERC
        VDSP_OPUS_DTX
        VDSP_OPUS_AUTO
        VDSP_OPUS_BITRATE_MAX
        VDSP_OPUS_MODE_SILK
        VDSP_OPUS_MODE_HYBRID
        VDSP_OPUS_MODE_CELT
    ctypedef struct vdsp_opus_packet_info:
        int n_frames
        int samples_per_frame
        int n_samples
        int channels
        int bandwidth_hz
        int mode
        int has_fec
    ctypedef struct vdsp_opus_encoder:
        pass
    ctypedef struct vdsp_opus_decoder:
        pass
    const char *vdsp_opus_version()
    int vdsp_opus_frame_samples_ok(int sample_rate_hz, int n_samples)
    int vdsp_opus_rate_ok(int sample_rate_hz)
    int vdsp_opus_encoder_create(int sample_rate_hz, int channels, int application,
                                 vdsp_opus_encoder **out)
    int vdsp_opus_encoder_encode(vdsp_opus_encoder *enc, const int16_t *pcm, int n_samples,
                                 uint8_t *packet, int capacity, int *packet_bytes)
    int vdsp_opus_encoder_set(vdsp_opus_encoder *enc, int control, int value)
    int vdsp_opus_encoder_get(const vdsp_opus_encoder *enc, int control, int *value)
    int vdsp_opus_encoder_latency(const vdsp_opus_encoder *enc)
    int vdsp_opus_encoder_reset(vdsp_opus_encoder *enc)
    void vdsp_opus_encoder_destroy(vdsp_opus_encoder *enc)
    int vdsp_opus_decoder_create(int sample_rate_hz, int channels, vdsp_opus_decoder **out)
    int vdsp_opus_decoder_packet_samples(const vdsp_opus_decoder *dec, const uint8_t *packet,
                                         size_t packet_bytes, int *n_samples)
    int vdsp_opus_decoder_decode(vdsp_opus_decoder *dec, const uint8_t *packet,
                                 size_t packet_bytes, int16_t *pcm, int capacity_samples,
                                 int *n_samples)
    int vdsp_opus_decoder_conceal(vdsp_opus_decoder *dec, int n_samples, int16_t *pcm)
    int vdsp_opus_decoder_decode_fec(vdsp_opus_decoder *dec, const uint8_t *packet,
                                     size_t packet_bytes, int n_samples, int16_t *pcm)
    int vdsp_opus_decoder_last_packet_samples(const vdsp_opus_decoder *dec)
    int vdsp_opus_decoder_reset(vdsp_opus_decoder *dec)
    void vdsp_opus_decoder_destroy(vdsp_opus_decoder *dec)
    int vdsp_opus_packet_inspect(const uint8_t *packet, size_t packet_bytes,
                                 int sample_rate_hz, vdsp_opus_packet_info *info)
cdef extern from "voicedsp/resample.h" nogil:
    enum:
        VDSP_RESAMPLE_TELEPHONY
        VDSP_RESAMPLE_ALIAS_FREE
        VDSP_RESAMPLE_MAX_CHANNELS
        VDSP_RESAMPLE_PRECISION_FULL
        VDSP_RESAMPLE_PRECISION_Q15
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
    ctypedef struct vdsp_resample_design:
        pass
    int vdsp_resample_design_create(vdsp_resample_design **out, int in_rate_hz,
                                    int out_rate_hz, int quality, int precision)
    void vdsp_resample_design_destroy(vdsp_resample_design *d)
    int vdsp_resample_design_latency(const vdsp_resample_design *d)
    int vdsp_resample_design_matches(const vdsp_resample_design *d, int in_rate_hz,
                                     int out_rate_hz, int quality, int precision)
    size_t vdsp_resample_design_bytes(const vdsp_resample_design *d)
    int vdsp_resampler_create_from_design(vdsp_resampler **out, const vdsp_resample_design *d,
                                          int channels, size_t block_frames)


cdef extern from "voicedsp/vad.h" nogil:
    ctypedef struct vdsp_vad:
        pass
    double VDSP_VAD_DEFAULT_THRESHOLD_DB
    double VDSP_VAD_DEFAULT_RELEASE_DB
    size_t vdsp_vad_frame_samples(int sample_rate_hz, int frame_ms)
    int vdsp_vad_create(int sample_rate_hz, int frame_ms, double threshold_db,
                        double release_db, vdsp_vad **out)
    int vdsp_vad_process(vdsp_vad *vad, const int16_t *frame, size_t n_samples)
    int vdsp_vad_noise_floor_db(const vdsp_vad *vad, double out_db[2])
    void vdsp_vad_reset(vdsp_vad *vad)
    void vdsp_vad_destroy(vdsp_vad *vad)


cdef extern from "voicedsp/turn.h" nogil:
    ctypedef struct vdsp_turn:
        pass
    enum:
        VDSP_TURN_SPEECH_START
        VDSP_TURN_SPEECH_END
        VDSP_TURN_COMMIT
        VDSP_TURN_BACKCHANNEL
        VDSP_TURN_BARGE_IN
        VDSP_TURN_BARGE_CANDIDATE
        VDSP_TURN_BARGE_REJECTED
        VDSP_TURN_MAX_EVENTS
    ctypedef struct vdsp_turn_event:
        int type
        int64_t t_samples
        int64_t ref_samples
        int64_t start_samples
    ctypedef struct vdsp_turn_config:
        int silence_threshold_ms
        int response_min_speech_ms
        int commit_min_interval_ms
        int barge_confirm_ms
        int instant_barge
        int mic_guard_ms
        int prefix_padding_ms
        double vad_threshold_db
        double vad_release_db
        int echo_gating
        int echo_max_delay_ms
    void vdsp_turn_config_default(vdsp_turn_config *cfg)
    int vdsp_turn_create(int sample_rate_hz, int frame_ms, const vdsp_turn_config *cfg,
                         vdsp_turn **out)
    size_t vdsp_turn_frame_samples(const vdsp_turn *turn)
    int vdsp_turn_process(vdsp_turn *turn, const int16_t *uplink, const int16_t *downlink,
                          size_t n_samples, vdsp_turn_event *events, size_t capacity)
    int vdsp_turn_inspect(const vdsp_turn *turn, int *vad_raw, int *agent_audible,
                          double *echo_delay_ms, double *echo_gain_db)
    void vdsp_turn_reset(vdsp_turn *turn)
    void vdsp_turn_destroy(vdsp_turn *turn)


cdef extern from "voicedsp/bridge.h" nogil:
    enum:
        VDSP_CODEC_PCM16
        VDSP_CODEC_G711_ULAW
        VDSP_CODEC_G711_ALAW
        VDSP_CODEC_OPUS
        VDSP_BRIDGE_MAX_EVENTS
    ctypedef struct vdsp_bridge_config:
        int caller_codec
        int caller_rate_hz
        int model_codec
        int model_input_rate_hz
        int model_output_rate_hz
        int frame_ms
        vdsp_turn_config turn
        int hold_and_resume
        int max_queue_ms
        int opus_bitrate
        int opus_complexity
        const vdsp_resample_design *up_design
        const vdsp_resample_design *down_design
    ctypedef struct vdsp_bridge_event:
        int type
        double t_ms
        double ref_ms
        double start_ms
        uint32_t item
        double heard_ms
    ctypedef struct vdsp_bridge_stats:
        uint64_t frames_in
        uint64_t frames_out
        uint64_t silent_frames
        uint64_t bad_frames
        uint64_t concealed
        uint64_t model_chunks
        uint64_t model_rejected
        uint64_t barge_ins
        uint64_t commits
        uint64_t backchannels
        uint64_t rejected_candidates
        uint64_t dropped_samples
    ctypedef struct vdsp_bridge:
        pass
    int vdsp_bridge_resample_precision(const vdsp_bridge_config *cfg)
    void vdsp_bridge_config_default(vdsp_bridge_config *cfg)
    int vdsp_bridge_create(const vdsp_bridge_config *cfg, vdsp_bridge **out)
    void vdsp_bridge_destroy(vdsp_bridge *b)
    size_t vdsp_bridge_caller_frame_samples(const vdsp_bridge *b)
    size_t vdsp_bridge_caller_frame_bytes(const vdsp_bridge *b)
    size_t vdsp_bridge_uplink_max_bytes(const vdsp_bridge *b)
    size_t vdsp_bridge_downlink_max_bytes(const vdsp_bridge *b)
    int vdsp_bridge_uplink(vdsp_bridge *b, const uint8_t *frame, size_t frame_bytes,
                           uint8_t *model_out, size_t capacity, size_t *model_bytes,
                           vdsp_bridge_event *events, size_t events_capacity, size_t *n_events)
    int vdsp_bridge_push_model(vdsp_bridge *b, const uint8_t *audio, size_t n, uint32_t item)
    int vdsp_bridge_push_clip(vdsp_bridge *b, const int16_t *pcm, size_t n, int rate_hz,
                              uint32_t item)
    uint32_t vdsp_bridge_new_item(vdsp_bridge *b)
    int vdsp_bridge_downlink(vdsp_bridge *b, uint8_t *out, size_t capacity, size_t *n)
    uint64_t vdsp_bridge_mark(const vdsp_bridge *b)
    void vdsp_bridge_ack(vdsp_bridge *b, uint64_t token)
    double vdsp_bridge_clear(vdsp_bridge *b)
    double vdsp_bridge_heard_ms(const vdsp_bridge *b, uint32_t item)
    uint32_t vdsp_bridge_current_item(const vdsp_bridge *b)
    double vdsp_bridge_queued_ms(const vdsp_bridge *b)
    int vdsp_bridge_paused(const vdsp_bridge *b)
    double vdsp_bridge_uplink_latency_ms(const vdsp_bridge *b)
    void vdsp_bridge_get_stats(const vdsp_bridge *b, vdsp_bridge_stats *stats)
    const int16_t *vdsp_bridge_last_uplink_pcm(const vdsp_bridge *b, size_t *n)
    const int16_t *vdsp_bridge_last_downlink_pcm(const vdsp_bridge *b, size_t *n)
    void vdsp_bridge_reset(vdsp_bridge *b)
    int vdsp_bridge_push_model_group(vdsp_bridge *const *bridges, size_t k,
                                     const uint8_t *const *audio, const size_t *bytes,
                                     const uint32_t *items, int *status)
    int vdsp_bridge_tick_group(vdsp_bridge *const *bridges, size_t k, const uint8_t *uplink,
                               size_t in_stride, const size_t *in_bytes, uint8_t *model_out,
                               size_t model_stride, size_t *model_bytes, uint8_t *caller_out,
                               size_t caller_stride, size_t *caller_bytes,
                               vdsp_bridge_event *events, uint32_t *event_bridge,
                               size_t events_capacity, size_t *n_events, int *status)
