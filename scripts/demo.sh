#!/usr/bin/env bash
# Set everything up, then run the main job: `voicedsp demo`, a whole phone call on loopback —
# a scripted caller over the Twilio Media Streams protocol (pauses, a backchannel, a
# barge-in) -> the voicedsp MediaBridge -> a local Realtime-protocol speech model -> back —
# with a live timeline of turns and barges, recordings, events and a timeline plot in
# out/demo/. Extra arguments go to `voicedsp demo`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/setup.sh
voicedsp demo --out-dir out/demo "$@"
