package pages

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"image"
	"image/color"
	"io"
	"os"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/pdfcpu/pdfcpu/pkg/api"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"
)

var (
	red   = color.RGBA{200, 40, 40, 255}
	green = color.RGBA{40, 160, 60, 255}
	blue  = color.RGBA{30, 60, 200, 255}
)

// summary is what the tests compare of a page.
type summary struct {
	Number int
	Size   string // "w×h"
	Err    string
}

func summarise(pages []Page) []summary {
	var s []summary
	for _, p := range pages {
		sum := summary{Number: p.Number, Err: message(p.Err)}
		if p.Image != nil {
			sum.Size = fmt.Sprintf("%d×%d", p.Image.Bounds().Dx(), p.Image.Bounds().Dy())
		}
		if (p.Image == nil) == (p.Err == nil) {
			sum.Err = "BOTH OR NEITHER IMAGE AND ERR"
		}
		s = append(s, sum)
	}
	return s
}

// mustPDF makes a real PDF from images with pdfcpu's import, one page each.
func mustPDF(tb testing.TB, images ...[]byte) []byte {
	tb.Helper()
	var readers []io.Reader
	for _, b := range images {
		readers = append(readers, bytes.NewReader(b))
	}
	var out bytes.Buffer
	if err := api.ImportImages(nil, &out, readers, api.DefaultImportConfig(), pdfConfig(Limits{}.withDefaults())); err != nil {
		tb.Fatal(err)
	}
	return out.Bytes()
}

func gopher(tb testing.TB) (g4 []byte, want image.Image) {
	tb.Helper()
	g4, err := os.ReadFile("testdata/bw-gopher.ccitt_group4")
	if err != nil {
		tb.Fatal(err)
	}
	p, err := os.ReadFile("testdata/bw-gopher.png")
	if err != nil {
		tb.Fatal(err)
	}
	want, _, err = image.Decode(bytes.NewReader(p))
	if err != nil {
		tb.Fatal(err)
	}
	return g4, want
}

func g4TIFFPage(g4 []byte, w, h int) tiffPage {
	return tiffPage{
		fields: []tiffField{
			long(tagImageWidth, uint32(w)), long(tagImageLength, uint32(h)),
			short(258, 1), short(tagCompression, 4), short(tagPhotometric, 0),
			short(tagSamplesPerPixel, 1), long(tagRowsPerStrip, uint32(h)),
		},
		strips: [][]byte{g4},
	}
}

func TestRead(t *testing.T) {
	g4, _ := gopher(t)
	grayPage := image.NewGray(image.Rect(0, 0, 20, 10))
	for i := range grayPage.Pix {
		grayPage.Pix[i] = 0x80
	}
	threePages := func(bo byteOrder) []byte {
		return buildTIFF(bo, []tiffPage{
			rgbTIFFPage(t, solid(30, 20, red), 1),
			rgbTIFFPage(t, solid(31, 21, green), 8),
			grayTIFFPage(grayPage),
		}, nil)
	}
	brokenMiddle := rgbTIFFPage(t, solid(31, 21, green), 8)
	brokenMiddle.strips[0] = []byte("this is not zlib data at all")
	thumbnail := rgbTIFFPage(t, solid(8, 5, green), 1)
	thumbnail.fields = append(thumbnail.fields, long(tagNewSubfileType, 1))
	astray := rgbTIFFPage(t, solid(31, 21, green), 1)
	astray.stripOffset = 1 << 30
	jpeg2000 := rgbTIFFPage(t, solid(10, 10, red), 1)
	jpeg2000.fields[3] = short(tagCompression, 34712)
	planar := rgbTIFFPage(t, solid(10, 10, red), 1)
	planar.fields = append(planar.fields, short(tagPlanarConfig, 2))
	big := rgbTIFFPage(t, solid(10, 10, red), 1)
	big.fields[0], big.fields[1] = long(tagImageWidth, 100000), long(tagImageLength, 100000)

	tests := []struct {
		name string
		data []byte
		lim  Limits
		want []summary
	}{
		{"jpeg", mustJPEG(t, solid(40, 30, red), 90), Limits{}, []summary{{Number: 1, Size: "40×30"}}},
		{"png", mustPNG(t, solid(40, 30, red)), Limits{}, []summary{{Number: 1, Size: "40×30"}}},
		{"tiff little-endian", threePages(binary.LittleEndian), Limits{}, []summary{
			{Number: 1, Size: "30×20"}, {Number: 2, Size: "31×21"}, {Number: 3, Size: "20×10"},
		}},
		{"tiff big-endian", threePages(binary.BigEndian), Limits{}, []summary{
			{Number: 1, Size: "30×20"}, {Number: 2, Size: "31×21"}, {Number: 3, Size: "20×10"},
		}},
		{"tiff ccitt g4", buildTIFF(binary.LittleEndian, []tiffPage{g4TIFFPage(g4, 153, 55)}, nil), Limits{}, []summary{
			{Number: 1, Size: "153×55"},
		}},
		{"tiff jpeg strips", buildTIFF(binary.LittleEndian, []tiffPage{jpegTIFFPage(t, solid(40, 40, red), 16, false, 6)}, nil), Limits{}, []summary{
			{Number: 1, Size: "40×40"},
		}},
		{"tiff jpeg strips with shared tables", buildTIFF(binary.BigEndian, []tiffPage{jpegTIFFPage(t, solid(40, 40, red), 16, true, 6)}, nil), Limits{}, []summary{
			{Number: 1, Size: "40×40"},
		}},
		{"tiff jpeg one strip", buildTIFF(binary.LittleEndian, []tiffPage{jpegTIFFPage(t, solid(40, 40, red), 40, true, 6)}, nil), Limits{}, []summary{
			{Number: 1, Size: "40×40"},
		}},
		{"tiff jpeg tiles padded at the edges", buildTIFF(binary.LittleEndian, []tiffPage{jpegTIFFTiles(t, solid(40, 30, red), 16)}, nil), Limits{}, []summary{
			{Number: 1, Size: "40×30"},
		}},
		{"tiff jpeg said to be rgb but subsampled", buildTIFF(binary.LittleEndian, []tiffPage{jpegTIFFPage(t, solid(40, 40, red), 40, false, 2)}, nil), Limits{}, []summary{
			{Number: 1, Err: "Seite 1: TIFF mit unterabgetastetem RGB-JPEG wird nicht unterstützt"},
		}},
		{"tiff corrupt page in the middle", buildTIFF(binary.LittleEndian, []tiffPage{
			rgbTIFFPage(t, solid(30, 20, red), 1), brokenMiddle, grayTIFFPage(grayPage),
		}, nil), Limits{}, []summary{
			{Number: 1, Size: "30×20"},
			{Number: 2, Err: "Seite 2: die Bilddaten sind beschädigt oder unvollständig"},
			{Number: 3, Size: "20×10"},
		}},
		{"tiff strip beyond the end", buildTIFF(binary.LittleEndian, []tiffPage{rgbTIFFPage(t, solid(30, 20, red), 1), astray}, nil), Limits{}, []summary{
			{Number: 1, Size: "30×20"},
			{Number: 2, Err: "Seite 2: die Bilddaten sind beschädigt oder unvollständig"},
		}},
		{"tiff thumbnail skipped", buildTIFF(binary.LittleEndian, []tiffPage{
			rgbTIFFPage(t, solid(30, 20, red), 1), thumbnail, rgbTIFFPage(t, solid(31, 21, green), 1),
		}, nil), Limits{}, []summary{
			{Number: 1, Size: "30×20"}, {Number: 2, Size: "31×21"},
		}},
		{"tiff chain loops back", buildTIFF(binary.LittleEndian, []tiffPage{
			rgbTIFFPage(t, solid(30, 20, red), 1), rgbTIFFPage(t, solid(31, 21, green), 1),
		}, map[int]int{1: 0}), Limits{}, []summary{
			{Number: 1, Size: "30×20"}, {Number: 2, Size: "31×21"},
		}},
		{"tiff jpeg 2000 refused", buildTIFF(binary.LittleEndian, []tiffPage{jpeg2000}, nil), Limits{}, []summary{
			{Number: 1, Err: "Seite 1: TIFF-Kompression JPEG 2000 (34712) wird nicht unterstützt"},
		}},
		{"tiff planar refused", buildTIFF(binary.LittleEndian, []tiffPage{planar}, nil), Limits{}, []summary{
			{Number: 1, Err: "Seite 1: TIFF mit getrennten Farbebenen wird nicht unterstützt"},
		}},
		{"tiff bomb refused", buildTIFF(binary.LittleEndian, []tiffPage{rgbTIFFPage(t, solid(30, 20, red), 1), big}, nil), Limits{}, []summary{
			{Number: 1, Size: "30×20"},
			{Number: 2, Err: "Seite 2: 100000 × 100000 Pixel, mehr als erlaubt (höchstens 60 Megapixel)"},
		}},
		{"page over a small limit", mustPNG(t, solid(40, 30, red)), Limits{MaxPixels: 1000}, []summary{
			{Number: 1, Err: "Seite 1: 40 × 30 Pixel, mehr als erlaubt (höchstens 1000 Pixel)"},
		}},
		{"png named .pdf", mustPNG(t, solid(4, 3, red)), Limits{}, []summary{{Number: 1, Size: "4×3"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Read(tt.name, tt.data, tt.lim)
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
			if diff := cmp.Diff(tt.want, summarise(got)); diff != "" {
				t.Errorf("pages (-want +got):\n%s", diff)
			}
			for _, p := range got {
				if p.File != tt.name {
					t.Errorf("page %d: File = %q, want %q", p.Number, p.File, tt.name)
				}
			}
		})
	}
}

// Pages come in the file's order with their own content.
func TestReadOrderAndColours(t *testing.T) {
	colours := []color.RGBA{red, green, blue}
	var jpegs [][]byte
	var tiffPages []tiffPage
	for _, c := range colours {
		jpegs = append(jpegs, mustJPEG(t, solid(64, 48, c), 95))
		tiffPages = append(tiffPages, rgbTIFFPage(t, solid(64, 48, c), 8))
	}
	files := map[string][]byte{
		"scan.tif": buildTIFF(binary.LittleEndian, tiffPages, nil),
		"scan.pdf": mustPDF(t, jpegs...),
		"jpeg.tif": buildTIFF(binary.BigEndian, []tiffPage{jpegTIFFPage(t, solid(64, 48, red), 16, true, 6), jpegTIFFPage(t, solid(64, 48, green), 48, false, 6), jpegTIFFTiles(t, solid(64, 48, blue), 16)}, nil),
	}
	for name, data := range files {
		t.Run(name, func(t *testing.T) {
			got, err := Read(name, data, Limits{})
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(colours) {
				t.Fatalf("%d pages, want %d", len(got), len(colours))
			}
			for i, p := range got {
				if p.Err != nil {
					t.Fatalf("page %d: %v", p.Number, p.Err)
				}
				for _, pt := range []image.Point{{5, 5}, {32, 24}, {60, 44}} {
					if c, want := rgbAt(p.Image, pt.X, pt.Y), colours[i]; !near(c, [3]uint8{want.R, want.G, want.B}, 12) {
						t.Errorf("page %d at %v: colour %v, want %v", p.Number, pt, c, want)
					}
				}
			}
		})
	}
}

func TestReadCCITT(t *testing.T) {
	g4, want := gopher(t)
	pdf := buildPDF([]pdfPage{
		{imageDict: "/Width 153 /Height 55 /ColorSpace /DeviceGray /BitsPerComponent 1 /Filter /CCITTFaxDecode /DecodeParms << /K -1 /Columns 153 /Rows 55 >>", data: g4},
		{imageDict: "/Width 153 /Height 55 /ImageMask true /Filter /CCITTFaxDecode /DecodeParms << /K -1 /Columns 153 /Rows 55 >>", data: g4},
		{imageDict: "/Width 153 /Height 55 /ColorSpace /DeviceGray /BitsPerComponent 1 /Decode [1 0] /Filter /CCITTFaxDecode /DecodeParms << /K -1 /Columns 153 /BlackIs1 true >>", data: g4},
		{imageDict: "/Width 153 /Height 55 /ColorSpace /DeviceGray /BitsPerComponent 1 /Filter /CCITTFaxDecode /DecodeParms << /K -1 >>", data: g4},
	})
	files := map[string][]byte{
		"tiff": buildTIFF(binary.BigEndian, []tiffPage{g4TIFFPage(g4, 153, 55)}, nil),
		"pdf":  pdf,
	}
	for name, data := range files {
		t.Run(name, func(t *testing.T) {
			got, err := Read(name, data, Limits{})
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range got {
				if p.Err != nil {
					t.Fatalf("page %d: %v", p.Number, p.Err)
				}
				diffs := 0
				for y := range 55 {
					for x := range 153 {
						if rgbAt(p.Image, x, y) != rgbAt(want, x, y) {
							diffs++
						}
					}
				}
				if diffs > 0 {
					t.Errorf("page %d: %d pixels differ from the gopher", p.Number, diffs)
				}
			}
		})
	}
}

func TestReadPDFRaster(t *testing.T) {
	// 4 × 2 pixels: gray, RGB, 1-bit, indexed, CMYK; Flate and ASCIIHex.
	gray := []byte{0, 85, 170, 255, 255, 170, 85, 0}
	rgb := []byte{255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255, 0, 0, 0, 10, 20, 30, 40, 50, 60, 70, 80, 90}
	bits := []byte{0b1010_0000, 0b0101_0000}
	indexed := []byte{0, 1, 2, 3, 3, 2, 1, 0}
	cmyk := bytes.Repeat([]byte{0, 255, 255, 0}, 8)
	pdf := buildPDF([]pdfPage{
		{imageDict: "/Width 4 /Height 2 /ColorSpace /DeviceGray /BitsPerComponent 8 /Filter /FlateDecode", data: mustZlib(t, gray)},
		{imageDict: "/Width 4 /Height 2 /ColorSpace /DeviceRGB /BitsPerComponent 8 /Filter /FlateDecode", data: mustZlib(t, rgb)},
		{imageDict: "/Width 4 /Height 2 /ColorSpace /DeviceGray /BitsPerComponent 1 /Filter /FlateDecode", data: mustZlib(t, bits)},
		{imageDict: "/Width 4 /Height 2 /ColorSpace [/Indexed /DeviceRGB 3 <FF0000 00FF00 0000FF FFFFFF>] /BitsPerComponent 8 /Filter /ASCIIHexDecode", data: []byte(fmt.Sprintf("%X>", indexed))},
		{imageDict: "/Width 4 /Height 2 /ColorSpace /DeviceCMYK /BitsPerComponent 8 /Filter /FlateDecode", data: mustZlib(t, cmyk)},
		{imageDict: "/Width 4 /Height 2 /ColorSpace /DeviceGray /BitsPerComponent 8 /Decode [1 0] /Filter /FlateDecode", data: mustZlib(t, gray)},
		{imageDict: "/Width 4 /Height 2 /ColorSpace /DeviceGray /BitsPerComponent 8 /Filter /FlateDecode", data: mustZlib(t, gray), inForm: true},
	})
	got, err := Read("raster.pdf", pdf, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	want := [][][3]uint8{
		{{0, 0, 0}, {85, 85, 85}, {170, 170, 170}, {255, 255, 255}},
		{{255, 0, 0}, {0, 255, 0}, {0, 0, 255}, {255, 255, 255}},
		{{255, 255, 255}, {0, 0, 0}, {255, 255, 255}, {0, 0, 0}},
		{{255, 0, 0}, {0, 255, 0}, {0, 0, 255}, {255, 255, 255}},
		{{255, 0, 0}, {255, 0, 0}, {255, 0, 0}, {255, 0, 0}},
		{{255, 255, 255}, {170, 170, 170}, {85, 85, 85}, {0, 0, 0}},
		{{0, 0, 0}, {85, 85, 85}, {170, 170, 170}, {255, 255, 255}},
	}
	var gotRows [][][3]uint8
	for _, p := range got {
		if p.Err != nil {
			t.Fatalf("page %d: %v", p.Number, p.Err)
		}
		var row [][3]uint8
		for x := range 4 {
			row = append(row, rgbAt(p.Image, x, 0))
		}
		gotRows = append(gotRows, row)
	}
	if diff := cmp.Diff(want, gotRows); diff != "" {
		t.Errorf("first rows (-want +got):\n%s", diff)
	}
}

func TestReadPDFPageErrors(t *testing.T) {
	pdf := buildPDF([]pdfPage{
		{imageDict: "/Width 4 /Height 2 /ColorSpace /DeviceGray /BitsPerComponent 8 /Filter /FlateDecode", data: mustZlib(t, make([]byte, 8))},
		{imageDict: "/Width 100 /Height 100 /ColorSpace /DeviceGray /BitsPerComponent 1 /Filter /JBIG2Decode", data: []byte("not really jbig2")},
		{imageDict: "/Width 100 /Height 100 /ColorSpace /DeviceRGB /BitsPerComponent 8 /Filter /JPXDecode", data: []byte("not really jpeg 2000")},
		{imageDict: "/Width 100000 /Height 100000 /ColorSpace /DeviceRGB /BitsPerComponent 8 /Filter /FlateDecode", data: mustZlib(t, make([]byte, 64))},
		{imageDict: "/Width 4 /Height 2 /ColorSpace /DeviceGray /BitsPerComponent 8 /Filter /FlateDecode", data: mustZlib(t, make([]byte, 5))},
		{imageDict: "/Width 4 /Height 2 /ColorSpace /Lab /BitsPerComponent 8 /Filter /FlateDecode", data: mustZlib(t, make([]byte, 24))},
		{imageDict: "/Width 4 /Height 2 /ColorSpace /DeviceRGB /BitsPerComponent 8 /Filter /DCTDecode", data: []byte("\xff\xd8\xff not a jpeg")},
		{text: "Deckblatt"},
	})
	got, err := Read("errors.pdf", pdf, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	want := []summary{
		{Number: 1, Size: "4×2"},
		{Number: 2, Err: "Seite 2: Bilder in JBIG2-Kompression werden nicht unterstützt (PDF-Filter JBIG2Decode) — bitte mit JPEG- oder CCITT-Kompression scannen"},
		{Number: 3, Err: "Seite 3: Bilder in JPEG 2000-Kompression werden nicht unterstützt (PDF-Filter JPXDecode) — bitte mit JPEG- oder CCITT-Kompression scannen"},
		{Number: 4, Err: "Seite 4: 100000 × 100000 Pixel, mehr als erlaubt (höchstens 60 Megapixel)"},
		{Number: 5, Err: "Seite 5: die Bilddaten sind beschädigt oder unvollständig"},
		{Number: 6, Err: "Seite 6: der Farbraum Lab wird nicht unterstützt"},
		{Number: 7, Err: "Seite 7: die Bilddaten sind beschädigt oder unvollständig"},
		{Number: 8, Err: "Seite 8: die Seite enthält kein gescanntes Bild"},
	}
	if diff := cmp.Diff(want, summarise(got)); diff != "" {
		t.Errorf("pages (-want +got):\n%s", diff)
	}
}

// Files unusable as a whole fail with a German reason that names what is wrong.
func TestReadRefused(t *testing.T) {
	tiff3 := buildTIFF(binary.LittleEndian, []tiffPage{
		rgbTIFFPage(t, solid(30, 20, red), 1), rgbTIFFPage(t, solid(30, 20, green), 1), rgbTIFFPage(t, solid(30, 20, blue), 1),
	}, nil)
	pdf := mustPDF(t, mustJPEG(t, solid(40, 30, red), 90))
	var encrypted bytes.Buffer
	conf := pdfConfig(Limits{}.withDefaults())
	conf.UserPW, conf.OwnerPW = "geheim", "sehrgeheim"
	if err := api.Encrypt(bytes.NewReader(pdf), &encrypted, conf); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		data []byte
		lim  Limits
		want string
	}{
		{"empty", nil, Limits{}, "die Datei ist leer"},
		{"text", []byte("Sehr geehrte Damen und Herren"), Limits{}, "kein unterstütztes Bildformat (TIFF, PDF, PNG, JPEG)"},
		{"gif", []byte("GIF89a\x01\x00\x01\x00"), Limits{}, "GIF: kein unterstütztes Bildformat (TIFF, PDF, PNG, JPEG)"},
		{"heic", []byte("\x00\x00\x00\x18ftypheic\x00\x00\x00\x00"), Limits{}, "HEIC: kein unterstütztes Bildformat (TIFF, PDF, PNG, JPEG)"},
		{"bigtiff", []byte("II+\x00\x08\x00\x00\x00"), Limits{}, "BigTIFF: kein unterstütztes Bildformat (TIFF, PDF, PNG, JPEG)"},
		{"too large", make([]byte, 3<<20), Limits{MaxBytes: 2 << 20}, "die Datei ist zu groß: 3 MB, erlaubt sind höchstens 2 MB"},
		{"too many pages", tiff3, Limits{MaxPages: 2}, "die Datei hat zu viele Seiten, erlaubt sind höchstens 2"},
		{"too many pdf pages", mustPDF(t, mustJPEG(t, solid(4, 3, red), 90), mustJPEG(t, solid(4, 3, red), 90)), Limits{MaxPages: 1}, "die Datei hat zu viele Seiten, erlaubt sind höchstens 1"},
		{"png truncated header", mustPNG(t, solid(40, 30, red))[:20], Limits{}, "die PNG-Datei ist beschädigt oder unvollständig"},
		{"jpeg truncated header", mustJPEG(t, solid(40, 30, red), 90)[:30], Limits{}, "die JPEG-Datei ist beschädigt oder unvollständig"},
		{"tiff truncated header", tiff3[:6], Limits{}, "die TIFF-Datei ist unvollständig"},
		{"tiff first IFD missing", tiff3[:100], Limits{}, "die TIFF-Datei ist beschädigt oder unvollständig"},
		{"pdf truncated", pdf[:len(pdf)/2], Limits{}, "die PDF-Datei ist beschädigt oder unvollständig"},
		{"pdf header only", []byte("%PDF-1.4\n"), Limits{}, "die PDF-Datei ist beschädigt oder unvollständig"},
		{"pdf without images", buildPDF([]pdfPage{{text: "Rechnung"}, {text: "Seite 2"}}), Limits{}, "PDF ohne Bilder — bitte als Bild scannen"},
		{"pdf with password", encrypted.Bytes(), Limits{}, "die PDF-Datei ist mit einem Passwort geschützt — bitte ohne Passwort speichern"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pages, err := Read(tt.name, tt.data, tt.lim)
			if err == nil {
				t.Fatalf("Read succeeded with %d pages, want error %q", len(pages), tt.want)
			}
			if got := message(err); got != tt.want {
				t.Errorf("error %q, want %q (%v)", got, tt.want, err)
			}
		})
	}
}

// A truncated multi-page TIFF keeps the pages before the cut; the page cut off says so.
func TestReadTIFFTruncated(t *testing.T) {
	data := buildTIFF(binary.LittleEndian, []tiffPage{
		rgbTIFFPage(t, solid(30, 20, red), 1), rgbTIFFPage(t, solid(30, 20, green), 1), rgbTIFFPage(t, solid(30, 20, blue), 1),
	}, nil)
	third := ifdOffsets(data)[2]
	got, err := Read("cut.tif", data[:third+20], Limits{})
	if err != nil {
		t.Fatal(err)
	}
	want := []summary{
		{Number: 1, Size: "30×20"},
		{Number: 2, Size: "30×20"},
		{Number: 3, Err: "Seite 3: die Datei endet vor dieser Seite oder ist hier beschädigt (unvollständig übertragen?)"},
	}
	if diff := cmp.Diff(want, summarise(got)); diff != "" {
		t.Errorf("pages (-want +got):\n%s", diff)
	}
}

// ifdOffsets follows the IFD chain of a little-endian TIFF.
func ifdOffsets(data []byte) []uint32 {
	var offs []uint32
	for off := binary.LittleEndian.Uint32(data[4:]); off != 0 && len(offs) < 100; {
		offs = append(offs, off)
		n := uint32(binary.LittleEndian.Uint16(data[off:]))
		off = binary.LittleEndian.Uint32(data[off+2+12*n:])
	}
	return offs
}

// Header bombs — 100000 × 100000 pixels claimed in a few bytes — are refused before
// anything is allocated for the pixels.
func TestReadBombs(t *testing.T) {
	png := mustPNG(t, solid(1, 1, red))
	// IHDR's width and height, then its CRC, which the decoder checks.
	binary.BigEndian.PutUint32(png[16:], 100000)
	binary.BigEndian.PutUint32(png[20:], 100000)
	binary.BigEndian.PutUint32(png[29:], crc(png[12:29]))
	jpg := mustJPEG(t, solid(8, 8, red), 90)
	sof := bytes.Index(jpg, []byte{0xff, 0xc0})
	binary.BigEndian.PutUint16(jpg[sof+5:], 65000)
	binary.BigEndian.PutUint16(jpg[sof+7:], 65000)
	tiffBomb := rgbTIFFPage(t, solid(10, 10, red), 8)
	tiffBomb.fields[0], tiffBomb.fields[1] = long(tagImageWidth, 100000), long(tagImageLength, 100000)
	files := map[string][]byte{
		"png":  png,
		"jpeg": jpg,
		"tiff": buildTIFF(binary.LittleEndian, []tiffPage{tiffBomb}, nil),
		"pdf": buildPDF([]pdfPage{{imageDict: "/Width 100000 /Height 100000 /ColorSpace /DeviceGray /BitsPerComponent 8 /Filter /FlateDecode",
			data: mustZlib(t, make([]byte, 1<<16))}}),
	}
	for name, data := range files {
		t.Run(name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			got, err := Read(name, data, Limits{})
			runtime.ReadMemStats(&after)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 || got[0].Err == nil || !strings.Contains(message(got[0].Err), "Pixel, mehr als erlaubt") {
				t.Fatalf("pages %+v, want one refused page", summarise(got))
			}
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 16<<20 {
				t.Errorf("allocated %d MB refusing it", alloc>>20)
			}
		})
	}
}

func crc(b []byte) uint32 {
	// CRC-32 (IEEE), as PNG uses it.
	c := ^uint32(0)
	for _, v := range b {
		c ^= uint32(v)
		for range 8 {
			if c&1 != 0 {
				c = c>>1 ^ 0xedb88320
			} else {
				c >>= 1
			}
		}
	}
	return ^c
}

// Open gives the page count before any page is decoded, and decodes a page when asked.
func TestOpen(t *testing.T) {
	data := buildTIFF(binary.LittleEndian, []tiffPage{rgbTIFFPage(t, solid(30, 20, red), 1), rgbTIFFPage(t, solid(30, 20, green), 1)}, nil)
	f, err := Open("x.tif", data, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if f.Len() != 2 || f.Format() != TIFF || f.Name() != "x.tif" {
		t.Errorf("Len %d, Format %s, Name %q", f.Len(), f.Format(), f.Name())
	}
	if p := f.Page(2); p.Err != nil || !near(rgbAt(p.Image, 1, 1), [3]uint8{green.R, green.G, green.B}, 0) {
		t.Errorf("Page(2) = %+v", p)
	}
	if p := f.Page(3); message(p.Err) != "Seite 3: die Datei hat 2 Seiten" {
		t.Errorf("Page(3).Err = %v", p.Err)
	}
}

// pdfcpu's configuration is built here; reading a PDF must not create pdfcpu's
// configuration directory in the user's home.
func TestPDFWritesNoConfig(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_CONFIG_HOME", home)
	if _, err := Read("x.pdf", mustPDF(t, mustJPEG(t, solid(8, 8, red), 90)), Limits{}); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(home)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 0 {
		t.Errorf("reading a PDF wrote %v into the home directory", entries)
	}
	if model.ConfigPath == "disable" {
		t.Error("model.ConfigPath was changed")
	}
}

// A 300 dpi A5 scan, as the OCR (about 1 s a page) gets it.
func benchmarkRead(b *testing.B, data []byte) {
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		pages, err := Read("bench", data, Limits{})
		if err != nil || pages[0].Err != nil {
			b.Fatal(err, pages[0].Err)
		}
	}
}

func a5(tb testing.TB) image.Image {
	tb.Helper()
	p := paper(1748, 2480, white, 10, 1)
	for y := 200; y < 2300; y += 120 {
		write(p, "Ibuprofen 400 mg N2 PZN 01234567", 150, y, 3, ink)
	}
	return p
}

func BenchmarkReadJPEG(b *testing.B) { benchmarkRead(b, mustJPEG(b, a5(b), 85)) }
func BenchmarkReadPDF(b *testing.B)  { benchmarkRead(b, mustPDF(b, mustJPEG(b, a5(b), 85))) }
func BenchmarkReadTIFFDeflate(b *testing.B) {
	benchmarkRead(b, buildTIFF(binary.LittleEndian, []tiffPage{rgbTIFFPage(b, a5(b), 8)}, nil))
}

// pdfcpu's import writes a PNG with transparency as an image with a soft mask of the same
// size; the page is the image, not its mask.
func TestReadPDFSoftMask(t *testing.T) {
	img := image.NewNRGBA(image.Rect(0, 0, 20, 10))
	for i := 0; i < len(img.Pix); i += 4 {
		img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = red.R, red.G, red.B, 0x80
	}
	pages, err := Read("alpha.pdf", mustPDF(t, mustPNG(t, img)), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if p := pages[0]; p.Err != nil || !near(rgbAt(p.Image, 5, 5), [3]uint8{red.R, red.G, red.B}, 2) {
		t.Errorf("page %+v, colour %v", summarise(pages), rgbAt(p.Image, 5, 5))
	}
}
