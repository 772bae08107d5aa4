"""Build information: how this copy of voicedsp was compiled."""

from voicedsp._cdefs cimport vdsp_opus_version, vdsp_status_message


def build_info():
    """Describe this build of voicedsp.

    Returns
    -------
    dict
        ``version``; ``compiler`` (the C compiler's version string, where known); and one
        entry per linked system library: ``libopus``, the version string of the libopus
        this build runs against (e.g. ``"libopus 1.3.1"``).
    """
    from voicedsp import __version__
    info = {"version": __version__, "compiler": COMPILER.decode()}
    info["libopus"] = vdsp_opus_version().decode()
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
