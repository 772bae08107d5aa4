"""A float64 numpy model of csrc/resample.c, written from its design notes, for the tests.

It rebuilds the polyphase table from csrc/resample_tables.h with the same formulas (kernel,
tap window, latency rule) and filters whole signals at once (no streaming), so the C core's
streaming, blocking and vector kernels are checked against a plain convolution.
"""

from __future__ import annotations

import math
import re
from functools import lru_cache
from pathlib import Path

import numpy as np

TABLES = Path(__file__).resolve().parents[1] / "csrc" / "resample_tables.h"
QUALITY_NAMES = {"telephony": "telephony", "alias_free": "alias_free"}


@lru_cache(maxsize=None)
def _tables():
    text = TABLES.read_text()
    consts = {m[0]: float(m[1]) for m in re.findall(r"#define VDSP_RS_(\w+) ([-0-9.e]+)", text)}
    protos = {}
    for name, body in re.findall(r"vdsp_rs_(\w+)\[\d+\] = \{(.*?)\};", text, re.S):
        protos[name] = np.array([float(v) for v in body.replace("\n", " ").split(",") if v.strip()])
    return consts, protos


def _kernel(g, c, t, os_, hw, beta):
    """sum_n g[n] k(t * os_ + c - n), k the Kaiser-windowed sinc of half-width hw."""
    tr = np.asarray(t, float) * os_ + c
    n = np.ceil(tr - hw).astype(int)[:, None] + np.arange(int(2 * hw) + 1)[None, :]
    x = tr[:, None] - n
    u = x / hw
    inside = (u * u < 1.0) & (n >= 0) & (n < len(g))
    k = np.zeros_like(x)
    k[inside] = np.sinc(x[inside]) * np.i0(beta * np.sqrt(1 - u[inside] ** 2)) / np.i0(beta)
    return (g[np.clip(n, 0, len(g) - 1)] * k).sum(1)


@lru_cache(maxsize=None)
def design(in_rate, out_rate, quality="telephony"):
    """(coef[L, T], L, M, ilo, latency) as the C core builds them."""
    consts, protos = _tables()
    g = protos[QUALITY_NAMES[quality]]
    c = consts[QUALITY_NAMES[quality].upper() + "_CENTRE"]
    os_, hw, beta = consts["OS"], consts["INTERP_HALF_WIDTH"], consts["INTERP_BETA"]
    gg = math.gcd(in_rate, out_rate)
    L, M = out_rate // gg, in_rate // gg
    fl = min(in_rate, out_rate)
    to_t = fl / in_rate
    ahead_in = (c + hw) / os_ / to_t
    behind_in = (len(g) - 1 - c + hw) / os_ / to_t
    A = math.ceil((L - 1) / L + ahead_in) - 1
    imin = math.floor(-behind_in) + 1
    T = -(-(A - imin + 1) // 8) * 8
    ilo = A - T + 1

    def ok(D):
        for u in range(L):
            need = (u * M) // L + A
            have = -((-(u + D + 1) * M) // L) - 1
            if need > have:
                return False
        return True

    D = 0
    while not ok(D):
        D += 1
    if M == 1:
        D += (-D) % L
    p = np.arange(L)[:, None]
    k = np.arange(T)[None, :]
    delta = p / L - (ilo + k)
    coef = _kernel(g, c, (delta * to_t).ravel(), os_, hw, beta).reshape(L, T)
    coef *= L / coef.sum()
    return coef, L, M, ilo, D


def stream_length(n, in_rate, out_rate, quality="telephony"):
    """Frames out of process(n frames) + flush() on a fresh stream."""
    _, L, M, _, D = design(in_rate, out_rate, quality)
    return n * L // M + D + (1 if (n * L) % M else 0)


def resample_stream(x, in_rate, out_rate, quality="telephony"):
    """What process(x) + flush() returns for a mono float signal (float64, unclipped)."""
    coef, L, M, ilo, D = design(in_rate, out_rate, quality)
    T = coef.shape[1]
    x = np.asarray(x, float)
    n_out = stream_length(len(x), in_rate, out_rate, quality)
    j = np.arange(n_out)
    pos = (j - D) * M
    n0 = pos // L
    p = pos - n0 * L
    idx = (n0 + ilo)[:, None] + np.arange(T)[None, :]
    pad_left = max(0, -int(idx.min()))
    xp = np.concatenate([np.zeros(pad_left), x, np.zeros(int(idx.max()) + 1)])
    return (coef[p] * xp[idx + pad_left]).sum(1)
