package audio

// PCM16Decoder decodes little-endian 16-bit samples that arrive in pieces split anywhere,
// such as the reads of a streamed answer: a sample whose two bytes straddle two pieces is
// completed by the first byte of the next piece, so decoding in pieces gives the samples
// of decoding at once. The zero value is ready for use.
type PCM16Decoder struct {
	odd    byte
	hasOdd bool
}

// Decode appends to dst the samples that b completes and returns it; an odd last byte is
// kept for the next call.
func (d *PCM16Decoder) Decode(dst []int16, b []byte) []int16 {
	if d.hasOdd && len(b) > 0 {
		dst = append(dst, int16(uint16(d.odd)|uint16(b[0])<<8))
		b, d.hasOdd = b[1:], false
	}
	if len(b)%2 == 1 {
		d.odd, d.hasOdd = b[len(b)-1], true
	}
	return DecodePCM16(dst, b)
}
