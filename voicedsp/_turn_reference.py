"""Pure-Python reference of the C energy VAD and turn detector (csrc/vad.c, csrc/turn.c).

It follows the C code operation for operation (integer band energies, then the same double
arithmetic in the same order), so the tests run one body against both and expect identical
events. It is slow (tens of microseconds per frame); use :class:`voicedsp.TurnDetector`.

Times inside are in samples; events carry both samples and milliseconds.
"""

from __future__ import annotations

import math
from typing import NamedTuple

# --- tuning constants (mirrored by csrc/vad_core.h / csrc/turn.c) -----------------------
NF_DOWN = 0.5            # noise floor: fraction of the gap closed when a frame is below it
NF_UP_QUIET = 0.024      # noise floor growth per 20 ms on non-speech frames (x1.024)
NF_UP_SPEECH = 0.003     # ... on speech frames (so a step in noise is learnt eventually)
NF_MIN = 1.0             # noise floor never below this (digital silence)
NF_INIT_MS = 200         # the floor starts as the mean of the first frames this long,
NF_INIT_JUMP = 10.0      # ... leaving out frames this much (10 dB) above it (speech)
ABS_MIN_ENERGY = 144.0   # band energy per sample below which nothing is speech (~-56 dBFS)
ONSET_MS = 40            # consecutive raw speech that opens a segment
BRIDGE_MS = 100          # raw-speech gaps up to this long stay inside one segment
PRE_MS = 0               # VAD segment start is back-dated by this much
POST_MS = 20             # ... and its end extended by this much plus POST_TAIL x the hidden tail
POST_TAIL = 0.75
AGENT_ACTIVE_ENERGY = 900.0   # downlink band energy per sample that counts as agent audio
AGENT_HANG_MS = 300      # the agent stays "audible" this long after its last active frame
ECHO_XC_DECAY = 0.998    # cross-correlation memory per 20 ms
ECHO_MIN_FRAMES = 10      # downlink-active 20 ms frames before the delay is trusted
ECHO_DECAY_DB = 2.0      # assumed decay of the echo tail per 20 ms (room reverberation)
ECHO_Q = 0.9             # quantile of the echo-to-downlink ratio taken as the echo gain
ECHO_G0_DB = -3.0        # prior echo gain (ERL 3 dB) before anything was learnt
ECHO_ETA0_DB = 4.0       # gain tracker step during the first ECHO_FAST_FRAMES
ECHO_ETA_DB = 0.4        # gain tracker step afterwards
ECHO_FAST_FRAMES = 50     # ... then this many 20 ms frames of fast gain tracking
ECHO_TRUNC_DB = 6.0      # frames this far above the echo estimate do not train it (double talk)
ECHO_PULL_DB = 6.0       # frames this far below it pull it down ECHO_PULL times faster
ECHO_PULL = 4.0
ECHO_NOISE_FRAC = 0.7    # an uplink excess over the noise floor under this fraction of the
                         # floor is the noise's own spread: it does not step an echo gain up
ECHO_G_MIN_DB = -50.0    # echo gains never fall below this (bounds the climb back)
ECHO_RING = 64
PEAK_REL_DB = 40.0       # within a turn, energy this far under its peak is not speech
MASK_AFTER_MS = 40       # the masking level is taken up to this long after speech stops
BARGE_GAP_MS = 220        # a barge-in candidate survives silences up to this long
BARGED_SPEECH_NUM = 4    # a turn with a confirmed barge-in commits on this fraction of
BARGED_SPEECH_DEN = 5    # response_min_speech (the echo estimate hides part of its speech)
ECHO_TRAIN_FRAC = 0.2    # train the gain only where the delayed downlink drives the echo
TAIL_REF_DB = 33.0       # speech ends this far below its peak; quieter tails drown in noise
TAIL_MS_PER_DB = 9.0     # silence timer extended per dB the noise floor hides of that tail
TAIL_MAX_MS = 300
LEVEL_BACK_MS = 60       # the speech level this long before the last speech frame, dB over
LEVEL_REF_DB = 3.6       # the masking level, against this: a sudden drop into the noise (high)
LEVEL_MS_PER_DB = 8.0    # hides more speech than a fade (low); this much silence per dB
LEVEL_RING = 8           # power of two, > LEVEL_BACK_MS / 10 ms
ECHO_MARGIN_DB = 3.0     # uplink must exceed noise + echo estimate x this to be speech
ECHO_TIGHT_DB = 5.0      # tight echo model: echo-tail decay per 20 ms
ECHO_CAP_DB = 6.0        # its gain stays within this above the conservative model's
ECHO_FIT_DB = 6.0        # an estimate explains an uplink frame within this of it
ECHO_FIT_DECAY = 0.98    # memory (per 20 ms) of the share of frames each model explains
ECHO_FIT_MARGIN = 0.1    # the tight model is used alone while its share is this higher
ECHO_XC_CLIP_DB = 10.0   # the delay search counts an uplink frame as at most this over the
                         # noise floor + the largest echo the downlink can cause ...
ECHO_XC_AUDIBLE_DB = 6.0  # ... on a leg whose echo can be this far over the noise floor
ECHO_DT_DECAY = 0.9      # double-talk detector: memory (per 20 ms) of the envelope correlation
ECHO_DT_MS = 160         # ... of the uplink with the echo estimate, trusted after this long
ECHO_DT_CORR = 0.3       # ... with the echo audible; double talk while it is under this,
ECHO_DT_MARGIN_DB = 1.5  # ... and then the gate's echo margin (the estimate's other uses keep 3 dB)
ECHO_HOLD_DB = 12.0      # the noise floor does not rise while the echo the gate discounts
                         # (estimate x margin) is this far above it (the agent's energy)
LOW_WIN_MS = 600         # low band (~100-700 Hz) energies kept this long after the last speech
                         # frame of a turn whose tail the noise hides (not computed otherwise)
LOW_EXT_MS = 300         # a tail heard in the low band is looked for up to this long,
LOW_THR_DB = 3.0         # ... as frames this far above the median of the kept frames,
LOW_GAP = 2              # ... gaps of up to this many frames bridged;
LOW_WAIT_MS = 20         # the turn ends no earlier than silence + this after that tail
LOW_RING = 64            # power of two, >= LOW_WIN_MS / 10 ms
LOW_CLEAR_DB = 7.0       # the kept frames' median within this of the noise floor (A + B): a
                         # flat (white-like) noise leaves the low band clear, and a clear low
LOW_QUIET_MS = 60        # band that hears no tail shortens the hidden-tail wait by this much

SPEECH_START, SPEECH_END, TURN_COMMIT, BACKCHANNEL, BARGE_IN, BARGE_CANDIDATE, \
    BARGE_REJECTED = range(7)
EVENT_NAMES = ("speech_start", "speech_end", "turn_commit", "backchannel", "barge_in",
               "barge_candidate", "barge_rejected")

RATES = (8000, 16000, 24000, 48000)
FRAMES_MS = (10, 20, 30)


class RefEvent(NamedTuple):
    type: str
    t_samples: int
    ref_samples: int
    start_samples: int


def band_energies(x, hist, dec):
    """Band energies (A: ~300-2500 Hz, B: ~1-3.8 kHz) per 8 kHz sample of one frame.

    `x` is a sequence of ints, `hist` the last three decimated samples of the previous frame
    (updated in place), `dec` the box decimation factor (rate / 8000).
    """
    sa, sb, norm = _band_sums(x, hist, dec)
    return sa / norm, sb / norm


def band_energy_total(x, hist, dec):
    """Both band energies as one number, the sums added as integers (the far-end reference):
    (sum a^2 + sum b^2) / norm, as vdsp_band_energy_total."""
    sa, sb, norm = _band_sums(x, hist, dec)
    return (sa + sb) / norm


def _band_sums(x, hist, dec):
    n = len(x) // dec
    h1, h2, h3 = hist
    sa = sb = 0
    for i in range(n):
        s = 0
        for j in range(i * dec, i * dec + dec):
            s += x[j]
        a = s + h1 - h2 - h3
        b = s - h1 - h2 + h3
        sa += a * a
        sb += b * b
        h3, h2, h1 = h2, h1, s
    hist[0], hist[1], hist[2] = h1, h2, h3
    return sa, sb, float(n * dec * dec)


def low_band_energy(x, dec):
    """Mean energy of a ~100-700 Hz band of one frame: y = d0 + .. + d7 - d8 - .. - d15 over
    the frame's decimated samples d (no history: the first 15 outputs are left out)."""
    n = len(x) // dec
    d = [sum(x[i * dec:(i + 1) * dec]) for i in range(n)]
    s = 0
    for i in range(15, n):
        y = sum(d[i - 7:i + 1]) - sum(d[i - 15:i - 7])
        s += y * y
    return s / float((n - 15) * dec * dec)


def _smooth(e, pe):
    """10 ms frames: decide on a sliding 20 ms window (two frames), as for 20 ms frames."""
    if pe is None:
        return e
    return ((e[0] + pe[0]) * 0.5, (e[1] + pe[1]) * 0.5)


class _VadCore:
    """Adaptive noise floor per band plus hysteresis (mirrors vdsp_vad_core)."""

    def __init__(self, frame_ms, threshold_db, release_db):
        f = frame_ms / 20.0
        self.up_quiet = 1.0 + NF_UP_QUIET * f
        self.up_speech = 1.0 + NF_UP_SPEECH * f
        self.on = 10.0 ** (threshold_db / 10.0)
        self.off2 = 2.0 * 10.0 ** (release_db / 10.0)
        self.init_frames = NF_INIT_MS // frame_ms
        self.reset()

    def reset(self):
        self.nf = [0.0, 0.0]
        self.prev = [0.0, 0.0]
        self.primed = False
        self.state = False
        self.n_init = 0
        self.n_used = 0

    def decide(self, e, extra):
        """Raw speech decision for band energies `e` with `extra` energy (echo) to discount."""
        nf = self.nf
        if not self.primed:
            nf[0] = e[0] if e[0] > 1.0 else 1.0
            nf[1] = e[1] if e[1] > 1.0 else 1.0
            self.primed = True
        if self.state:
            # continuing speech: two-frame energy against a lower (release) threshold
            r0 = (e[0] + self.prev[0]) / nf[0]
            r1 = (e[1] + self.prev[1]) / nf[1]
            raw = r0 > self.off2 or r1 > self.off2
        else:
            raw = e[0] > self.on * nf[0] or e[1] > self.on * nf[1]
        tot = e[0] + e[1]
        if raw and tot <= ABS_MIN_ENERGY:
            raw = False
        if raw and extra > 0.0 and tot <= nf[0] + nf[1] + extra:
            raw = False
        self.prev[0] = e[0]
        self.prev[1] = e[1]
        return raw

    def update(self, e, raw, hold=False):
        """Noise-floor update; with `hold` the floor may fall but not rise."""
        nf = self.nf
        if self.n_init < self.init_frames:
            # start of the stream: the floor is the running mean of the frames so far (not
            # those far above it: speech), so one quiet first frame cannot leave it low
            self.n_init += 1
            if e[0] + e[1] <= (nf[0] + nf[1]) * NF_INIT_JUMP:
                self.n_used += 1
                for b in (0, 1):
                    nf[b] += (e[b] - nf[b]) / self.n_used
                    if nf[b] < NF_MIN:
                        nf[b] = NF_MIN
            self.state = raw
            return
        for b in (0, 1):
            x = e[b]
            if x < nf[b]:
                nf[b] += NF_DOWN * (x - nf[b])
                if nf[b] < NF_MIN:
                    nf[b] = NF_MIN
            elif hold:
                pass
            elif not raw:
                y = nf[b] * self.up_quiet
                nf[b] = y if y < x else x
            else:
                nf[b] *= self.up_speech
        self.state = raw


class VadReference:
    """Reference of :class:`voicedsp.Vad`: one bool per frame."""

    def __init__(self, sample_rate_hz=8000, frame_ms=20, threshold_db=3.0, release_db=1.0):
        self.dec = sample_rate_hz // 8000
        self.n = sample_rate_hz * frame_ms // 1000
        self.core = _VadCore(frame_ms, threshold_db, release_db)
        self.smooth = frame_ms < 20
        self.reset()

    def reset(self):
        self.core.reset()
        self.hist = [0, 0, 0]
        self.pe = None

    def process(self, frame):
        e = band_energies(frame, self.hist, self.dec)
        if self.smooth:
            e, self.pe = _smooth(e, self.pe), e
        raw = self.core.decide(e, 0.0)
        self.core.update(e, raw)
        return raw


class TurnReference:
    """Reference of :class:`voicedsp.TurnDetector` (same knobs, same events)."""

    def __init__(self, sample_rate_hz=8000, frame_ms=20, *, silence_threshold_ms=500,
                 response_min_speech_ms=600, commit_min_interval_ms=1500, barge_confirm_ms=300,
                 instant_barge=False, mic_guard_ms=0, prefix_padding_ms=300,
                 vad_threshold_db=3.0, vad_release_db=1.0, echo_gating=True,
                 echo_max_delay_ms=300):
        self.rate = sample_rate_hz
        self.dec = sample_rate_hz // 8000
        self.n = sample_rate_hz * frame_ms // 1000
        ms = lambda v: int(v) * sample_rate_hz // 1000  # noqa: E731
        self.silence = ms(silence_threshold_ms)
        self.min_speech = ms(response_min_speech_ms)
        self.min_speech_barged = self.min_speech * BARGED_SPEECH_NUM // BARGED_SPEECH_DEN
        self.interval = ms(commit_min_interval_ms)
        self.confirm = ms(barge_confirm_ms)
        self.instant = bool(instant_barge)
        self.guard = ms(mic_guard_ms)
        self.prefix = ms(prefix_padding_ms)
        self.onset = ms(ONSET_MS)
        self.bridge = ms(BRIDGE_MS)
        self.pre = ms(PRE_MS)
        self.post = ms(POST_MS)
        self.agent_hang = ms(AGENT_HANG_MS)
        self.barge_gap = ms(BARGE_GAP_MS)
        self.mask_after = ms(MASK_AFTER_MS)
        self.peak_rel = 10.0 ** (-PEAK_REL_DB / 10.0)
        self.gating = bool(echo_gating)
        f = frame_ms / 20.0
        self.lags = int(echo_max_delay_ms) // frame_ms + 1
        self.xc_decay = ECHO_XC_DECAY ** f
        self.rho = 10.0 ** (-ECHO_DECAY_DB * f / 10.0)
        self.rho_t = 10.0 ** (-ECHO_TIGHT_DB * f / 10.0)
        self.fit_a = ECHO_FIT_DECAY ** f
        self.fit_b = 1.0 - self.fit_a
        self.dt_b = ECHO_DT_DECAY ** f
        self.dt_a = 1.0 - self.dt_b
        self.dt_min = ECHO_DT_MS // frame_ms
        self.dt_margin = 10.0 ** (ECHO_DT_MARGIN_DB / 10.0)
        # steps per frame and frame counts scale with the frame length (rates per second fixed)
        eta0, eta = ECHO_ETA0_DB * f, ECHO_ETA_DB * f
        self.g_up_fast = 10.0 ** (eta0 * ECHO_Q / 10.0)
        self.g_dn_fast = 10.0 ** (-eta0 * (1.0 - ECHO_Q) / 10.0)
        self.g_up = 10.0 ** (eta * ECHO_Q / 10.0)
        self.g_dn = 10.0 ** (-eta * (1.0 - ECHO_Q) / 10.0)
        self.g_dn_pull_fast = 10.0 ** (-eta0 * (1.0 - ECHO_Q) * ECHO_PULL / 10.0)
        self.g_dn_pull = 10.0 ** (-eta * (1.0 - ECHO_Q) * ECHO_PULL / 10.0)
        self.min_frames = max(int(ECHO_MIN_FRAMES * 20 // frame_ms), ECHO_MIN_FRAMES)
        self.fast_frames = int(ECHO_FAST_FRAMES * 20 // frame_ms)
        self.trunc = 10.0 ** (ECHO_TRUNC_DB / 10.0)
        self.pull = 10.0 ** (-ECHO_PULL_DB / 10.0)
        self.g0 = 10.0 ** (ECHO_G0_DB / 10.0)
        self.g_min = 10.0 ** (ECHO_G_MIN_DB / 10.0)
        self.margin = 10.0 ** (ECHO_MARGIN_DB / 10.0)
        self.hold = 10.0 ** (ECHO_HOLD_DB / 10.0)
        self.cap = 10.0 ** (ECHO_CAP_DB / 10.0)
        self.xc_clip = 10.0 ** (ECHO_XC_CLIP_DB / 10.0)
        self.xc_audible = 10.0 ** (ECHO_XC_AUDIBLE_DB / 10.0)
        self.fit_w = 10.0 ** (ECHO_FIT_DB / 10.0)
        self.tail_max = ms(TAIL_MAX_MS)
        self.tail_per_db = TAIL_MS_PER_DB * sample_rate_hz / 1000.0
        self.level_per_db = LEVEL_MS_PER_DB * sample_rate_hz / 1000.0
        self.level_back = LEVEL_BACK_MS // frame_ms
        self.low_win = LOW_WIN_MS // frame_ms
        self.low_ext = LOW_EXT_MS // frame_ms
        self.low_thr = 10.0 ** (LOW_THR_DB / 10.0)
        self.low_wait_extra = ms(LOW_WAIT_MS)
        self.low_clear_ratio = 10.0 ** (LOW_CLEAR_DB / 10.0)
        self.low_quiet = ms(LOW_QUIET_MS)
        self.low_vis = 10.0 ** (TAIL_REF_DB / 10.0)
        self.core = _VadCore(frame_ms, vad_threshold_db, vad_release_db)
        self.smooth = frame_ms < 20
        self.reset()

    def reset(self):
        self.core.reset()
        self.uh = [0, 0, 0]
        self.dh = [0, 0, 0]
        self.pe = None
        self.pdt = 0.0
        self.t = 0
        self.ring = [0.0] * ECHO_RING
        self.xc = [0.0] * self.lags
        self.n_echo = 0
        self.g = self.g0
        self.env = 0.0
        self.g_t = self.g0                      # tight model: fractional delay, fast tail
        self.env_t = 0.0
        self.fit_c = 0.0                        # share of recent echo frames each model explains
        self.fit_t = 0.0
        self.dt_mx = self.dt_my = 0.0           # double talk: envelopes' running means
        self.dt_xx = self.dt_yy = self.dt_xy = 0.0  # ... and (co)variances
        self.dt_n = 0                           # frames in a row with the echo audible
        self.agent_on = False
        self.last_agent = 0
        self.agent_seen = False
        self.seg_open = False
        self.seg_confirmed = False
        self.seg_start = 0
        self.seg_raw = 0
        self.last_raw_end = 0
        self.last_speech = 0          # end of the last raw frame of a confirmed segment
        self.last_end_ref = 0
        self.turn_open = False
        self.turn_start = 0
        self.turn_peak = 0.0
        self.mask_end = 0.0
        self.lvl = [0.0] * LEVEL_RING
        self.pre_end = 0.0
        self.end_extra = 0.0
        self.end_echo = False
        self.low = [0.0] * LOW_RING
        self.low_n = 0
        self.low_wait = -1
        self.low_clear = False
        self.last_commit = None
        self.barged = False
        self.cand = None
        self.cand_last = 0            # end of the candidate's last speech frame (raw or raw_lo)
        self.k = 0

    # -- per frame -------------------------------------------------------------------------
    def process(self, uplink, downlink=None):
        e = band_energies(uplink, self.uh, self.dec)
        if downlink is not None:
            dt = band_energy_total(downlink, self.dh, self.dec)
        else:
            dt = 0.0
        if self.smooth:
            e, self.pe = _smooth(e, self.pe), e
            dt, self.pdt = (dt + self.pdt) * 0.5, dt
        return self.process_energies(e, dt, lambda: low_band_energy(uplink, self.dec))

    def process_energies(self, e, dt, low=None):
        """One frame from its uplink band energies and downlink energy (the tests' hook);
        `low` gives the frame's low-band energy when asked (a callable or a number)."""
        ev = []
        t0 = self.t
        t1 = t0 + self.n
        self.t = t1
        self.k += 1
        agent_now = dt > AGENT_ACTIVE_ENERGY
        if agent_now:
            self.agent_on = True
            self.last_agent = t1
            self.agent_seen = True
        elif self.agent_on and t1 - self.last_agent >= self.agent_hang:
            self.agent_on = False
        extra = gate = gate_lo = 0.0
        if self.gating:
            # a lower gate margin in double talk; what masks a tail and what holds the noise
            # floor keep the full margin (the echo is as loud as before)
            est = self._echo(e, dt)
            extra = est * self.margin
            dtalk = self._double_talk(e, est)
            gate = est * self.dt_margin if dtalk else extra
            gate_lo = self._cand_gate(gate, dtalk)
        raw_lo = self.core.decide(e, gate_lo)
        raw = raw_lo
        if raw and gate > gate_lo and e[0] + e[1] <= self.core.nf[0] + self.core.nf[1] + gate:
            raw = False                         # under the gate's full estimate
        if raw_lo and e[0] + e[1] < self.turn_peak * self.peak_rel:
            raw = raw_lo = False                # a tail this far under the turn's peak is over
        if raw_lo and self.guard > 0 and not agent_now and self.agent_seen \
                and t0 < self.last_agent + self.guard:
            raw = raw_lo = False
        self.core.update(e, raw, extra > self.hold * (self.core.nf[0] + self.core.nf[1]))
        self.lvl[self.k % LEVEL_RING] = e[0] + e[1]
        if raw:
            # the level a little before the last speech frame, and whether echo masked it
            self.pre_end = self.lvl[(self.k - self.level_back) % LEVEL_RING]
            self.end_extra = extra
            # echo over the noise floor, not the line noise, masks the end
            self.end_echo = extra > self.core.nf[0] + self.core.nf[1]
        if raw:
            self.mask_end = self.core.nf[0] + self.core.nf[1] + extra
        elif t0 - self.last_raw_end < self.mask_after:
            # what hides a tail is the masking level just after the last speech heard
            m = self.core.nf[0] + self.core.nf[1] + extra
            if m > self.mask_end:
                self.mask_end = m
        if raw and self.seg_confirmed:
            tot = e[0] + e[1]
            if tot > self.turn_peak:
                self.turn_peak = tot
        if raw:
            self.low_n = 0
            self.low_wait = -1
        elif self.turn_open and low is not None and self.low_n < self.low_win \
                and self.low_wait < 0 and not self.end_echo \
                and self.turn_peak < self.mask_end * self.low_vis \
                and t0 - self.last_raw_end == self.low_n * self.n:
            # after the last speech frame of a turn whose tail the noise hides: keep the
            # low band, where a voiced tail's fundamental and first formant stay audible
            # (also while an echo estimate under the noise floor, not the echo, masks it)
            self.low[self.low_n] = low() if callable(low) else low
            self.low_n += 1
        self._segments(ev, raw, t0, t1, raw_lo)
        return ev

    def _cand_gate(self, gate, dtalk):
        """The gate a pending barge-in candidate's speech is also looked for over: on a frame
        the double-talk detector flags (only ever over an audible echo, see _double_talk),
        the smaller of the two models' estimates x the double-talk margin (the conservative
        model's slow tail and widened delay overstate the echo between the agent's syllables,
        where a caller talking over it is heard); else the gate. Frames not flagged keep the
        gate: the echo's own frames over the smaller estimate would hold a candidate the echo
        opened."""
        if not dtalk or self.cand is None:
            return gate
        ec = self.env * self.g
        et = self.env_t * self.g_t
        return (ec if ec < et else et) * self.dt_margin

    def _train(self, g, env, ue):
        """One step of an echo model's gain tracker (ECHO_Q quantile of uplink / envelope)."""
        ge = g * env
        fast = self.n_echo < self.min_frames + self.fast_frames
        if ue > ge * self.trunc:
            pass                                        # double talk: do not learn
        elif ue > ge:
            # an excess this small over the floor is the line noise's own spread, not echo:
            # counted, it held the estimate at about the floor (the gate counted noise twice)
            if ue >= ECHO_NOISE_FRAC * (self.core.nf[0] + self.core.nf[1]):
                g *= self.g_up_fast if fast else self.g_up
        elif ue < ge * self.pull:
            g *= self.g_dn_pull_fast if fast else self.g_dn_pull
        else:
            g *= self.g_dn_fast if fast else self.g_dn
        if g < self.g_min:
            return self.g_min
        return 1.0 if g > 1.0 else g

    def _echo_out(self):
        # the tight model alone while it explains clearly more echo frames, else the larger
        ec = self.env * self.g
        et = self.env_t * self.g_t
        if self.fit_t > self.fit_c + ECHO_FIT_MARGIN:
            return et
        return ec if ec > et else et

    def _echo(self, e, dt):
        # two models share the delay estimate: a conservative one (max of the three frames
        # around the delay, slow tail) and a tight one (fractional delay, fast tail); the
        # tight gain is capped above the conservative one, and used alone only where it fits
        k = self.k
        ring = self.ring
        ring[k % ECHO_RING] = dt
        recent = 0.0
        for j in range(self.lags + 1):
            v = ring[(k - j) % ECHO_RING]
            if v > recent:
                recent = v
        if recent <= AGENT_ACTIVE_ENERGY and self.env <= AGENT_ACTIVE_ENERGY \
                and self.env_t <= AGENT_ACTIVE_ENERGY:
            self.env = self.env * self.rho if self.env > 1e-3 else 0.0
            self.env_t = self.env_t * self.rho_t if self.env_t > 1e-3 else 0.0
            return self._echo_out()
        ut = e[0] + e[1]
        if recent > AGENT_ACTIVE_ENERGY:
            # double talk must not pull the delay: where the echo can be audible, a frame
            # counts as at most xc_clip x (floor + the largest echo the downlink can cause)
            nf = self.core.nf[0] + self.core.nf[1]
            pot = recent * self.g
            if self.core.primed and pot > nf * self.xc_audible \
                    and ut > (nf + pot) * self.xc_clip:
                su = math.sqrt((nf + pot) * self.xc_clip)
            else:
                su = math.sqrt(ut)
            xc = self.xc
            for lag in range(self.lags):
                xc[lag] = self.xc_decay * xc[lag] + su * math.sqrt(ring[(k - lag) % ECHO_RING])
            self.n_echo += 1
        if self.n_echo >= self.min_frames:
            best = 0
            xc = self.xc
            for lag in range(1, self.lags):
                if xc[lag] > xc[best]:
                    best = lag
            d0 = ring[(k - best) % ECHO_RING]
            dm = ring[(k - best + 1) % ECHO_RING] if best > 0 else 0.0
            dp = ring[(k - best - 1) % ECHO_RING]
            drive = d0
            if dm > drive:
                drive = dm
            if dp > drive:
                drive = dp
            # the delay refined to a fraction of a frame: a parabola through the peak
            a = xc[best - 1] if best > 0 else xc[best]
            c = xc[best + 1] if best + 1 < self.lags else xc[best]
            den = a - 2.0 * xc[best] + c
            delta = 0.5 * (a - c) / den if den < 0.0 else 0.0
            if delta >= 0.0:
                drive_t = (1.0 - delta) * d0 + delta * dp
            else:
                drive_t = (1.0 + delta) * d0 - delta * dm
        else:
            drive = drive_t = recent
        self.env = drive + self.env * self.rho
        self.env_t = drive_t + self.env_t * self.rho_t
        if self.core.primed and self.n_echo >= self.min_frames \
                and self.cand is None:          # no learning during a barge-in candidate
            ue = ut - (self.core.nf[0] + self.core.nf[1])
            if self.env > AGENT_ACTIVE_ENERGY and drive > self.env * ECHO_TRAIN_FRAC:
                # where the delayed downlink drives the echo: which model explains the frame
                ec = self.g * self.env
                et = self.g_t * self.env_t
                w = self.fit_w
                self.fit_c = self.fit_a * self.fit_c + (self.fit_b if ec / w < ue < ec * w
                                                        else 0.0)
                self.fit_t = self.fit_a * self.fit_t + (self.fit_b if et / w < ue < et * w
                                                        else 0.0)
                self.g = self._train(self.g, self.env, ue)
            if self.env_t > AGENT_ACTIVE_ENERGY and drive_t > self.env_t * ECHO_TRAIN_FRAC:
                self.g_t = self._train(self.g_t, self.env_t, ue)
            if self.g_t > self.g * self.cap:
                self.g_t = self.g * self.cap
        return self._echo_out()

    def _double_talk(self, e, est):
        """Whether the uplink's envelope stopped following the echo estimate's (a caller near
        the echo's level): running means, variances and covariance of the fourth roots of the
        uplink energy and of estimate + floor over the frames where the echo is audible."""
        nf = self.core.nf[0] + self.core.nf[1]
        if self.n_echo < self.min_frames + self.fast_frames or est <= nf * self.xc_audible:
            self.dt_n = 0
            return False
        x = math.sqrt(math.sqrt(e[0] + e[1]))
        y = math.sqrt(math.sqrt(est + nf))
        if self.dt_n == 0:
            self.dt_mx = x
            self.dt_my = y
            self.dt_xx = self.dt_yy = self.dt_xy = 0.0
        else:
            dx = x - self.dt_mx
            dy = y - self.dt_my
            self.dt_mx += self.dt_a * dx
            self.dt_my += self.dt_a * dy
            self.dt_xx = self.dt_b * (self.dt_xx + self.dt_a * dx * dx)
            self.dt_yy = self.dt_b * (self.dt_yy + self.dt_a * dy * dy)
            self.dt_xy = self.dt_b * (self.dt_xy + self.dt_a * dx * dy)
        if self.dt_n < self.dt_min:
            self.dt_n += 1
        if self.dt_n < self.dt_min:
            return False
        return self.dt_xy < 0.0 or \
            self.dt_xy * self.dt_xy < ECHO_DT_CORR * ECHO_DT_CORR * self.dt_xx * self.dt_yy

    def _segments(self, ev, raw, t0, t1, raw_lo):
        if raw:
            # a new segment after a long gap; an unconfirmed one restarts at any gap (the
            # onset must be ONSET_MS of consecutive speech frames)
            if not self.seg_open or t0 - self.last_raw_end > self.bridge or \
                    (not self.seg_confirmed and t0 > self.last_raw_end):
                if self.seg_open:
                    self._end_segment(ev, t1)
                self.seg_open = True
                self.seg_confirmed = False
                self.seg_start = t0
                self.seg_raw = 0
            self.seg_raw += self.n
            self.last_raw_end = t1
            if not self.seg_confirmed:
                if self.seg_raw >= self.onset:
                    self.seg_confirmed = True
                    start = self.seg_start - self.pre
                    if start < self.last_end_ref:
                        start = self.last_end_ref      # segments never overlap
                    ev.append(RefEvent("speech_start", t1, start, start))
                    self._onset(ev, t1)
            if self.seg_confirmed:
                self.last_speech = t1
        elif self.seg_open and t1 - self.last_raw_end > self.bridge:
            self._end_segment(ev, t1)
        # a candidate is held and confirmed on speech over the gate, or in double talk over
        # the smaller echo model (raw_lo)
        if self.cand is not None and raw_lo:
            self.cand_last = t1
        if self.cand is not None and not raw and t1 - self.cand_last > self.barge_gap:
            ev.append(RefEvent("barge_rejected", t1, self.cand, self.cand))
            self.cand = None
        if self.cand is not None and raw_lo and t1 - self.cand >= self.confirm:
            self.barged = True
            ev.append(RefEvent("barge_in", t1, self.cand, self.cand))
            self.cand = None
        if self.turn_open and t1 - self.last_raw_end >= self.silence:
            wait = self._tail()
            if self.low_n > 0:
                if self.low_wait < 0:
                    self._low_decide()
                if self.low_clear and self.low_wait == 0:
                    # the low band was clear and heard nothing: no voiced tail went on under
                    # the noise, and the level-based guess waits too long
                    wait = wait - self.low_quiet if wait > self.low_quiet else 0
                if self.low_wait > wait:
                    wait = self.low_wait        # the low band heard the tail go on
            if t1 - self.last_raw_end < self.silence + wait:
                return
            # speech held over the agent for barge_confirm_ms already showed a real turn, and
            # the echo estimate hides part of it (often the end): it needs less heard speech
            need = self.min_speech_barged if self.barged else self.min_speech
            if self.last_speech - self.turn_start >= need:
                if self.last_commit is None or t1 - self.last_commit >= self.interval:
                    ev.append(RefEvent("turn_commit", t1, self.last_raw_end, self._turn_audio()))
                    self.last_commit = t1
                    self._close_turn()
            else:
                ev.append(RefEvent("backchannel", t1, self.last_raw_end, self._turn_audio()))
                self._close_turn()

    def _onset(self, ev, t1):
        if not self.turn_open:
            self.turn_open = True
            self.turn_start = self.seg_start
            self.barged = False
        if self.agent_on and not self.barged and self.cand is None:
            if self.instant:
                self.barged = True
                ev.append(RefEvent("barge_in", t1, self.seg_start, self.seg_start))
            else:
                self.cand = self.seg_start
                self.cand_last = t1
                ev.append(RefEvent("barge_candidate", t1, self.seg_start, self.seg_start))

    def _end_segment(self, ev, t1):
        if self.seg_confirmed:
            self.last_end_ref = self.last_raw_end + self.post + int(self._tail() * POST_TAIL)
            ev.append(RefEvent("speech_end", t1, self.last_end_ref, self.last_end_ref))
        self.seg_open = False
        self.seg_confirmed = False

    def _tail(self):
        # how much of the speech's decay the noise floor hid, as extra silence to wait
        floor = self.mask_end
        if self.turn_peak <= floor:
            return 0
        hidden = TAIL_REF_DB - 10.0 * math.log10(self.turn_peak / floor)
        if hidden <= 0.0:
            return 0
        tail = hidden * self.tail_per_db
        if self.end_extra == 0.0 and self.pre_end > 0.0:
            # masked by noise (not echo): a level still high just before the speech was lost
            # means it dropped into the noise mid-word, a low one that it faded out
            tail += self.level_per_db * (10.0 * math.log10(self.pre_end / floor) - LEVEL_REF_DB)
            if tail <= 0.0:
                return 0
        tail = int(tail)
        return tail if tail < self.tail_max else self.tail_max

    def _low_decide(self):
        # a tail the low band still hears over the median of the frames kept since the last
        # speech frame (most of them noise): the silence is counted from its end; and whether
        # that median is near the noise floor of bands A + B (the low band was clear)
        v = sorted(self.low[:self.low_n])
        med = v[self.low_n // 2]
        self.low_clear = med <= (self.core.nf[0] + self.core.nf[1]) * self.low_clear_ratio
        thr = med * self.low_thr
        last, gap = -1, 0
        for i in range(min(self.low_n, self.low_ext)):
            if self.low[i] > thr:
                last, gap = i, 0
            else:
                gap += 1
                if gap > LOW_GAP:
                    break
        self.low_wait = (last + 1) * self.n + self.low_wait_extra if last >= 0 else 0

    def _turn_audio(self):
        s = self.turn_start - self.prefix
        return s if s > 0 else 0

    def _close_turn(self):
        self.turn_open = False
        self.turn_peak = 0.0
        self.barged = False
