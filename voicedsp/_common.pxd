# Helpers shared by every extension: status checking and buffer acquisition with the
# house error messages. Implemented in _common.pyx; other modules cimport them.
from cpython.buffer cimport Py_buffer

cdef int raise_status(int status, str context) except -1

cdef inline int check(int status, str context=None) except -1:
    """Raise the voicedsp exception for a negative C status; return 0 otherwise."""
    if status < 0:
        raise_status(status, context)
    return 0

# Acquire `obj` as native-endian int16 PCM: bytes-like of even length or an int16 array,
# C-contiguous. Fills `view` (release it with PyBuffer_Release); raises on anything else.
cdef int acquire_pcm16(object obj, Py_buffer *view, str name) except -1

# Whether a buffer holds native-endian items of struct format `code` ('h', 'f') and itemsize.
cdef bint is_native(Py_buffer *view, char code, Py_ssize_t itemsize)

# Acquire `obj` as C-contiguous native-endian float32 samples (writable if asked).
cdef int acquire_f32(object obj, Py_buffer *view, str name, bint writable) except -1

# Acquire `obj` as bytes (itemsize 1), C-contiguous.
cdef int acquire_bytes(object obj, Py_buffer *view, str name) except -1

# Acquire a writable, C-contiguous `out` buffer with room for `n_items` items of `itemsize`
# bytes (1: codes/bytes; 2: int16 PCM, accepting int16 arrays or raw bytes-like buffers).
cdef int acquire_out(object out, Py_buffer *view, Py_ssize_t n_items, int itemsize,
                     str name) except -1

# A new, uninitialised result for `n_items` items: bytes (itemsize 1 or 2) or, with
# as_numpy, a numpy array of uint8 / int16. `*data` receives its writable storage.
cdef object new_output(Py_ssize_t n_items, int itemsize, bint as_numpy, char **data)
