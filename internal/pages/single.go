package pages

import (
	"bytes"
	"image"
	"image/jpeg"
	"image/png"
)

// openSingle reads the header of a PNG or JPEG, which hold one page.
func openSingle(f *File, data []byte, lim Limits) error {
	decodeConfig, decode := png.DecodeConfig, png.Decode
	if f.format == JPEG {
		decodeConfig, decode = jpeg.DecodeConfig, jpeg.Decode
	}
	cfg, err := decodeConfig(bytes.NewReader(data))
	if err != nil {
		return invalid(err, "die %s-Datei ist beschädigt oder unvollständig", f.format)
	}
	f.n = 1
	f.decode = func(int) (image.Image, error) {
		if err := checkPixels(int64(cfg.Width), int64(cfg.Height), lim); err != nil {
			return nil, err
		}
		img, err := decode(bytes.NewReader(data))
		if err != nil {
			return nil, invalid(err, "die Bilddaten sind beschädigt oder unvollständig")
		}
		return img, nil
	}
	return nil
}
