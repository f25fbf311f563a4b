package pages

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/draw"
	"image/jpeg"
	"io"

	"golang.org/x/image/tiff"

	"github.com/tresen/tresen/internal/errs"
)

// TIFF tags this package reads itself; x/image/tiff reads the rest.
const (
	tagNewSubfileType  = 254
	tagSubfileType     = 255
	tagImageWidth      = 256
	tagImageLength     = 257
	tagCompression     = 259
	tagPhotometric     = 262
	tagStripOffsets    = 273
	tagSamplesPerPixel = 277
	tagRowsPerStrip    = 278
	tagStripByteCounts = 279
	tagPlanarConfig    = 284
	tagT4Options       = 292
	tagTileWidth       = 322
	tagTileLength      = 323
	tagTileOffsets     = 324
	tagTileByteCounts  = 325
	tagJPEGTables      = 347
)

// TIFF compressions by number, for what x/image/tiff decodes and what the messages name.
var tiffCompressions = map[uint32]string{
	1:     "unkomprimiert",
	2:     "CCITT RLE",
	3:     "CCITT G3",
	4:     "CCITT G4",
	5:     "LZW",
	6:     "altes JPEG",
	7:     "JPEG",
	8:     "Deflate",
	9:     "JBIG",
	10:    "JBIG2",
	32773: "PackBits",
	32946: "Deflate",
	34661: "JBIG",
	34712: "JPEG 2000",
	34887: "JPEG 2000",
	34925: "LZMA",
	50000: "Zstandard",
	50001: "WebP",
}

// tiffTypeSize is the size in bytes of one value of each TIFF field type (1 to 13).
var tiffTypeSize = [...]uint64{0, 1, 1, 2, 4, 8, 1, 1, 2, 4, 8, 4, 8, 4}

// tiffFile is a TIFF's bytes and its byte order.
type tiffFile struct {
	data []byte
	bo   binary.ByteOrder
}

// tiffEntry is one field of an IFD; pos is where its values lie in the file.
type tiffEntry struct {
	typ   uint16
	count uint32
	pos   uint64
}

// tiffIFD is one image file directory: one page, or a thumbnail of one.
type tiffIFD struct {
	off     uint32
	entries map[uint16]tiffEntry
	err     error // the IFD could not be read; a page error
}

// openTIFF walks the chain of IFDs, each a page. x/image/tiff decodes only the first one, so
// each page is decoded by handing it the same bytes with the header's first-IFD offset
// pointing at the page's IFD (offsets in a TIFF are absolute, so nothing else changes).
func openTIFF(f *File, data []byte, lim Limits) error {
	if len(data) < 8 {
		return errs.E(errs.Invalid, "die TIFF-Datei ist unvollständig")
	}
	t := &tiffFile{data: data, bo: binary.LittleEndian}
	if data[0] == 'M' {
		t.bo = binary.BigEndian
	}
	var pages []tiffIFD
	seen := map[uint32]bool{}
	for off := t.bo.Uint32(data[4:8]); off != 0 && len(pages) <= lim.MaxPages; {
		// A loop in the chain ends it: the pages read so far are all there is. Thumbnails
		// count towards the bound too, so a chain of them cannot run on.
		if seen[off] || len(seen) > 2*lim.MaxPages+8 {
			break
		}
		seen[off] = true
		entries, next, err := t.readIFD(off)
		if err != nil {
			if len(pages) == 0 {
				return invalid(err, "die TIFF-Datei ist beschädigt oder unvollständig")
			}
			pages = append(pages, tiffIFD{off: off, err: invalid(err, "die Datei endet vor dieser Seite oder ist hier beschädigt (unvollständig übertragen?)")})
			break
		}
		if !t.isThumbnail(entries) {
			pages = append(pages, tiffIFD{off: off, entries: entries})
		}
		off = next
	}
	if len(pages) == 0 {
		return errs.E(errs.Invalid, "die TIFF-Datei enthält keine Seite")
	}
	f.n = len(pages)
	f.decode = func(i int) (image.Image, error) { return t.decodePage(pages[i], lim) }
	return nil
}

// readIFD reads the IFD at off: its entries and the offset of the next IFD.
func (t *tiffFile) readIFD(off uint32) (map[uint16]tiffEntry, uint32, error) {
	start := uint64(off)
	if start+2 > uint64(len(t.data)) {
		return nil, 0, fmt.Errorf("IFD offset %d beyond end of file (%d bytes)", off, len(t.data))
	}
	n := uint64(t.bo.Uint16(t.data[start:]))
	end := start + 2 + 12*n
	if n == 0 || end > uint64(len(t.data)) {
		return nil, 0, fmt.Errorf("IFD at %d with %d entries does not fit in %d bytes", off, n, len(t.data))
	}
	entries := make(map[uint16]tiffEntry, n)
	for i := range n {
		p := t.data[start+2+12*i:]
		tag, typ, count := t.bo.Uint16(p), t.bo.Uint16(p[2:]), t.bo.Uint32(p[4:])
		e := tiffEntry{typ: typ, count: count, pos: start + 2 + 12*i + 8}
		if int(typ) < len(tiffTypeSize) && tiffTypeSize[typ]*uint64(count) > 4 {
			e.pos = uint64(t.bo.Uint32(p[8:]))
		}
		if _, dup := entries[tag]; !dup {
			entries[tag] = e
		}
	}
	var next uint32
	if end+4 <= uint64(len(t.data)) {
		next = t.bo.Uint32(t.data[end:])
	}
	return entries, next, nil
}

// isThumbnail reports whether an IFD holds a reduced-resolution copy of a page or a
// transparency mask, which some scanner software writes after the page itself.
func (t *tiffFile) isThumbnail(entries map[uint16]tiffEntry) bool {
	if v, ok := t.first(entries, tagNewSubfileType); ok && v&0b101 != 0 {
		return true
	}
	v, ok := t.first(entries, tagSubfileType)
	return ok && v == 2
}

// uints returns up to max values of an entry of type BYTE, SHORT, LONG or IFD.
func (t *tiffFile) uints(e tiffEntry, max int) ([]uint32, error) {
	if int(e.typ) >= len(tiffTypeSize) {
		return nil, fmt.Errorf("field type %d", e.typ)
	}
	n := min(uint64(e.count), uint64(max))
	size := tiffTypeSize[e.typ]
	if e.pos+n*size > uint64(len(t.data)) {
		return nil, fmt.Errorf("field values at %d beyond end of file", e.pos)
	}
	v := make([]uint32, n)
	p := t.data[e.pos:]
	for i := range v {
		switch e.typ {
		case 1, 7: // BYTE, UNDEFINED
			v[i] = uint32(p[i])
		case 3: // SHORT
			v[i] = uint32(t.bo.Uint16(p[2*i:]))
		case 4, 13: // LONG, IFD
			v[i] = t.bo.Uint32(p[4*i:])
		default:
			return nil, fmt.Errorf("field type %d is not an integer", e.typ)
		}
	}
	return v, nil
}

// first returns the first integer value of tag, if the IFD has one.
func (t *tiffFile) first(entries map[uint16]tiffEntry, tag uint16) (uint32, bool) {
	e, ok := entries[tag]
	if !ok {
		return 0, false
	}
	v, err := t.uints(e, 1)
	if err != nil || len(v) == 0 {
		return 0, false
	}
	return v[0], true
}

// raw returns the bytes of an entry, such as JPEGTables.
func (t *tiffFile) raw(e tiffEntry) ([]byte, bool) {
	if int(e.typ) >= len(tiffTypeSize) {
		return nil, false
	}
	n := tiffTypeSize[e.typ] * uint64(e.count)
	if e.pos+n > uint64(len(t.data)) {
		return nil, false
	}
	return t.data[e.pos : e.pos+n], true
}

func (t *tiffFile) decodePage(p tiffIFD, lim Limits) (image.Image, error) {
	if p.err != nil {
		return nil, p.err
	}
	w, okW := t.first(p.entries, tagImageWidth)
	h, okH := t.first(p.entries, tagImageLength)
	if !okW || !okH {
		return nil, errs.E(errs.Invalid, "die Bildgröße fehlt")
	}
	if err := checkPixels(int64(w), int64(h), lim); err != nil {
		return nil, err
	}
	compression, ok := t.first(p.entries, tagCompression)
	if !ok {
		compression = 1 // no default in the spec; readers take it as uncompressed
	}
	if spp, _ := t.first(p.entries, tagSamplesPerPixel); spp > 1 {
		if planar, _ := t.first(p.entries, tagPlanarConfig); planar == 2 {
			return nil, errs.E(errs.Invalid, "TIFF mit getrennten Farbebenen wird nicht unterstützt")
		}
	}
	switch compression {
	case 1, 4, 5, 8, 32773, 32946:
	case 3:
		if opts, _ := t.first(p.entries, tagT4Options); opts&1 != 0 {
			return nil, errs.E(errs.Invalid, "TIFF-Kompression CCITT G3 2D wird nicht unterstützt")
		}
	case 7:
		return t.decodeJPEG(p, int(w), int(h), lim)
	default:
		name := tiffCompressions[compression]
		if name == "" {
			name = "unbekannt"
		}
		return nil, errs.E(errs.Invalid, "TIFF-Kompression %s (%d) wird nicht unterstützt", name, compression)
	}
	img, err := tiff.Decode(&tiffAt{data: t.data, first: p.off, bo: t.bo})
	if err != nil {
		var unsupported tiff.UnsupportedError
		if errors.As(err, &unsupported) {
			return nil, invalid(err, "diese TIFF-Variante wird nicht unterstützt (%s)", string(unsupported))
		}
		return nil, invalid(err, "die Bilddaten sind beschädigt oder unvollständig")
	}
	return img, nil
}

// tiffAt reads the TIFF's bytes as if its header pointed at the IFD at first.
type tiffAt struct {
	data  []byte
	first uint32
	bo    binary.ByteOrder
}

// Read is never called: tiff.Decode reads through ReadAt when it can.
func (r *tiffAt) Read([]byte) (int, error) { return 0, errors.New("tiffAt: use ReadAt") }

func (r *tiffAt) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errors.New("tiffAt: negative offset")
	}
	if off >= int64(len(r.data)) {
		return 0, io.EOF
	}
	n := copy(p, r.data[off:])
	if off < 8 {
		var header [8]byte
		copy(header[:], r.data[:8])
		r.bo.PutUint32(header[4:], r.first)
		copy(p, header[off:])
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// decodeJPEG decodes a page in JPEG compression (TIFF 6.0 and Technote 2), which
// x/image/tiff does not read: every strip or tile is a JPEG stream, sharing the quantisation
// and Huffman tables of the JPEGTables field when it has one.
func (t *tiffFile) decodeJPEG(p tiffIFD, w, h int, lim Limits) (image.Image, error) {
	photometric, _ := t.first(p.entries, tagPhotometric)
	if photometric != 1 && photometric != 2 && photometric != 6 {
		return nil, errs.E(errs.Invalid, "TIFF mit JPEG in diesem Farbmodell (%d) wird nicht unterstützt", photometric)
	}
	var tables []byte
	if e, ok := p.entries[tagJPEGTables]; ok {
		tables, _ = t.raw(e)
	}
	bw, bh, offTag, countTag := w, h, uint16(tagStripOffsets), uint16(tagStripByteCounts)
	if tw, ok := t.first(p.entries, tagTileWidth); ok {
		th, _ := t.first(p.entries, tagTileLength)
		// Tiles a little larger than the image are padding; tiny ones only cost time.
		if tw < 16 || th < 16 || (tw > 4096 && int(tw) > w+16) || (th > 4096 && int(th) > h+16) {
			return nil, errs.E(errs.Invalid, "die Kachelgröße %d × %d ist ungültig", tw, th)
		}
		bw, bh, offTag, countTag = int(tw), int(th), tagTileOffsets, tagTileByteCounts
	} else if rows, ok := t.first(p.entries, tagRowsPerStrip); ok && rows > 0 && int(rows) < h {
		bh = int(rows)
	}
	across, down := (w+bw-1)/bw, (h+bh-1)/bh
	n := across * down
	offEntry, ok1 := p.entries[offTag]
	countEntry, ok2 := p.entries[countTag]
	if !ok1 || !ok2 {
		return nil, errs.E(errs.Invalid, "die Lage der Bilddaten fehlt")
	}
	offsets, err1 := t.uints(offEntry, n)
	counts, err2 := t.uints(countEntry, n)
	if err := errors.Join(err1, err2); err != nil || len(offsets) < n || len(counts) < n {
		return nil, invalid(err, "die Lage der Bilddaten ist beschädigt")
	}

	var dst draw.Image
	if photometric == 1 {
		dst = image.NewGray(image.Rect(0, 0, w, h))
	} else {
		dst = image.NewRGBA(image.Rect(0, 0, w, h))
	}
	for i := range n {
		start, end := uint64(offsets[i]), uint64(offsets[i])+uint64(counts[i])
		if end > uint64(len(t.data)) {
			return nil, errs.E(errs.Invalid, "die Bilddaten sind unvollständig")
		}
		stream := joinJPEG(tables, t.data[start:end])
		cfg, err := jpeg.DecodeConfig(bytes.NewReader(stream))
		if err != nil {
			return nil, invalid(err, "die Bilddaten sind beschädigt oder unvollständig")
		}
		if cfg.Width > bw || cfg.Height > bh {
			return nil, errs.E(errs.Invalid, "ein Bildstreifen ist mit %d × %d Pixeln größer als angegeben (%d × %d)", cfg.Width, cfg.Height, bw, bh)
		}
		if err := checkPixels(int64(cfg.Width), int64(cfg.Height), lim); err != nil {
			return nil, err
		}
		block, err := jpeg.Decode(bytes.NewReader(stream))
		if err != nil {
			return nil, invalid(err, "die Bilddaten sind beschädigt oder unvollständig")
		}
		if photometric == 2 {
			if block, err = ycbcrAsRGB(block); err != nil {
				return nil, err
			}
		}
		x, y := i%across*bw, i/across*bh
		if n == 1 && cfg.Width == w && cfg.Height == h {
			return block, nil
		}
		draw.Draw(dst, image.Rect(x, y, x+bw, y+bh).Intersect(dst.Bounds()), block, block.Bounds().Min, draw.Src)
	}
	return dst, nil
}

// joinJPEG puts the shared tables in front of an abbreviated JPEG stream: the tables
// without their end marker, then the stream without its start marker.
func joinJPEG(tables, stream []byte) []byte {
	if len(tables) < 4 || !bytes.HasPrefix(tables, []byte{0xff, 0xd8}) || !bytes.HasSuffix(tables, []byte{0xff, 0xd9}) ||
		!bytes.HasPrefix(stream, []byte{0xff, 0xd8}) {
		return stream
	}
	joined := make([]byte, 0, len(tables)+len(stream)-4)
	joined = append(joined, tables[:len(tables)-2]...)
	return append(joined, stream[2:]...)
}

// ycbcrAsRGB undoes the JPEG decoder's colour conversion where a TIFF says its JPEG data is
// RGB but the stream does not mark it so: the "Y, Cb, Cr" planes are R, G, B.
func ycbcrAsRGB(img image.Image) (image.Image, error) {
	y, ok := img.(*image.YCbCr)
	if !ok {
		return img, nil
	}
	if y.SubsampleRatio != image.YCbCrSubsampleRatio444 {
		return nil, errs.E(errs.Invalid, "TIFF mit unterabgetastetem RGB-JPEG wird nicht unterstützt")
	}
	b := y.Rect
	dst := image.NewRGBA(b)
	for py := b.Min.Y; py < b.Max.Y; py++ {
		row := dst.Pix[(py-b.Min.Y)*dst.Stride:]
		for px := b.Min.X; px < b.Max.X; px++ {
			yi, ci := y.YOffset(px, py), y.COffset(px, py)
			i := 4 * (px - b.Min.X)
			row[i], row[i+1], row[i+2], row[i+3] = y.Y[yi], y.Cb[ci], y.Cr[ci], 0xff
		}
	}
	return dst, nil
}
