package audio

// G.711 as specified by ITU-T G.711 and implemented by its reference software (ITU-T
// G.191, g711.c): A-law works on the 13 most significant bits of a 16-bit sample, µ-law
// on the 14 most significant; negative samples are taken in one's complement before they
// are quantised, as the reference does. Both directions are table lookups; the tables are
// built once from the reference algorithm (alawEncodeRef and friends), which the tests
// check value by value.

var (
	alawDecodeTable [256]int16
	ulawDecodeTable [256]int16
	alawEncodeTable [1 << 13]uint8 // indexed by the sample >> 3 (13-bit two's complement)
	ulawEncodeTable [1 << 14]uint8 // indexed by the sample >> 2 (14-bit two's complement)
)

func init() {
	for c := 0; c < 256; c++ {
		alawDecodeTable[c] = alawDecodeRef(uint8(c))
		ulawDecodeTable[c] = ulawDecodeRef(uint8(c))
	}
	for i := range alawEncodeTable {
		s := int16(i << 3) // the lowest sample of this index (sign bit of the 13-bit index included)
		alawEncodeTable[i] = alawEncodeRef(s)
	}
	for i := range ulawEncodeTable {
		s := int16(i << 2)
		ulawEncodeTable[i] = ulawEncodeRef(s)
	}
}

// ALawEncode encodes one sample.
func ALawEncode(s int16) uint8 { return alawEncodeTable[uint16(s)>>3] }

// ALawDecode decodes one A-law byte.
func ALawDecode(c uint8) int16 { return alawDecodeTable[c] }

// ULawEncode encodes one sample.
func ULawEncode(s int16) uint8 { return ulawEncodeTable[uint16(s)>>2] }

// ULawDecode decodes one µ-law byte.
func ULawDecode(c uint8) int16 { return ulawDecodeTable[c] }

// EncodeALaw appends the A-law encoding of pcm to dst and returns it.
func EncodeALaw(dst []byte, pcm []int16) []byte {
	for _, s := range pcm {
		dst = append(dst, alawEncodeTable[uint16(s)>>3])
	}
	return dst
}

// DecodeALaw appends the samples of the A-law bytes in to dst and returns it.
func DecodeALaw(dst []int16, in []byte) []int16 {
	for _, c := range in {
		dst = append(dst, alawDecodeTable[c])
	}
	return dst
}

// EncodeULaw appends the µ-law encoding of pcm to dst and returns it.
func EncodeULaw(dst []byte, pcm []int16) []byte {
	for _, s := range pcm {
		dst = append(dst, ulawEncodeTable[uint16(s)>>2])
	}
	return dst
}

// DecodeULaw appends the samples of the µ-law bytes in to dst and returns it.
func DecodeULaw(dst []int16, in []byte) []int16 {
	for _, c := range in {
		dst = append(dst, ulawDecodeTable[c])
	}
	return dst
}

// alawEncodeRef is G.191's alaw_compress for one sample.
func alawEncodeRef(x int16) uint8 {
	var ix int32
	if x < 0 {
		ix = int32(^x) >> 4 // one's complement; 0 <= ix < 2048
	} else {
		ix = int32(x) >> 4
	}
	if ix > 15 {
		exp := int32(1)
		for ix > 16+15 {
			ix >>= 1
			exp++
		}
		ix -= 16
		ix += exp << 4
	}
	if x >= 0 {
		ix |= 0x80
	}
	return uint8(ix ^ 0x55)
}

// alawDecodeRef is G.191's alaw_expand for one byte.
func alawDecodeRef(c uint8) int16 {
	ix := int32(c^0x55) & 0x7f
	exp := ix >> 4
	mant := ix & 0x0f
	if exp > 0 {
		mant += 16
	}
	mant = mant<<4 + 8
	if exp > 1 {
		mant <<= exp - 1
	}
	if c > 127 {
		return int16(mant)
	}
	return int16(-mant)
}

// ulawEncodeRef is G.191's ulaw_compress for one sample.
func ulawEncodeRef(x int16) uint8 {
	var abs int32
	if x < 0 {
		abs = int32(^x)>>2 + 33
	} else {
		abs = int32(x)>>2 + 33
	}
	if abs > 0x1fff {
		abs = 0x1fff
	}
	seg := int32(1)
	for i := abs >> 6; i != 0; i >>= 1 {
		seg++
	}
	high := 8 - seg
	low := 0x0f - (abs>>seg)&0x0f
	out := high<<4 | low
	if x >= 0 {
		out |= 0x80
	}
	return uint8(out)
}

// ulawDecodeRef is G.191's ulaw_expand for one byte.
func ulawDecodeRef(c uint8) int16 {
	sign := int32(1)
	if c < 0x80 {
		sign = -1
	}
	m := int32(^c)
	exp := (m >> 4) & 0x07
	step := int32(4) << (exp + 1)
	m &= 0x0f
	return int16(sign * (0x80<<exp + step*m + step/2 - 4*33))
}
