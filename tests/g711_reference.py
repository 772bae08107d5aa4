"""A pure-Python G.711 written from the standard's tables, for the tests.

ITU-T G.711 specifies each law by its decision values (where the encoder steps from one code
to the next) and its decoder output values, segment by segment. This module rebuilds those
two lists from the segment structure and encodes by counting the decision values a sample
reaches (a bisection) — a different formulation from the library's bit manipulations.

Scaling to 16-bit PCM follows ITU-T G.191: mu-law works on the 14 most significant bits, A-law
on the 13 most significant; a negative input takes the magnitude of its one's complement
(value -1 of the reduced scale is "negative zero"), which is how the standard's symmetric
decision values fall on two's complement integers.
"""

import bisect

# mu-law, 14-bit magnitudes (full scale 8159). Segment s (0..7) spans 16 intervals of width
# 2**(s+1) that end at 2**(s+6) - 33; the first interval of segment 0 is [0, 1).
ULAW_DECISIONS = []      # 127 lower bounds of the intervals 1..127
ULAW_OUTPUTS = []        # 128 decoder output values
for s in range(8):
    seg_start = 2 ** (s + 5) - 33          # end of the previous segment
    for k in range(16):
        if s or k:
            ULAW_DECISIONS.append(max(seg_start + k * 2 ** (s + 1), 1))
        ULAW_OUTPUTS.append(seg_start + k * 2 ** (s + 1) + 2 ** s)
ULAW_OUTPUTS[0] = 0

# A-law, 13-bit magnitudes (full scale 4096). Segments 0 and 1: 16 intervals of width 2 each;
# segment s >= 2: 16 intervals of width 2**s starting at 2**(s+4).
ALAW_DECISIONS = []
ALAW_OUTPUTS = []
for s in range(8):
    start, width = (0, 2) if s == 0 else (2 ** (s + 4), 2 ** max(s, 1))
    for k in range(16):
        if s or k:
            ALAW_DECISIONS.append(start + k * width)
        ALAW_OUTPUTS.append(start + k * width + width // 2)


def ulaw_encode(x):
    v = x >> 2
    mag = v if v >= 0 else -v - 1
    n = bisect.bisect_right(ULAW_DECISIONS, mag)        # 0..127
    return (0xFF - n) if v >= 0 else (0x7F - n)


def ulaw_decode(code):
    n = 0x7F - (code & 0x7F)
    y = ULAW_OUTPUTS[n] * 4
    return y if code & 0x80 else -y


def alaw_encode(x):
    v = x >> 3
    mag = v if v >= 0 else -v - 1
    n = bisect.bisect_right(ALAW_DECISIONS, mag)
    return ((0x80 | n) if v >= 0 else n) ^ 0x55


def alaw_decode(code):
    c = code ^ 0x55
    y = ALAW_OUTPUTS[c & 0x7F] * 8
    return y if c & 0x80 else -y


# G.711 Table 3 (mu -> A) and Table 4 (A -> mu), as printed: for magnitude rank i (0..127
# counted from the smallest), the other law's character number (Table 3 is 1-based).
TABLE3_U2A = [
    1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 10, 11, 12, 13, 14, 15, 16,
    17, 18, 19, 20, 21, 22, 23, 24, 25, 27, 29, 31, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42,
    43, 44, 46, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 64, 65, 66, 67,
    68, 69, 70, 71, 72, 73, 74, 75, 76, 77, 78, 79, 80, 82, 83, 84, 85, 86, 87, 88, 89, 90,
    91, 92, 93, 94, 95, 96, 97, 98, 99, 100, 101, 102, 103, 104, 105, 106, 107, 108, 109,
    110, 111, 112, 113, 114, 115, 116, 117, 118, 119, 120, 121, 122, 123, 124, 125, 126,
    127, 128,
]
TABLE4_A2U = [
    1, 3, 5, 7, 9, 11, 13, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30,
    31, 32, 32, 33, 33, 34, 34, 35, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48,
    48, 49, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63, 64, 64, 65, 66, 67,
    68, 69, 70, 71, 72, 73, 74, 75, 76, 77, 78, 79, 80, 80, 81, 82, 83, 84, 85, 86, 87, 88,
    89, 90, 91, 92, 93, 94, 95, 96, 97, 98, 99, 100, 101, 102, 103, 104, 105, 106, 107, 108,
    109, 110, 111, 112, 113, 114, 115, 116, 117, 118, 119, 120, 121, 122, 123, 124, 125,
    126, 127,
]


def ulaw_to_alaw(code):
    rank = 0x7F - (code & 0x7F)                 # mu-law magnitude rank
    a_rank = TABLE3_U2A[rank] - 1
    return ((0x80 | a_rank) if code & 0x80 else a_rank) ^ 0x55


def alaw_to_ulaw(code):
    c = code ^ 0x55
    u_rank = TABLE4_A2U[c & 0x7F]
    return (0xFF - u_rank) if c & 0x80 else (0x7F - u_rank)
