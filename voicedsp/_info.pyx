"""Build information: how this copy of voicedsp was compiled."""

from voicedsp._cdefs cimport vdsp_status_message


def build_info():
    """Describe this build of voicedsp.

    Returns
    -------
    dict
        ``version``; ``compiler`` (the C compiler's version string, where known); and one
        entry per linked system library (e.g. ``libopus``) once such components exist.
    """
    from voicedsp import __version__
    info = {"version": __version__, "compiler": COMPILER.decode()}
    return info


cdef extern from *:
    """
    #if defined(__clang__)
    #define VDSP_COMPILER "clang " __clang_version__
    #elif defined(__GNUC__)
    #define VDSP_COMPILER "gcc " __VERSION__
    #elif defined(_MSC_VER)
    #define VDSP_COMPILER "msvc"
    #else
    #define VDSP_COMPILER "unknown"
    #endif
    """
    const char *COMPILER "VDSP_COMPILER"
