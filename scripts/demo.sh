#!/usr/bin/env bash
# Set everything up, then run the main job. Today that is the G.711 round trip of a
# synthesized phone utterance: `voicedsp g711` encodes it to mu-law and A-law and back and
# reports size, SNR and speed; the files land in out/. (It grows into the full call demo.)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/setup.sh
mkdir -p out
espeak-ng -w out/speech.wav "Thank you for calling. How can I help you today?"
sox out/speech.wav -r 8000 -c 1 -b 16 out/speech-8k.wav
voicedsp g711 out/speech-8k.wav --law ulaw --out-dir out
voicedsp g711 out/speech-8k.wav --law alaw --out-dir out
