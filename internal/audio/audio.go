// Package audio converts and inspects telephone audio: G.711 A-law and µ-law, resampling
// to and from 8 kHz, WAV files, voice activity and end-of-turn detection, and a jitter
// buffer for RTP-like input. It is plain Go on sample slices and does no I/O of its own.
package audio
