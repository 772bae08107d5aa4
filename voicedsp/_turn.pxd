from voicedsp._cdefs cimport vdsp_turn, vdsp_turn_config, vdsp_turn_event, vdsp_vad

# TurnDetection (None: defaults) -> C knobs; returns the TurnDetection used. Shared with the
# MediaBridge binding.
cdef object fill_turn_config(vdsp_turn_config *cfg, object turn_detection)


cdef class Vad:
    cdef vdsp_vad *_vad
    cdef readonly Py_ssize_t frame_samples
    cdef readonly int sample_rate_hz
    cdef readonly int frame_ms


cdef class TurnDetector:
    cdef vdsp_turn *_turn
    cdef readonly Py_ssize_t frame_samples
    cdef readonly int sample_rate_hz
    cdef readonly int frame_ms
    cdef readonly object turn_detection
    cdef double _ms_per_sample
    cdef tuple _events(self, vdsp_turn_event *ev, int count)
