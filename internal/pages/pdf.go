package pages

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"slices"
	"time"

	"github.com/pdfcpu/pdfcpu/pkg/api"
	"github.com/pdfcpu/pdfcpu/pkg/filter"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"
	"golang.org/x/image/ccitt"

	"github.com/tresen/tresen/internal/errs"
)

// pdfConfig is pdfcpu's default configuration, built here rather than by
// model.NewDefaultConfiguration, which writes a configuration directory into the user's
// home unless a package-level switch is flipped. Its limits follow lim.
func pdfConfig(lim Limits) *model.Configuration {
	limits := model.DefaultResourceLimits()
	limits.MaxStreamBytes = lim.MaxBytes
	// Object and cross-reference streams are decoded while reading; page images are decoded
	// here, each with its own bound.
	limits.MaxDecodeBytes = min(limits.MaxDecodeBytes, 4*lim.MaxBytes)
	return &model.Configuration{
		CreationDate:              time.Now().Format("2006-01-02 15:04"),
		Version:                   model.VersionStr,
		Reader15:                  true,
		ValidationMode:            model.ValidationRelaxed,
		UnsupportedResourcePolicy: model.UnsupportedResourceSkip,
		Eol:                       types.EolLF,
		WriteObjectStream:         true,
		WriteXRefStream:           true,
		EncryptUsingAES:           true,
		EncryptKeyLength:          256,
		Permissions:               model.PermissionsPrint,
		TimestampFormat:           "2006-01-02 15:04",
		DateFormat:                "2006-01-02",
		Optimize:                  true,
		OptimizeResourceDicts:     true,
		Offline:                   true,
		Timeout:                   5,
		Cmd:                       model.EXTRACTIMAGES,
		Limits:                    limits,
	}
}

// openPDF reads a PDF's structure. A scanner's PDF holds one image per page; a PDF with no
// image at all is a document made on a computer, not a scan.
func openPDF(f *File, data []byte, lim Limits) error {
	ctx, err := api.ReadValidateAndOptimize(bytes.NewReader(data), pdfConfig(lim))
	if err != nil {
		if errors.Is(err, pdfcpu.ErrWrongPassword) || errors.Is(err, pdfcpu.ErrEncrypted) || errors.Is(err, pdfcpu.ErrOwnerPasswordRequired) {
			return invalid(err, "die PDF-Datei ist mit einem Passwort geschützt — bitte ohne Passwort speichern")
		}
		return invalid(err, "die PDF-Datei ist beschädigt oder unvollständig")
	}
	if ctx.PageCount < 1 {
		return errs.E(errs.Invalid, "die PDF-Datei hat keine Seiten")
	}
	f.n = ctx.PageCount
	if f.n > lim.MaxPages {
		return nil // Open refuses it
	}
	images := 0
	for n := 1; n <= f.n; n++ {
		images += len(pdfcpu.ImageObjNrs(ctx, n))
	}
	if images == 0 {
		return errs.E(errs.Invalid, "PDF ohne Bilder — bitte als Bild scannen")
	}
	f.decode = func(i int) (image.Image, error) { return decodePDFPage(ctx, i+1, lim) }
	return nil
}

// pdfImage is an image XObject of a page.
type pdfImage struct {
	objNr int
	sd    *types.StreamDict
	w, h  int
}

// pageImage picks the page's scan: its largest image, leaving out images that serve as
// another's mask. Pages of mixed raster content (a colour background under a sharp text
// layer) come as that one image, not as the composite.
func pageImage(ctx *model.Context, n int) (pdfImage, error) {
	var all []pdfImage
	masks := map[int]bool{}
	for _, objNr := range pdfcpu.ImageObjNrs(ctx, n) {
		obj := ctx.Optimize.ImageObjects[objNr]
		if obj == nil || obj.ImageDict == nil {
			continue
		}
		sd := obj.ImageDict
		for _, key := range []string{"SMask", "Mask"} {
			if ref := sd.IndirectRefEntry(key); ref != nil {
				masks[ref.ObjectNumber.Value()] = true
			}
		}
		all = append(all, pdfImage{objNr: objNr, sd: sd, w: pdfInt(ctx, sd.Dict, "Width"), h: pdfInt(ctx, sd.Dict, "Height")})
	}
	all = slices.DeleteFunc(all, func(im pdfImage) bool { return masks[im.objNr] })
	if len(all) == 0 {
		return pdfImage{}, errs.E(errs.Invalid, "die Seite enthält kein gescanntes Bild")
	}
	return slices.MaxFunc(all, func(a, b pdfImage) int {
		return cmp.Compare(int64(a.w)*int64(a.h), int64(b.w)*int64(b.h))
	}), nil
}

// pdfInt returns the integer entry key of d, following an indirect reference; 0 if none.
func pdfInt(ctx *model.Context, d types.Dict, key string) int {
	o, ok := d.Find(key)
	if !ok {
		return 0
	}
	i, err := ctx.DereferenceInteger(o)
	if err != nil || i == nil {
		return 0
	}
	return i.Value()
}

// pdfFilterNames names the image filters this package does not read, for the message.
var pdfFilterNames = map[string]string{
	filter.JBIG2: "JBIG2",
	filter.JPX:   "JPEG 2000",
}

func decodePDFPage(ctx *model.Context, n int, lim Limits) (image.Image, error) {
	im, err := pageImage(ctx, n)
	if err != nil {
		return nil, err
	}
	if err := checkPixels(int64(im.w), int64(im.h), lim); err != nil {
		return nil, err
	}
	fpl := im.sd.FilterPipeline
	last := ""
	if len(fpl) > 0 {
		last = fpl[len(fpl)-1].Name
	}
	switch last {
	case filter.DCT:
		data, err := decodePrefix(im.sd, int64(len(im.sd.Raw)))
		if err != nil {
			return nil, err
		}
		cfg, err := jpeg.DecodeConfig(bytes.NewReader(data))
		if err != nil {
			return nil, invalid(err, "die Bilddaten sind beschädigt oder unvollständig")
		}
		if err := checkPixels(int64(cfg.Width), int64(cfg.Height), lim); err != nil {
			return nil, err
		}
		img, err := jpeg.Decode(bytes.NewReader(data))
		if err != nil {
			return nil, invalid(err, "die Bilddaten sind beschädigt oder unvollständig")
		}
		return img, nil
	case filter.CCITTFax:
		data, err := decodePrefix(im.sd, int64(len(im.sd.Raw)))
		if err != nil {
			return nil, err
		}
		return decodePDFCCITT(ctx, im, fpl[len(fpl)-1].DecodeParms, data)
	case "", filter.Flate, filter.LZW, filter.RunLength, filter.ASCII85, filter.ASCIIHex:
		return decodePDFRaster(ctx, im)
	}
	name := pdfFilterNames[last]
	if name == "" {
		name = last
	}
	return nil, errs.E(errs.Invalid, "Bilder in %s-Kompression werden nicht unterstützt (PDF-Filter %s) — bitte mit JPEG- oder CCITT-Kompression scannen", name, last)
}

// decodePrefix undoes the filters before an image's last one, which rarely exist (an
// ASCII85 wrapper); the last filter's data comes back as it is in the file.
func decodePrefix(sd *types.StreamDict, limit int64) ([]byte, error) {
	if len(sd.FilterPipeline) <= 1 {
		return sd.Raw, nil
	}
	c := *sd
	c.Content = nil
	c.FilterPipeline = sd.FilterPipeline[:len(sd.FilterPipeline)-1]
	data, err := c.DecodeLengthWithLimit(-1, 4*limit+1024)
	if err != nil {
		return nil, invalid(err, "die Bilddaten sind beschädigt oder unvollständig")
	}
	return data, nil
}

// pdfSpace is an image's colour space as far as a page image needs it.
type pdfSpace struct {
	comps   int           // samples per pixel
	palette color.Palette // for Indexed; comps is then 1
	cmyk    bool
}

// colorSpace resolves the ColorSpace entry of an image. Calibrated and ICC-based spaces are
// read as their device equivalents: close enough for OCR, and what scanners mean by them.
func colorSpace(ctx *model.Context, o types.Object, depth int) (pdfSpace, error) {
	o, err := ctx.Dereference(o)
	if err != nil || depth > 2 {
		return pdfSpace{}, invalid(err, "der Farbraum des Bildes ist beschädigt")
	}
	var name string
	var arr types.Array
	switch cs := o.(type) {
	case types.Name:
		name = cs.Value()
	case types.Array:
		if len(cs) == 0 {
			return pdfSpace{}, errs.E(errs.Invalid, "der Farbraum des Bildes ist beschädigt")
		}
		n, _ := cs[0].(types.Name)
		name, arr = n.Value(), cs
	default:
		return pdfSpace{}, errs.E(errs.Invalid, "der Farbraum des Bildes fehlt")
	}
	switch name {
	case "DeviceGray", "G", "CalGray":
		return pdfSpace{comps: 1}, nil
	case "DeviceRGB", "RGB", "CalRGB":
		return pdfSpace{comps: 3}, nil
	case "DeviceCMYK", "CMYK":
		return pdfSpace{comps: 4, cmyk: true}, nil
	case "ICCBased":
		if len(arr) < 2 {
			break
		}
		sd, _, err := ctx.DereferenceStreamDict(arr[1])
		if err != nil || sd == nil {
			break
		}
		switch pdfInt(ctx, sd.Dict, "N") {
		case 1:
			return pdfSpace{comps: 1}, nil
		case 3:
			return pdfSpace{comps: 3}, nil
		case 4:
			return pdfSpace{comps: 4, cmyk: true}, nil
		}
	case "Indexed", "I":
		if len(arr) < 4 {
			break
		}
		base, err := colorSpace(ctx, arr[1], depth+1)
		if err != nil || base.palette != nil {
			break
		}
		hival, err := ctx.DereferenceInteger(arr[2])
		if err != nil || hival == nil || hival.Value() < 0 || hival.Value() > 255 {
			break
		}
		lookup, err := lookupTable(ctx, arr[3])
		if err != nil {
			break
		}
		// Every possible sample value gets a colour, so a stray index cannot reach past the
		// palette; those beyond hival (or beyond a short table) are black.
		pal := make(color.Palette, 256)
		for i := range pal {
			pal[i] = color.Black
			p := lookup[min(len(lookup), i*base.comps):min(len(lookup), (i+1)*base.comps)]
			if i > hival.Value() || len(p) < base.comps {
				continue
			}
			switch base.comps {
			case 1:
				pal[i] = color.Gray{Y: p[0]}
			case 3:
				pal[i] = color.RGBA{R: p[0], G: p[1], B: p[2], A: 0xff}
			case 4:
				pal[i] = color.CMYK{C: p[0], M: p[1], Y: p[2], K: p[3]}
			}
		}
		return pdfSpace{comps: 1, palette: pal}, nil
	}
	return pdfSpace{}, errs.E(errs.Invalid, "der Farbraum %s wird nicht unterstützt", name)
}

// lookupTable returns the colour table of an Indexed colour space.
func lookupTable(ctx *model.Context, o types.Object) ([]byte, error) {
	o, err := ctx.Dereference(o)
	if err != nil {
		return nil, err
	}
	switch t := o.(type) {
	case types.StringLiteral:
		return types.Unescape(t.Value())
	case types.HexLiteral:
		return t.Bytes()
	case types.StreamDict:
		return t.DecodeLengthWithLimit(-1, 4*256)
	}
	return nil, fmt.Errorf("lookup table of type %T", o)
}

// decodePDFRaster builds the image from raw samples (FlateDecode and the other general
// filters): width × height pixels of bpc bits per sample in the colour space, rows starting
// on a byte.
func decodePDFRaster(ctx *model.Context, im pdfImage) (image.Image, error) {
	bpc, space, decode, err := rasterParams(ctx, im)
	if err != nil {
		return nil, err
	}
	rowBytes := (int64(im.w)*int64(space.comps)*int64(bpc) + 7) / 8
	size := rowBytes * int64(im.h)
	c := *im.sd
	c.Content = nil
	data, err := c.DecodeLengthWithLimit(size, size+int64(len(im.sd.Raw))+1024)
	if err != nil || int64(len(data)) < size {
		return nil, invalid(err, "die Bilddaten sind beschädigt oder unvollständig")
	}
	return raster(data, im.w, im.h, bpc, space, decode), nil
}

// rasterParams reads bits per component, colour space and Decode array of an image. A
// stencil mask (ImageMask) reads as 1-bit gray: 0 paints black.
func rasterParams(ctx *model.Context, im pdfImage) (bpc int, space pdfSpace, decode []float64, err error) {
	d := im.sd.Dict
	if mask := d.BooleanEntry("ImageMask"); mask != nil && *mask {
		bpc, space = 1, pdfSpace{comps: 1}
	} else {
		bpc = pdfInt(ctx, d, "BitsPerComponent")
		cs, ok := d.Find("ColorSpace")
		if !ok {
			return 0, pdfSpace{}, nil, errs.E(errs.Invalid, "der Farbraum des Bildes fehlt")
		}
		if space, err = colorSpace(ctx, cs, 0); err != nil {
			return 0, pdfSpace{}, nil, err
		}
	}
	switch bpc {
	case 1, 2, 4, 8:
	case 16:
		if space.palette != nil {
			return 0, pdfSpace{}, nil, errs.E(errs.Invalid, "%d Bit je Farbwert werden nicht unterstützt", bpc)
		}
	default:
		return 0, pdfSpace{}, nil, errs.E(errs.Invalid, "%d Bit je Farbwert werden nicht unterstützt", bpc)
	}
	return bpc, space, decodeArray(ctx, d), nil
}

// decodeArray returns an image's Decode array, nil if it has none.
func decodeArray(ctx *model.Context, d types.Dict) []float64 {
	o, ok := d.Find("Decode")
	if !ok {
		return nil
	}
	a, err := ctx.DereferenceArray(o)
	if err != nil {
		return nil
	}
	var decode []float64
	for _, v := range a {
		f, err := ctx.DereferenceNumber(v)
		if err != nil {
			return nil
		}
		decode = append(decode, f)
	}
	return decode
}

// raster turns samples into an image, converting to 8 bits per sample. A Decode array that
// runs a component from high to low inverts it; other mappings are rare in scans and are
// read as the identity.
func raster(data []byte, w, h, bpc int, space pdfSpace, decode []float64) image.Image {
	comps := space.comps
	invert := make([]bool, comps)
	for k := range comps {
		invert[k] = space.palette == nil && len(decode) >= 2*k+2 && decode[2*k] > decode[2*k+1]
	}
	rowBytes := (w*comps*bpc + 7) / 8
	maxv := 1<<bpc - 1
	sample := func(row []byte, i int) uint8 {
		switch bpc {
		case 8:
			return row[i]
		case 16:
			return row[2*i]
		}
		bit := i * bpc
		v := int(row[bit/8]>>(8-bpc-bit%8)) & maxv
		if space.palette != nil {
			return uint8(v)
		}
		return uint8(v * 255 / maxv)
	}
	r := image.Rect(0, 0, w, h)
	switch {
	case space.palette != nil:
		img := image.NewPaletted(r, space.palette)
		for y := range h {
			row := data[y*rowBytes:]
			for x := range w {
				img.Pix[y*img.Stride+x] = sample(row, x)
			}
		}
		return img
	case comps == 1:
		img := image.NewGray(r)
		for y := range h {
			row, out := data[y*rowBytes:], img.Pix[y*img.Stride:]
			for x := range w {
				v := sample(row, x)
				if invert[0] {
					v = 255 - v
				}
				out[x] = v
			}
		}
		return img
	case space.cmyk:
		img := image.NewCMYK(r)
		for y := range h {
			row, out := data[y*rowBytes:], img.Pix[y*img.Stride:]
			for i := range 4 * w {
				v := sample(row, i)
				if invert[i%4] {
					v = 255 - v
				}
				out[i] = v
			}
		}
		return img
	default:
		img := image.NewRGBA(r)
		for y := range h {
			row, out := data[y*rowBytes:], img.Pix[y*img.Stride:]
			for x := range w {
				for k := range 3 {
					v := sample(row, 3*x+k)
					if invert[k] {
						v = 255 - v
					}
					out[4*x+k] = v
				}
				out[4*x+3] = 0xff
			}
		}
		return img
	}
}

// decodePDFCCITT decodes a bilevel image in CCITT fax compression (Group 4, or Group 3
// one-dimensional) straight into gray.
func decodePDFCCITT(ctx *model.Context, im pdfImage, parms types.Dict, data []byte) (image.Image, error) {
	// Columns defaults to 1728 (a fax line), but writers that leave it out mean the width.
	k, cols, blackIs1, align := 0, im.w, false, false
	if parms != nil {
		if v, ok := parms.Find("K"); ok {
			if i, err := ctx.DereferenceInteger(v); err == nil && i != nil {
				k = i.Value()
			}
		}
		if c := pdfInt(ctx, parms, "Columns"); c > 0 {
			cols = c
		}
		if b := parms.BooleanEntry("BlackIs1"); b != nil {
			blackIs1 = *b
		}
		if b := parms.BooleanEntry("EncodedByteAlign"); b != nil {
			align = *b
		}
	}
	if k > 0 {
		return nil, errs.E(errs.Invalid, "Bilder in CCITT-Gruppe-3-2D-Kompression werden nicht unterstützt")
	}
	if cols != im.w {
		return nil, errs.E(errs.Invalid, "die Bildbreite (%d) passt nicht zu den Faxdaten (%d)", im.w, cols)
	}
	sf := ccitt.Group3
	if k < 0 {
		sf = ccitt.Group4
	}
	img := image.NewGray(image.Rect(0, 0, im.w, im.h))
	// The samples come out as the PDF means them: with BlackIs1, a black pixel is 1.
	if err := ccitt.DecodeIntoGray(img, bytes.NewReader(data), ccitt.MSB, sf, &ccitt.Options{Invert: blackIs1, Align: align}); err != nil {
		return nil, invalid(err, "die Bilddaten sind beschädigt oder unvollständig")
	}
	// The sample 1 is white in DeviceGray and unpainted in a stencil mask: as decoded.
	// A Decode array [1 0] turns that round.
	if decode := decodeArray(ctx, im.sd.Dict); len(decode) >= 2 && decode[0] > decode[1] {
		for i, v := range img.Pix {
			img.Pix[i] = 255 - v
		}
	}
	return img, nil
}
