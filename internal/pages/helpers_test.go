package pages

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"
	"image/png"
	"slices"
	"strings"
	"testing"

	"github.com/tresen/tresen/internal/errs"
)

func mustJPEG(tb testing.TB, img image.Image, quality int) []byte {
	tb.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: quality}); err != nil {
		tb.Fatal(err)
	}
	return b.Bytes()
}

func mustPNG(tb testing.TB, img image.Image) []byte {
	tb.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		tb.Fatal(err)
	}
	return b.Bytes()
}

func mustZlib(tb testing.TB, data []byte) []byte {
	tb.Helper()
	var b bytes.Buffer
	w := zlib.NewWriter(&b)
	if _, err := w.Write(data); err != nil {
		tb.Fatal(err)
	}
	if err := w.Close(); err != nil {
		tb.Fatal(err)
	}
	return b.Bytes()
}

// solid returns a w × h image of one colour, so a page can be told by its colour.
func solid(w, h int, c color.RGBA) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(img, img.Rect, image.NewUniform(c), image.Point{}, draw.Src)
	return img
}

// rgbAt returns the 8-bit colour of img at (x, y).
func rgbAt(img image.Image, x, y int) [3]uint8 {
	r, g, b, _ := img.At(x, y).RGBA()
	return [3]uint8{uint8(r >> 8), uint8(g >> 8), uint8(b >> 8)}
}

// near reports whether two colours differ by at most tol in each channel (JPEG is lossy).
func near(a, b [3]uint8, tol int) bool {
	for i := range a {
		if d := int(a[i]) - int(b[i]); d > tol || d < -tol {
			return false
		}
	}
	return true
}

// message returns the user-facing message of err, "" for nil.
func message(err error) string {
	if err == nil {
		return ""
	}
	return errs.Message(err)
}

// TIFF writing: a small encoder for the test files, enough to chain pages in either byte
// order with the compressions scanners use, and to break them on purpose.

const (
	tShort     = 3
	tLong      = 4
	tUndefined = 7
)

type tiffField struct {
	tag  uint16
	typ  uint16
	vals []uint32 // SHORT or LONG values
	raw  []byte   // UNDEFINED bytes
}

// tiffPage is one IFD: its fields and strips. Strip offsets and byte counts are filled in.
type tiffPage struct {
	fields []tiffField
	strips [][]byte
	// stripOffset, when set, replaces the real offset of strip 0 (to point it astray).
	stripOffset uint32
	tiled       bool // the strips are tiles
}

func short(tag uint16, v ...uint32) tiffField { return tiffField{tag: tag, typ: tShort, vals: v} }
func long(tag uint16, v ...uint32) tiffField  { return tiffField{tag: tag, typ: tLong, vals: v} }

type byteOrder interface {
	binary.ByteOrder
	binary.AppendByteOrder
}

// buildTIFF writes pages chained in order; next, if not nil, overrides a page's
// next-IFD pointer by index (to make loops).
func buildTIFF(bo byteOrder, pages []tiffPage, next map[int]int) []byte {
	var b []byte
	if bo == byteOrder(binary.LittleEndian) {
		b = []byte("II*\x00\x00\x00\x00\x00")
	} else {
		b = []byte("MM\x00*\x00\x00\x00\x00")
	}
	u16 := func(v uint16) { b = bo.AppendUint16(b, v) }
	u32 := func(v uint32) { b = bo.AppendUint32(b, v) }
	ifds := make([]uint32, len(pages))
	nextAt := make([]int, len(pages))
	for i, p := range pages {
		var offs, counts []uint32
		for _, s := range p.strips {
			offs = append(offs, uint32(len(b)))
			counts = append(counts, uint32(len(s)))
			b = append(b, s...)
		}
		if p.stripOffset != 0 && len(offs) > 0 {
			offs[0] = p.stripOffset
		}
		fields := slices.Clone(p.fields)
		switch {
		case p.tiled:
			fields = append(fields, long(tagTileOffsets, offs...), long(tagTileByteCounts, counts...))
		case len(p.strips) > 0:
			fields = append(fields, long(tagStripOffsets, offs...), long(tagStripByteCounts, counts...))
		}
		slices.SortFunc(fields, func(a, b tiffField) int { return int(a.tag) - int(b.tag) })
		// Values that do not fit in an entry go before the IFD.
		valueAt := make([]uint32, len(fields))
		for j, f := range fields {
			var data []byte
			switch {
			case f.raw != nil:
				data = f.raw
			case f.typ == tShort && len(f.vals) > 2:
				for _, v := range f.vals {
					data = bo.AppendUint16(data, uint16(v))
				}
			case f.typ == tLong && len(f.vals) > 1:
				for _, v := range f.vals {
					data = bo.AppendUint32(data, v)
				}
			}
			if len(data) > 4 {
				if len(b)%2 == 1 {
					b = append(b, 0)
				}
				valueAt[j] = uint32(len(b))
				b = append(b, data...)
			}
		}
		if len(b)%2 == 1 {
			b = append(b, 0)
		}
		ifds[i] = uint32(len(b))
		u16(uint16(len(fields)))
		for j, f := range fields {
			u16(f.tag)
			u16(f.typ)
			count := len(f.vals)
			if f.raw != nil {
				count = len(f.raw)
			}
			u32(uint32(count))
			var inline [4]byte
			switch {
			case valueAt[j] != 0:
				bo.PutUint32(inline[:], valueAt[j])
			case f.raw != nil:
				copy(inline[:], f.raw)
			case f.typ == tShort:
				for k, v := range f.vals {
					bo.PutUint16(inline[2*k:], uint16(v))
				}
			default:
				if len(f.vals) > 0 {
					bo.PutUint32(inline[:], f.vals[0])
				}
			}
			b = append(b, inline[:]...)
		}
		nextAt[i] = len(b)
		u32(0)
	}
	if len(ifds) > 0 {
		bo.PutUint32(b[4:], ifds[0])
	}
	for i := range pages {
		if i+1 < len(pages) {
			bo.PutUint32(b[nextAt[i]:], ifds[i+1])
		}
		if to, ok := next[i]; ok {
			bo.PutUint32(b[nextAt[i]:], ifds[to])
		}
	}
	return b
}

// rgbTIFFPage is an 8-bit RGB page, one strip, uncompressed (1) or Deflate (8).
func rgbTIFFPage(tb testing.TB, img image.Image, compression uint32) tiffPage {
	tb.Helper()
	r := img.Bounds()
	raw := make([]byte, 0, 3*r.Dx()*r.Dy())
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			c := rgbAt(img, x, y)
			raw = append(raw, c[0], c[1], c[2])
		}
	}
	if compression == 8 {
		raw = mustZlib(tb, raw)
	}
	return tiffPage{
		fields: []tiffField{
			long(tagImageWidth, uint32(r.Dx())), long(tagImageLength, uint32(r.Dy())),
			short(258, 8, 8, 8), short(tagCompression, compression), short(tagPhotometric, 2),
			short(tagSamplesPerPixel, 3), long(tagRowsPerStrip, uint32(r.Dy())),
		},
		strips: [][]byte{raw},
	}
}

// grayTIFFPage is an 8-bit gray page, uncompressed.
func grayTIFFPage(img *image.Gray) tiffPage {
	r := img.Bounds()
	return tiffPage{
		fields: []tiffField{
			long(tagImageWidth, uint32(r.Dx())), long(tagImageLength, uint32(r.Dy())),
			short(258, 8), short(tagCompression, 1), short(tagPhotometric, 1),
			short(tagSamplesPerPixel, 1), long(tagRowsPerStrip, uint32(r.Dy())),
		},
		strips: [][]byte{slices.Clone(img.Pix)},
	}
}

// jpegTIFFPage is a page in JPEG compression (7) with strips of rows rows; with tables, the
// quantisation and Huffman tables go into JPEGTables and the strips are abbreviated.
func jpegTIFFPage(tb testing.TB, img image.Image, rows int, tables bool, photometric uint32) tiffPage {
	tb.Helper()
	r := img.Bounds()
	p := tiffPage{fields: []tiffField{
		long(tagImageWidth, uint32(r.Dx())), long(tagImageLength, uint32(r.Dy())),
		short(258, 8, 8, 8), short(tagCompression, 7), short(tagPhotometric, photometric),
		short(tagSamplesPerPixel, 3), long(tagRowsPerStrip, uint32(rows)),
	}}
	var shared []byte
	for y := r.Min.Y; y < r.Max.Y; y += rows {
		strip := image.NewRGBA(image.Rect(0, 0, r.Dx(), min(rows, r.Max.Y-y)))
		draw.Draw(strip, strip.Rect, img, image.Pt(r.Min.X, y), draw.Src)
		data := mustJPEG(tb, strip, 90)
		if tables {
			shared, data = splitJPEG(tb, data)
		}
		p.strips = append(p.strips, data)
	}
	if tables {
		p.fields = append(p.fields, tiffField{tag: tagJPEGTables, typ: tUndefined, raw: shared})
	}
	return p
}

// jpegTIFFTiles is a page in JPEG compression in tiles of size × size pixels, padded at
// the right and bottom edges as the spec asks, with shared tables.
func jpegTIFFTiles(tb testing.TB, img image.Image, size int) tiffPage {
	tb.Helper()
	r := img.Bounds()
	p := tiffPage{tiled: true, fields: []tiffField{
		long(tagImageWidth, uint32(r.Dx())), long(tagImageLength, uint32(r.Dy())),
		short(258, 8, 8, 8), short(tagCompression, 7), short(tagPhotometric, 6),
		short(tagSamplesPerPixel, 3), long(tagTileWidth, uint32(size)), long(tagTileLength, uint32(size)),
	}}
	var shared []byte
	for y := r.Min.Y; y < r.Max.Y; y += size {
		for x := r.Min.X; x < r.Max.X; x += size {
			tile := image.NewRGBA(image.Rect(0, 0, size, size))
			draw.Draw(tile, tile.Rect, img, image.Pt(x, y), draw.Src)
			var data []byte
			shared, data = splitJPEG(tb, mustJPEG(tb, tile, 90))
			p.strips = append(p.strips, data)
		}
	}
	p.fields = append(p.fields, tiffField{tag: tagJPEGTables, typ: tUndefined, raw: shared})
	return p
}

// splitJPEG splits a JPEG stream into a tables-only stream (SOI, DQT, DHT, EOI) and the
// abbreviated image stream without them.
func splitJPEG(tb testing.TB, data []byte) (tables, scan []byte) {
	tb.Helper()
	tables = []byte{0xff, 0xd8}
	scan = []byte{0xff, 0xd8}
	i := 2
	for i+4 <= len(data) {
		if data[i] != 0xff {
			tb.Fatalf("splitJPEG: no marker at %d", i)
		}
		marker := data[i+1]
		if marker == 0xda { // SOS: the rest is scan data
			scan = append(scan, data[i:]...)
			break
		}
		n := int(data[i+2])<<8 | int(data[i+3])
		seg := data[i : i+2+n]
		if marker == 0xdb || marker == 0xc4 {
			tables = append(tables, seg...)
		} else {
			scan = append(scan, seg...)
		}
		i += 2 + n
	}
	return append(tables, 0xff, 0xd9), scan
}

// PDF writing: a minimal writer for pages of one image (or none), with correct offsets, so
// that filters and dictionaries pdfcpu's own import does not produce can be tested.

type pdfPage struct {
	imageDict string // entries of the image's dictionary, without Length; "" for a page without image
	data      []byte
	text      string // text on the page
	inForm    bool   // the image is drawn by a Form XObject, as some scan software does
}

func buildPDF(pages []pdfPage) []byte {
	var b bytes.Buffer
	var offsets []int
	obj := func(body string, stream []byte) int {
		offsets = append(offsets, b.Len())
		n := len(offsets)
		fmt.Fprintf(&b, "%d 0 obj\n%s\n", n, body)
		if stream != nil {
			b.WriteString("stream\n")
			b.Write(stream)
			b.WriteString("\nendstream\n")
		}
		b.WriteString("endobj\n")
		return n
	}
	b.WriteString("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
	obj("<< /Type /Catalog /Pages 2 0 R >>", nil)
	kidsAt := len(offsets) // the Pages object is written last but numbered 2
	offsets = append(offsets, 0)
	font := obj("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>", nil)
	var kids []string
	for _, p := range pages {
		content := "q 595 0 0 842 0 0 cm /Im0 Do Q"
		resources := ""
		if p.imageDict != "" {
			im := obj(fmt.Sprintf("<< /Type /XObject /Subtype /Image %s /Length %d >>", p.imageDict, len(p.data)), p.data)
			resources = fmt.Sprintf("/XObject << /Im0 %d 0 R >>", im)
			if p.inForm {
				fm := obj(fmt.Sprintf("<< /Type /XObject /Subtype /Form /BBox [0 0 595 842] /Resources << %s >> /Length %d >>", resources, len(content)), []byte(content))
				resources, content = fmt.Sprintf("/XObject << /Fm0 %d 0 R >>", fm), "/Fm0 Do"
			}
		} else {
			content = fmt.Sprintf("BT /F1 12 Tf 72 720 Td (%s) Tj ET", p.text)
			resources = fmt.Sprintf("/Font << /F1 %d 0 R >>", font)
		}
		c := obj(fmt.Sprintf("<< /Length %d >>", len(content)), []byte(content))
		pg := obj(fmt.Sprintf("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << %s >> /Contents %d 0 R >>", resources, c), nil)
		kids = append(kids, fmt.Sprintf("%d 0 R", pg))
	}
	offsets[kidsAt] = b.Len()
	fmt.Fprintf(&b, "2 0 obj\n<< /Type /Pages /Kids [%s] /Count %d >>\nendobj\n", strings.Join(kids, " "), len(kids))
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(offsets)+1)
	for _, o := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n \n", o)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(offsets)+1, xref)
	return b.Bytes()
}
