"""Native build only: csrc/ as a static library, plus one Cython extension per voicedsp/*.pyx.

Metadata lives in pyproject.toml. Environment knobs:
  VOICEDSP_SANITIZE=address,undefined   build the C core and extensions with sanitizers
                                        (see scripts/asan.sh); implies -O1 -g.
"""
import glob
import os
import shlex
import subprocess
import sys

from Cython.Build import cythonize
from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

ROOT = os.path.dirname(os.path.abspath(__file__))
CSRC = "csrc"
INCLUDE = os.path.join(CSRC, "include")

# System libraries found with pkg-config, linked into every extension (the wheel repair step
# bundles them). Each entry: (pkg-config name, Debian package, Homebrew formula).
PKG_CONFIG_DEPS = [
    ("opus", "libopus-dev", "opus"),
]

MSVC = sys.platform == "win32"
SANITIZE = os.environ.get("VOICEDSP_SANITIZE", "").strip()


def pkg_config(name, debian, brew):
    # Where pkg-config does not exist (Windows), VOICEDSP_<NAME>_ROOT names a prefix with
    # include/ and lib/ (e.g. a vcpkg installed/<triplet> directory).
    root = os.environ.get(f"VOICEDSP_{name.upper()}_ROOT")
    if root:
        return [f"-I{os.path.join(root, 'include')}"], [f"-L{os.path.join(root, 'lib')}",
                                                          f"-l{name}"]
    try:
        cflags = subprocess.check_output(["pkg-config", "--cflags", name], text=True)
        libs = subprocess.check_output(["pkg-config", "--libs", name], text=True)
    except (OSError, subprocess.CalledProcessError):
        sys.exit(
            f"voicedsp: pkg-config cannot find {name!r}. Install its development files "
            f"(Debian/Ubuntu: apt-get install {debian} pkg-config; macOS: brew install {brew}) "
            "or run scripts/setup.sh, which does it for you."
        )
    return shlex.split(cflags), shlex.split(libs)


def native_flags():
    if MSVC:
        return ["/O2"], []
    cflags = ["-O3", "-fno-strict-aliasing", "-Wall", "-Wextra"]
    ldflags = []
    if SANITIZE:
        san = [f"-fsanitize={SANITIZE}", "-fno-omit-frame-pointer", "-fno-sanitize-recover=all"]
        cflags = ["-O1", "-g"] + san
        ldflags = san
    return cflags, ldflags


CFLAGS, LDFLAGS = native_flags()
dep_cflags, dep_libs = [], []
for dep in PKG_CONFIG_DEPS:
    c, l = pkg_config(*dep)
    dep_cflags += c
    dep_libs += l
dep_include = [f[2:] for f in dep_cflags if f.startswith("-I")]
dep_libnames = [f[2:] for f in dep_libs if f.startswith("-l")]
dep_libdirs = [f[2:] for f in dep_libs if f.startswith("-L")]

core_sources = sorted(glob.glob(os.path.join(CSRC, "*.c")))
core_headers = sorted(glob.glob(os.path.join(CSRC, "**", "*.h"), recursive=True))

core_lib = (
    "voicedsp_core",
    {
        "sources": core_sources,
        "include_dirs": [INCLUDE, CSRC] + dep_include,
        "cflags": CFLAGS + ([] if MSVC else ["-std=c99"]),
        "obj_deps": {"": core_headers},
    },
)


class BuildExt(build_ext):
    """Build the static C core first, whichever command asked for the extensions."""

    def run(self):
        self.run_command("build_clib")
        super().run()


extensions = [
    Extension(
        f"voicedsp.{os.path.splitext(os.path.basename(pyx))[0]}",
        [pyx],
        include_dirs=[INCLUDE] + dep_include,
        # the core twice: before and after the system libraries it uses, whatever the linker
        libraries=["voicedsp_core"] + dep_libnames + ([] if MSVC else ["m"]),
        library_dirs=dep_libdirs,
        extra_compile_args=[f for f in CFLAGS if not f.startswith("-W")],
        extra_link_args=LDFLAGS,
        depends=core_headers + core_sources,  # relink when the static core changes
    )
    for pyx in sorted(glob.glob(os.path.join("voicedsp", "*.pyx")))
]

setup(
    libraries=[core_lib],
    ext_modules=cythonize(
        extensions,
        compiler_directives={"language_level": 3, "embedsignature": True},
        include_path=["voicedsp"],
    ),
    cmdclass={"build_ext": BuildExt},
)
