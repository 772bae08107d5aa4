/*
 * voicedsp — internal (not public API): the turn detector's far-end reference given as an
 * energy instead of a frame, for the MediaBridge, which measures each downlink frame once as
 * it hands it out (while the frame is in cache) and keeps the measures, not the frames, until
 * the caller hears them.
 */
#ifndef VOICEDSP_TURN_REF_H
#define VOICEDSP_TURN_REF_H

#include <stddef.h>
#include <stdint.h>

#include "voicedsp/turn.h"

/* The reference measure of one downlink frame (vdsp_turn_frame_samples() samples), advancing
 * the reference's band filter: frames must come in the order they are played. silent = 1
 * says the frame is all zeros (then no work while the filter is at rest). */
double vdsp_turn_reference_energy(vdsp_turn *turn, const int16_t *downlink, int silent);

/* vdsp_turn_process with the downlink given as its reference measure (0: silence). */
int vdsp_turn_process_ref(vdsp_turn *turn, const int16_t *uplink, double downlink_energy,
                          size_t n_samples, vdsp_turn_event *events, size_t capacity);

#endif
