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


from libc.stdint cimport int64_t


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
