package pages

import (
	"image"
	"image/color"
	"math"
)

// Blank reports whether img is an empty side: paper with nothing on it beyond scanner and
// JPEG noise, a streak from dust on the scanner glass, a dust speck or two, or the shadow
// of a punched hole near the edge. A side printed in colour (a pink, blue, yellow or green
// prescription form) or on tinted paper is not blank. Where in doubt it answers false: a
// blank side kept costs one OCR run, a written side dropped loses it.
//
// It looks at a grid of about 400,000 pixels, so a 300 dpi A4 page takes a few milliseconds.
func Blank(img image.Image) bool {
	return measure(img).blank()
}

// Tuning of the survey, on the 0–255 scale.
const (
	// A mark is ink this much darker than the paper; scanner noise and JPEG ringing on a
	// blank side stay well within it, a pencil line or a ballpoint stroke do not.
	inkContrast = 64
	// A mark is colour this much more saturated than the paper (max − min of R, G, B);
	// pale form print (pink 250,200,210) exceeds it, white paper's tint does not.
	colourContrast = 36
	// Paper this saturated is tinted paper: a form, never blank.
	tintedPaper = 40
	// The outer band of each side, in hundredths, is left out: punched holes, the shadow
	// of the sheet's edge and the feeder's rollers live there.
	marginPercent = 9
	// The page's inner part is divided into grid × grid cells; a cell is marked when it
	// holds at least cellMarks marked samples.
	grid      = 64
	cellMarks = 2
	// A group of touching marked cells no larger than speckCells × speckCells is a speck
	// (dust, a hole's shadow reaching in, a stray dot); a side with at most maxSpecks of
	// them and nothing else is blank.
	speckCells = 3
	maxSpecks  = 2
	// A line of samples marked along more than this share of the page is a streak left
	// by dust on the scanner glass, not writing.
	streakShare   = 0.6
	samplesWanted = 400_000
)

// survey is what Blank and Duplex learn about a side.
type survey struct {
	tinted     bool    // the paper itself is coloured
	clusters   int     // groups of marked cells, leaving out specks at the edge
	specks     int     // of them, those small enough to be dust
	colourArea float64 // share of samples that are coloured marks
	hue        float64 // mean hue angle of the coloured marks, radians
}

func (s survey) blank() bool {
	return !s.tinted && s.clusters == s.specks && s.specks <= maxSpecks
}

// measure surveys img on a sample grid inside its margins.
func measure(img image.Image) survey {
	b := img.Bounds()
	mx, my := b.Dx()*marginPercent/100, b.Dy()*marginPercent/100
	in := image.Rect(b.Min.X+mx, b.Min.Y+my, b.Max.X-mx, b.Max.Y-my)
	if in.Empty() {
		return survey{}
	}
	step := max(1, int(math.Sqrt(float64(in.Dx())*float64(in.Dy())/samplesWanted)))
	cols, rows := (in.Dx()+step-1)/step, (in.Dy()+step-1)/step
	at := rgbReader(img)

	// First pass: luminance and saturation of every sample, and their histograms for the
	// paper's level (the 75th percentile: most of any page is paper).
	n := cols * rows
	luma, sat := make([]uint8, n), make([]uint8, n)
	var lumaHist, satHist [256]int
	i := 0
	for y := in.Min.Y; y < in.Max.Y; y += step {
		for x := in.Min.X; x < in.Max.X; x += step {
			r, g, bl := at(x, y)
			l := uint8((299*int(r) + 587*int(g) + 114*int(bl)) / 1000)
			s := max(r, g, bl) - min(r, g, bl)
			luma[i], sat[i] = l, s
			lumaHist[l]++
			satHist[s]++
			i++
		}
	}
	paper := percentile(&lumaHist, n, 0.75)
	paperSat := percentile(&satHist, n, 0.5)
	out := survey{tinted: paperSat > tintedPaper}

	// Second pass: marks, streak columns, and the colour of coloured marks.
	marks := make([]bool, n)
	colMarks, rowMarks := make([]int, cols), make([]int, rows)
	var colourN int
	var hueX, hueY float64
	for i := range n {
		ink := int(luma[i]) < int(paper)-inkContrast
		colour := int(sat[i]) > int(paperSat)+colourContrast
		if ink || colour {
			marks[i] = true
			colMarks[i%cols]++
			rowMarks[i/cols]++
		}
		if colour {
			colourN++
		}
	}
	if colourN > 0 {
		// The hue of coloured marks, averaged as a vector so that reds on either side of 0
		// do not cancel out; only the first pass's samples are needed.
		i := 0
		for y := in.Min.Y; y < in.Max.Y; y += step {
			for x := in.Min.X; x < in.Max.X; x += step {
				if int(sat[i]) > int(paperSat)+colourContrast {
					r, g, bl := at(x, y)
					a := float64(r) - (float64(g)+float64(bl))/2
					c := (float64(g) - float64(bl)) * math.Sqrt(3) / 2
					if h := math.Hypot(a, c); h > 0 {
						hueX, hueY = hueX+a/h, hueY+c/h
					}
				}
				i++
			}
		}
		out.colourArea = float64(colourN) / float64(n)
		out.hue = math.Atan2(hueY, hueX)
	}

	// Cells, leaving out streaks: thin lines along the feed, which is down the page or,
	// for a page stored turned, across it. A wide band is content, not a streak.
	streakCol := streaks(colMarks, rows, max(2, cols/100))
	streakRow := streaks(rowMarks, cols, max(2, rows/100))
	var cellCount [grid * grid]int
	for i, m := range marks {
		x, y := i%cols, i/cols
		if m && !streakCol[x] && !streakRow[y] {
			cellCount[y*grid/rows*grid+x*grid/cols]++
		}
	}
	var marked [grid * grid]bool
	for c, k := range cellCount {
		marked[c] = k >= cellMarks
	}
	// Groups of touching marked cells (8-neighbourhood) and their extent.
	var seen [grid * grid]bool
	stack := make([]int, 0, 64)
	for c := range marked {
		if !marked[c] || seen[c] {
			continue
		}
		out.clusters++
		x0, y0, x1, y1 := c%grid, c/grid, c%grid, c/grid
		seen[c] = true
		stack = append(stack[:0], c)
		for len(stack) > 0 {
			p := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			px, py := p%grid, p/grid
			x0, y0, x1, y1 = min(x0, px), min(y0, py), max(x1, px), max(y1, py)
			for dy := -1; dy <= 1; dy++ {
				for dx := -1; dx <= 1; dx++ {
					qx, qy := px+dx, py+dy
					if qx < 0 || qy < 0 || qx >= grid || qy >= grid {
						continue
					}
					if q := qy*grid + qx; marked[q] && !seen[q] {
						seen[q] = true
						stack = append(stack, q)
					}
				}
			}
		}
		if x1-x0 < speckCells && y1-y0 < speckCells {
			if x0 == 0 || y0 == 0 || x1 == grid-1 || y1 == grid-1 {
				// A speck at the edge of the surveyed part is what reaches in from
				// the margin — a punched hole, a staple — and does not count.
				out.clusters--
				continue
			}
			out.specks++
		}
	}
	return out
}

// streaks marks the lines whose count of marked samples exceeds streakShare of length,
// where no more than width of them lie side by side.
func streaks(counts []int, length, width int) []bool {
	out := make([]bool, len(counts))
	for i := 0; i < len(counts); {
		j := i
		for j < len(counts) && float64(counts[j]) > streakShare*float64(length) {
			j++
		}
		if j == i {
			i++
			continue
		}
		if j-i <= width {
			for k := i; k < j; k++ {
				out[k] = true
			}
		}
		i = j
	}
	return out
}

// percentile returns the value below which share of the n counted samples lie.
func percentile(hist *[256]int, n int, share float64) uint8 {
	want, sum := int(share*float64(n)), 0
	for v, c := range hist {
		if sum += c; sum > want {
			return uint8(v)
		}
	}
	return 255
}

// rgbReader returns a fast reader of 8-bit R, G, B for the image types decoders return.
func rgbReader(img image.Image) func(x, y int) (r, g, b uint8) {
	switch m := img.(type) {
	case *image.YCbCr:
		return func(x, y int) (uint8, uint8, uint8) {
			return color.YCbCrToRGB(m.Y[m.YOffset(x, y)], m.Cb[m.COffset(x, y)], m.Cr[m.COffset(x, y)])
		}
	case *image.Gray:
		return func(x, y int) (uint8, uint8, uint8) {
			v := m.Pix[m.PixOffset(x, y)]
			return v, v, v
		}
	case *image.RGBA:
		return func(x, y int) (uint8, uint8, uint8) {
			p := m.Pix[m.PixOffset(x, y):]
			return p[0], p[1], p[2]
		}
	case *image.NRGBA:
		return func(x, y int) (uint8, uint8, uint8) {
			p := m.Pix[m.PixOffset(x, y):]
			return p[0], p[1], p[2]
		}
	case *image.CMYK:
		return func(x, y int) (uint8, uint8, uint8) {
			p := m.Pix[m.PixOffset(x, y):]
			return color.CMYKToRGB(p[0], p[1], p[2], p[3])
		}
	case *image.Paletted:
		var table [256][3]uint8
		for i := range table {
			c := color.Color(color.Black)
			if i < len(m.Palette) {
				c = m.Palette[i]
			}
			r, g, b, _ := c.RGBA()
			table[i] = [3]uint8{uint8(r >> 8), uint8(g >> 8), uint8(b >> 8)}
		}
		return func(x, y int) (uint8, uint8, uint8) {
			t := table[m.Pix[m.PixOffset(x, y)]]
			return t[0], t[1], t[2]
		}
	}
	return func(x, y int) (uint8, uint8, uint8) {
		r, g, b, _ := img.At(x, y).RGBA()
		return uint8(r >> 8), uint8(g >> 8), uint8(b >> 8)
	}
}
