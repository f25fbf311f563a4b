// Package pages turns one scanned file — multi-page TIFF, PDF with scanned images, PNG or
// JPEG, as a document scanner writes it — into its page images, refusing what is not a scan
// and what would cost more memory than a page may, and tells blank back sides apart.
package pages

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"iter"
	"runtime/debug"

	"github.com/tresen/tresen/internal/errs"
)

// Page is one side of a sheet as scanned.
type Page struct {
	File   string // the file's name as it came in
	Number int    // 1-based page within the file
	// Image is as the decoder returns it, not converted: *image.YCbCr from JPEG,
	// *image.Gray from black-and-white and gray scans, *image.RGBA, *image.CMYK,
	// *image.Paletted and the rest. Nil when Err != nil.
	Image image.Image
	// Err says why this page could not be read, in German for the per-page status
	// ("Seite 3: …"); the other pages of the file still come.
	Err error
}

// Limits bound what one file may cost. A zero field takes its default.
type Limits struct {
	MaxBytes  int64 // size of the file; default 64 MiB
	MaxPixels int   // pixels of one page; default 60 million (600 dpi A4 is about 35)
	MaxPages  int   // pages of one file; default 500
}

// Defaults of Limits.
const (
	DefaultMaxBytes  = 64 << 20
	DefaultMaxPixels = 60_000_000
	DefaultMaxPages  = 500
)

func (l Limits) withDefaults() Limits {
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultMaxBytes
	}
	if l.MaxPixels <= 0 {
		l.MaxPixels = DefaultMaxPixels
	}
	if l.MaxPages <= 0 {
		l.MaxPages = DefaultMaxPages
	}
	return l
}

// Format names a supported file type.
type Format string

// The supported formats.
const (
	TIFF Format = "TIFF"
	PDF  Format = "PDF"
	PNG  Format = "PNG"
	JPEG Format = "JPEG"
)

// File is a scanned file whose structure has been read, so that its page count is known;
// its pages are decoded one at a time when asked for, so a caller that handles them one by
// one holds one decoded page in memory, not all. A File is not safe for concurrent use.
type File struct {
	name   string
	format Format
	n      int
	decode func(i int) (image.Image, error) // i is 0-based; errors are user-facing, without the "Seite n" prefix
}

// Open reads the structure of the file data called name, typed by its content (magic
// bytes), never by its name. It fails when the whole file is unusable: empty, too large,
// not a supported type, a truncated or broken header, too many pages, a PDF without images
// or one that needs a password. The message says what is wrong, in German. The File reads
// from data, which must not change while it is used.
//
// What is read: TIFF pages uncompressed, LZW, Deflate, PackBits, CCITT G3 (1-D) and G4 and
// JPEG (TIFF 6.0 style, strips or tiles); in PDF the largest image of each page in DCT
// (JPEG), Flate, LZW, RunLength or ASCII filters (gray, RGB, CMYK, indexed; ICC-based and
// calibrated spaces as their device spaces) or CCITT fax (G4, G3 1-D); PNG; JPEG. A page
// in another encoding — JBIG2, JPEG 2000, old-style JPEG in TIFF, CCITT G3 2-D, planar
// TIFF, Lab or DeviceN colour — comes with an error naming it; its file's other pages
// still come.
func Open(name string, data []byte, lim Limits) (f *File, err error) {
	lim = lim.withDefaults()
	if len(data) == 0 {
		return nil, errs.E(errs.Invalid, "die Datei ist leer")
	}
	if int64(len(data)) > lim.MaxBytes {
		return nil, errs.E(errs.Invalid, "die Datei ist zu groß: %s, erlaubt sind höchstens %s", megabytes(int64(len(data))), megabytes(lim.MaxBytes))
	}
	defer func() {
		if r := recover(); r != nil {
			f, err = nil, invalid(panicError(r), "die Datei ist beschädigt und lässt sich nicht lesen")
		}
	}()
	format, offset, err := sniff(data)
	if err != nil {
		return nil, err
	}
	f = &File{name: name, format: format}
	switch format {
	case TIFF:
		err = openTIFF(f, data, lim)
	case PDF:
		err = openPDF(f, data[offset:], lim)
	case PNG, JPEG:
		err = openSingle(f, data, lim)
	}
	if err != nil {
		return nil, err
	}
	if f.n > lim.MaxPages {
		return nil, errs.E(errs.Invalid, "die Datei hat zu viele Seiten, erlaubt sind höchstens %d", lim.MaxPages)
	}
	return f, nil
}

// Read returns all pages of the file data called name; see Open for when it fails as a
// whole. A page that cannot be read carries its reason in Page.Err. All decoded pages are
// held at once (a 300 dpi A4 colour page is about 13 MB as JPEG decodes it, 35 MB as
// RGBA); Open and File.All hand them out one at a time.
func Read(name string, data []byte, lim Limits) ([]Page, error) {
	f, err := Open(name, data, lim)
	if err != nil {
		return nil, err
	}
	pages := make([]Page, 0, f.Len())
	for p := range f.All() {
		pages = append(pages, p)
	}
	return pages, nil
}

// Name returns the file's name as it came in.
func (f *File) Name() string { return f.name }

// Format returns the file's type as found in its content.
func (f *File) Format() Format { return f.format }

// Len returns the number of pages.
func (f *File) Len() int { return f.n }

// Page decodes page n (1-based). A decoder's panic on hostile data becomes the page's error.
func (f *File) Page(n int) Page {
	p := Page{File: f.name, Number: n}
	if n < 1 || n > f.n {
		p.Err = errs.E(errs.Invalid, "Seite %d: die Datei hat %d Seiten", n, f.n)
		return p
	}
	img, err := f.safeDecode(n - 1)
	if err != nil {
		p.Err = prefixPage(n, err)
		return p
	}
	p.Image = img
	return p
}

func (f *File) safeDecode(i int) (img image.Image, err error) {
	defer func() {
		if r := recover(); r != nil {
			img, err = nil, invalid(panicError(r), "die Bilddaten sind beschädigt und lassen sich nicht lesen")
		}
	}()
	return f.decode(i)
}

// All yields the pages in order, decoding each when it is reached.
func (f *File) All() iter.Seq[Page] {
	return func(yield func(Page) bool) {
		for n := 1; n <= f.n; n++ {
			if !yield(f.Page(n)) {
				return
			}
		}
	}
}

// unsupported is the message for content of no supported type.
const unsupported = "kein unterstütztes Bildformat (TIFF, PDF, PNG, JPEG)"

// Sniff tells whether data's first bytes are those of a format Read takes, and which
// (callers sort scans from other files by it).
func Sniff(data []byte) (Format, bool) {
	f, _, err := sniff(data)
	return f, err == nil
}

// sniff types data by its first bytes. For PDF it also returns where "%PDF-" starts: readers
// accept up to 1 KiB of junk before it, and offsets inside count from there.
func sniff(data []byte) (Format, int, error) {
	has := func(prefix string) bool { return bytes.HasPrefix(data, []byte(prefix)) }
	switch {
	case has("II*\x00"), has("MM\x00*"):
		return TIFF, 0, nil
	case has("II+\x00"), has("MM\x00+"):
		return "", 0, errs.E(errs.Invalid, "BigTIFF: %s", unsupported)
	case has("\x89PNG\r\n\x1a\n"):
		return PNG, 0, nil
	case has("\xff\xd8\xff"):
		return JPEG, 0, nil
	}
	if i := bytes.Index(data[:min(len(data), 1024)], []byte("%PDF-")); i >= 0 {
		return PDF, i, nil
	}
	// Name what people do send instead, so the message helps.
	var what string
	switch {
	case has("GIF87a"), has("GIF89a"):
		what = "GIF"
	case has("BM"):
		what = "BMP"
	case len(data) >= 12 && has("RIFF") && string(data[8:12]) == "WEBP":
		what = "WebP"
	case len(data) >= 12 && string(data[4:8]) == "ftyp" && (string(data[8:12]) == "heic" || string(data[8:12]) == "heix" || string(data[8:12]) == "mif1"):
		what = "HEIC"
	case has("PK\x03\x04"):
		what = "ZIP-Archiv"
	}
	if what != "" {
		return "", 0, errs.E(errs.Invalid, "%s: %s", what, unsupported)
	}
	return "", 0, errs.E(errs.Invalid, "%s", unsupported)
}

// checkPixels refuses a page of w × h pixels over the limit, before anything is allocated
// for it.
func checkPixels(w, h int64, lim Limits) error {
	if w <= 0 || h <= 0 {
		return errs.E(errs.Invalid, "das Bild hat keine Größe (%d × %d Pixel)", w, h)
	}
	if w > int64(lim.MaxPixels) || h > int64(lim.MaxPixels) || w*h > int64(lim.MaxPixels) {
		return errs.E(errs.Invalid, "%d × %d Pixel, mehr als erlaubt (höchstens %s)", w, h, megapixels(lim.MaxPixels))
	}
	return nil
}

// invalid is an Invalid error with a user-facing message and its cause for the log.
func invalid(cause error, format string, args ...any) error {
	return &errs.Error{Kind: errs.Invalid, Message: fmt.Sprintf(format, args...), Err: cause}
}

// prefixPage puts "Seite n: " before the user-facing message of err and keeps its cause.
func prefixPage(n int, err error) error {
	msg, cause := "die Seite lässt sich nicht lesen", err
	var e *errs.Error
	if errors.As(err, &e) && e.Kind != errs.Internal {
		msg, cause = e.Message, e.Err
	}
	return &errs.Error{Kind: errs.Invalid, Message: fmt.Sprintf("Seite %d: %s", n, msg), Err: cause}
}

// panicked is a decoder's panic on hostile data, recovered; the stack is for the log.
type panicked struct {
	value any
	stack []byte
}

func (p *panicked) Error() string { return fmt.Sprintf("panic: %v\n%s", p.value, p.stack) }

func panicError(r any) error { return &panicked{value: r, stack: debug.Stack()} }

func megapixels(n int) string {
	if n < 1_000_000 {
		return fmt.Sprintf("%d Pixel", n)
	}
	return fmt.Sprintf("%d Megapixel", n/1_000_000)
}

func megabytes(n int64) string {
	return fmt.Sprintf("%d MB", (n+(1<<20)-1)>>20)
}
