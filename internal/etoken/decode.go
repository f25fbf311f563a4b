package etoken

import (
	"image"
	"math"
	"slices"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/datamatrix"

	"github.com/tresen/tresen/internal/errs"
)

// A printout carries up to four DataMatrix codes: one per prescription and, for two or
// three, a Sammelcode (collective code) in the header that repeats them all. gozxing's
// DataMatrix reader finds one code, the one around the centre of its image, and gozxing has
// no multi-code reader for DataMatrix (its multi package serves QR codes only). So Decode
// finds the codes itself: on the binarised page every DataMatrix has an L of two solid edges,
// one connected dark region that spans the whole symbol, and the symbol's area is dense with
// small modules, unlike letters (few strokes), lines and bars (solid or thin). Each such
// region is cut out, with everything that does not touch it whitened, and given to the
// reader; that also lets the reader's corner search expand over clean white.

const (
	// maxWorkSide bounds the longer side of the image Decode works on: 300 dpi for A4. Larger
	// scans are averaged down by a whole factor first; codes keep over 3 px per module.
	maxWorkSide = 3600
	// maxPixels refuses images that would take seconds to convert, such as A4 at 1200 dpi in
	// colour.
	maxPixels = 150_000_000
	// minCodeSide is the smallest L, in work pixels, taken for a code: 20 modules of 2 px,
	// the fewest the reader can sample. A token's symbol has 40 modules or more.
	minCodeSide = 40
	// maxAttempts bounds the regions given to the reader on one page, and maxWorkFactor
	// their pixels, as a multiple of the page's.
	maxAttempts   = 48
	maxWorkFactor = 6
)

// Decode reads every E-Rezept-Token from the DataMatrix codes on a scanned printout (or a
// photo or screenshot of one code). Tokens come in the order of the printout, each once: the
// Sammelcode's first, then those of the other codes from top to bottom and left to right, so
// that the single codes add only what the Sammelcode lacks. Scans at 200 to 600 dpi work,
// JPEG-compressed, skewed by up to about 20° or turned by quarter turns.
//
// It fails with errs.Invalid when no code can be read, or when a code read holds no valid
// token (see Parse): an unrelated code on the page is reported rather than skipped, as the
// staff should look at such a printout.
func Decode(img image.Image) (tokens []Token, err error) {
	defer func() {
		// The reader is a port of Java code that indexes slices freely; a page it trips over
		// must not take the server down.
		if r := recover(); r != nil {
			tokens, err = nil, errs.E(errs.Internal, "etoken.Decode: %v", r)
		}
	}()
	b := img.Bounds()
	if b.Empty() {
		return nil, errs.E(errs.Invalid, "das Bild ist leer")
	}
	if int64(b.Dx())*int64(b.Dy()) > maxPixels {
		return nil, errs.E(errs.Invalid, "das Bild ist mit %d×%d Pixeln zu groß; bitte mit höchstens 600 dpi scannen", b.Dx(), b.Dy())
	}
	notFound := errs.E(errs.Invalid, "auf dem Bild ist kein lesbarer DataMatrix-Code zu finden; bitte den Ausdruck vollständig und gerade mit mindestens 200 dpi scannen")
	k := scaleDown(b)
	if b.Dx()/k < minCodeSide || b.Dy()/k < minCodeSide {
		return nil, notFound
	}
	codes := newPage(img, k).findCodes()
	if len(codes) == 0 {
		return nil, notFound
	}
	sortReadingOrder(codes)
	found := make([][]Token, len(codes))
	for i, c := range codes {
		if found[i], err = Parse([]byte(c.text)); err != nil {
			if len(codes) == 1 {
				return nil, err
			}
			return nil, errs.E(errs.Invalid, "%d. DataMatrix-Code des Ausdrucks (von oben): %s", i+1, message(err))
		}
	}
	// The Sammelcode, the code with the most tokens, lists the prescriptions in the order of
	// the printout, also when the page was scanned sideways or upside down.
	order := []int{0}
	for i := range found {
		if len(found[i]) > len(found[order[0]]) {
			order[0] = i
		}
	}
	for i := range found {
		if i != order[0] {
			order = append(order, i)
		}
	}
	for _, i := range order {
		for _, t := range found[i] {
			if tokens, err = addToken(tokens, t); err != nil {
				return nil, err
			}
		}
	}
	return tokens, nil
}

// code is a DataMatrix code read from the page: its content and where it lies.
type code struct {
	text string
	box  image.Rectangle
}

// sortReadingOrder sorts codes into rows, top to bottom, and each row left to right. A code
// joins a row when its centre lies within the height of the row's first code, which keeps
// codes side by side in one row on pages skewed by a few degrees.
func sortReadingOrder(codes []code) {
	centreY := func(c code) int { return (c.box.Min.Y + c.box.Max.Y) / 2 }
	slices.SortStableFunc(codes, func(a, b code) int { return centreY(a) - centreY(b) })
	for start := 0; start < len(codes); {
		end := start + 1
		for end < len(codes) && centreY(codes[end]) < codes[start].box.Max.Y {
			end++
		}
		slices.SortStableFunc(codes[start:end], func(a, b code) int { return a.box.Min.X - b.box.Min.X })
		start = end
	}
}

// page is a scanned page, grey and binarised, with its dark pixels grouped into connected
// components.
type page struct {
	w, h  int
	gray  []uint8 // luminance, row by row
	dark  []bool  // gray below the page's threshold
	runs  []run   // horizontal runs of dark pixels, row by row
	rowAt []int   // runs of row y are runs[rowAt[y]:rowAt[y+1]]
	comps []component
	// budget is the number of pixels the reader may still be given.
	budget int
}

// run is a horizontal run of dark pixels [x0, x1) in row y, and its component.
type run struct {
	x0, x1, y int32
	comp      int32
}

// component is a connected (8-neighbour) region of dark pixels.
type component struct {
	box image.Rectangle
}

// newPage makes a page of img averaged down by k.
func newPage(img image.Image, k int) *page {
	p := &page{}
	p.gray, p.w, p.h = grayscale(img, k)
	p.dark = make([]bool, len(p.gray))
	t := otsu(p.gray)
	for i, v := range p.gray {
		p.dark[i] = v < t
	}
	p.label()
	return p
}

// label finds the runs of dark pixels and joins runs that touch, also diagonally, into
// components (union-find over runs).
func (p *page) label() {
	p.rowAt = make([]int, p.h+1)
	for y := 0; y < p.h; y++ {
		p.rowAt[y] = len(p.runs)
		row := p.dark[y*p.w : (y+1)*p.w]
		for x := 0; x < p.w; {
			if !row[x] {
				x++
				continue
			}
			x0 := x
			for x < p.w && row[x] {
				x++
			}
			p.runs = append(p.runs, run{x0: int32(x0), x1: int32(x), y: int32(y)})
		}
	}
	p.rowAt[p.h] = len(p.runs)

	parent := make([]int32, len(p.runs))
	for i := range parent {
		parent[i] = int32(i)
	}
	find := func(i int32) int32 {
		for parent[i] != i {
			parent[i] = parent[parent[i]]
			i = parent[i]
		}
		return i
	}
	for y := 1; y < p.h; y++ {
		prev, cur := p.rowAt[y-1], p.rowAt[y]
		prevEnd, curEnd := cur, p.rowAt[y+1]
		// Runs a (row above) and b touch when a.x0 <= b.x1 and b.x0 <= a.x1: the end is
		// exclusive, so this takes diagonal neighbours too.
		for i, j := prev, cur; i < prevEnd && j < curEnd; {
			a, b := p.runs[i], p.runs[j]
			if a.x0 <= b.x1 && b.x0 <= a.x1 {
				if ra, rb := find(int32(i)), find(int32(j)); ra != rb {
					parent[max(ra, rb)] = min(ra, rb)
				}
			}
			if a.x1 < b.x1 {
				i++
			} else {
				j++
			}
		}
	}
	// Roots come before the runs they hold, so one pass numbers the components.
	for i := range p.runs {
		r := &p.runs[i]
		root := find(int32(i))
		var c int32
		if root == int32(i) {
			c = int32(len(p.comps))
			p.comps = append(p.comps, component{box: image.Rect(int(r.x0), int(r.y), int(r.x1), int(r.y)+1)})
		} else {
			c = p.runs[root].comp
		}
		r.comp = c
		comp := &p.comps[c]
		comp.box = comp.box.Union(image.Rect(int(r.x0), int(r.y), int(r.x1), int(r.y)+1))
	}
}

// findCodes reads the codes on the page, largest region first. A region inside a code read
// already is a part of it and is skipped. The regions given to the reader may hold
// maxWorkFactor times the page's pixels in all, so that a page full of patterns that look
// like codes (a photo, a QR code, a halftone logo) still takes well under a second.
func (p *page) findCodes() []code {
	p.budget = maxWorkFactor * p.w * p.h
	var cands []int
	for i, c := range p.comps {
		if p.looksLikeCode(c.box) {
			cands = append(cands, i)
		}
	}
	slices.SortStableFunc(cands, func(a, b int) int {
		return area(p.comps[b].box) - area(p.comps[a].box)
	})
	var codes []code
	attempts := 0
	for _, ci := range cands {
		box := p.comps[ci].box
		centre := image.Pt((box.Min.X+box.Max.X)/2, (box.Min.Y+box.Max.Y)/2)
		if slices.ContainsFunc(codes, func(c code) bool { return centre.In(c.box) }) {
			continue
		}
		if attempts++; attempts > maxAttempts {
			break
		}
		if area(p.region(box)) > p.budget {
			continue
		}
		if text, ok := p.read(ci); ok {
			codes = append(codes, code{text: text, box: box})
		}
	}
	return codes
}

// looksLikeCode reports whether the component with bounding box r may be the L of a
// DataMatrix symbol: big enough, about square, about half dark, and crossed by many dark
// runs in both directions (a symbol of n modules by about n/4 per line, a letter by at most
// 4).
func (p *page) looksLikeCode(r image.Rectangle) bool {
	w, h := r.Dx(), r.Dy()
	// The L of a square symbol turned by θ is 1+tan θ times as wide as high: 1.36 at 20°.
	if w < minCodeSide || h < minCodeSide || 10*w > 14*h || 10*h > 14*w {
		return false
	}
	const lines = 12
	var across, down int
	for i := 1; i <= lines; i++ {
		y := r.Min.Y + i*h/(lines+1)
		x := r.Min.X + i*w/(lines+1)
		across += p.darkRuns(r.Min.X, y, 1, 0, w)
		down += p.darkRuns(x, r.Min.Y, 0, 1, h)
	}
	if across < 5*lines || down < 5*lines {
		return false
	}
	dark := 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for _, rn := range p.runs[p.rowAt[y]:p.rowAt[y+1]] {
			dark += max(0, min(int(rn.x1), r.Max.X)-max(int(rn.x0), r.Min.X))
		}
	}
	fill := float64(dark) / float64(w*h)
	return 0.25 <= fill && fill <= 0.8
}

// darkRuns counts the runs of dark pixels along n pixels from (x, y) in steps (dx, dy).
func (p *page) darkRuns(x, y, dx, dy, n int) int {
	runs := 0
	was := false
	for i := 0; i < n; i++ {
		d := p.dark[y*p.w+x]
		if d && !was {
			runs++
		}
		was = d
		x += dx
		y += dy
	}
	return runs
}

// read gives the region around the component ci, a symbol's L, to the DataMatrix reader,
// with everything that is not part of the symbol whitened. The symbol is the dark pixels
// chained to the L by gaps of up to about one and a half modules: within a DataMatrix a dark
// module is that close to another one unless all 24 modules around it are white (one in 16
// million in random data), while text and lines keep a wider distance from the code.
func (p *page) read(ci int) (string, bool) {
	box := p.comps[ci].box
	region := p.region(box)
	p.budget -= area(region)
	w, h := region.Dx(), region.Dy()

	// In random data a dark run is two modules long on average; the L makes it a bit more.
	darkInBox, runsInBox := 0, 0
	for y := box.Min.Y; y < box.Max.Y; y++ {
		for _, rn := range p.runs[p.rowAt[y]:p.rowAt[y+1]] {
			if int(rn.x0) >= box.Min.X && int(rn.x1) <= box.Max.X {
				darkInBox += int(rn.x1 - rn.x0)
				runsInBox++
			}
		}
	}
	gap := 2
	if runsInBox > 0 {
		gap = max(gap, 3*darkInBox/(4*runsInBox))
	}

	// Dark pixels grown by half the gap, so that pixels up to gap apart touch.
	grown := make([]bool, w*h)
	r := (gap + 1) / 2
	for y := 0; y < h; y++ {
		for _, rn := range p.runs[p.rowAt[region.Min.Y+y]:p.rowAt[region.Min.Y+y+1]] {
			x0 := max(int(rn.x0)-region.Min.X-r, 0)
			x1 := min(int(rn.x1)-region.Min.X+r, w)
			for x := x0; x < x1; x++ {
				grown[y*w+x] = true
			}
		}
	}
	grownDown := make([]bool, w*h)
	for x := 0; x < w; x++ {
		n := 0 // grown pixels in rows y-2r … y, making row y-r
		for y := 0; y < h+r; y++ {
			if y < h && grown[y*w+x] {
				n++
			}
			if out := y - 2*r - 1; out >= 0 && grown[out*w+x] {
				n--
			}
			if o := y - r; o >= 0 {
				grownDown[o*w+x] = n > 0
			}
		}
	}
	grown = grownDown

	// Flood the grown pixels from the L.
	symbol := make([]bool, w*h)
	var stack []int
	for y := box.Min.Y; y < box.Max.Y; y++ {
		for _, rn := range p.runs[p.rowAt[y]:p.rowAt[y+1]] {
			if int(rn.comp) != ci {
				continue
			}
			for x := int(rn.x0); x < int(rn.x1); x++ {
				i := (y-region.Min.Y)*w + x - region.Min.X
				if !symbol[i] {
					symbol[i] = true
					stack = append(stack, i)
				}
			}
		}
	}
	for len(stack) > 0 {
		i := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		x, y := i%w, i/w
		for dy := -1; dy <= 1; dy++ {
			for dx := -1; dx <= 1; dx++ {
				nx, ny := x+dx, y+dy
				if nx < 0 || ny < 0 || nx >= w || ny >= h {
					continue
				}
				if j := ny*w + nx; grown[j] && !symbol[j] {
					symbol[j] = true
					stack = append(stack, j)
				}
			}
		}
	}

	quiet := max(max(w, h)/8, 8)
	bits, err := gozxing.NewBitMatrix(w+2*quiet, h+2*quiet)
	if err != nil {
		return "", false
	}
	for y := 0; y < h; y++ {
		row := p.dark[(region.Min.Y+y)*p.w+region.Min.X:]
		for x := 0; x < w; x++ {
			if row[x] && symbol[y*w+x] {
				bits.Set(x+quiet, y+quiet)
			}
		}
	}
	if text, ok := readBits(bits); ok {
		return text, true
	}
	// At about 3 px per module, the page's pixels are too coarse for the reader to sample
	// modules reliably. The grey image enlarged twice places the edges between pixels.
	return p.readEnlarged(region, symbol, quiet)
}

// region returns the part of the page read for the L with bounding box box: the margin takes
// in the corner opposite the L, which a turned symbol pushes out of the L's bounding box (by
// up to half its side at 45°).
func (p *page) region(box image.Rectangle) image.Rectangle {
	margin := max(box.Dx(), box.Dy())/2 + 2
	return box.Inset(-margin).Intersect(image.Rect(0, 0, p.w, p.h))
}

// readEnlarged gives the reader the region enlarged twice from the grey image (bilinear),
// binarised with a threshold of its own, with what lies outside symbol whitened.
func (p *page) readEnlarged(region image.Rectangle, symbol []bool, quiet int) (string, bool) {
	w, h := region.Dx(), region.Dy()
	if 4*w*h > p.budget {
		return "", false
	}
	p.budget -= 4 * w * h
	var grays []uint8
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			if symbol[y*w+x] {
				grays = append(grays, p.gray[(region.Min.Y+y)*p.w+region.Min.X+x])
			}
		}
	}
	t := int(otsu(grays))
	bits, err := gozxing.NewBitMatrix(2*(w+quiet), 2*(h+quiet))
	if err != nil {
		return "", false
	}
	at := func(x, y int) int { // grey at region pixel (x, y), clamped
		x, y = min(max(x, 0), w-1), min(max(y, 0), h-1)
		return int(p.gray[(region.Min.Y+y)*p.w+region.Min.X+x])
	}
	for y2 := 0; y2 < 2*h; y2++ {
		// Output pixel centre (y2+0.5)/2 in source pixels; source centres at y+0.5.
		sy := float64(y2)/2 - 0.25
		y0 := int(math.Floor(sy))
		fy := sy - float64(y0)
		for x2 := 0; x2 < 2*w; x2++ {
			if !symbol[(y2/2)*w+x2/2] {
				continue
			}
			sx := float64(x2)/2 - 0.25
			x0 := int(math.Floor(sx))
			fx := sx - float64(x0)
			v := (1-fy)*((1-fx)*float64(at(x0, y0))+fx*float64(at(x0+1, y0))) +
				fy*((1-fx)*float64(at(x0, y0+1))+fx*float64(at(x0+1, y0+1)))
			if int(v) < t {
				bits.Set(x2+quiet, y2+quiet)
			}
		}
	}
	return readBits(bits)
}

// readBits runs gozxing's DataMatrix reader on a binary image.
func readBits(bits *gozxing.BitMatrix) (text string, ok bool) {
	defer func() {
		if r := recover(); r != nil {
			text, ok = "", false
		}
	}()
	bmp, err := gozxing.NewBinaryBitmap(bitsBinarizer{bits})
	if err != nil {
		return "", false
	}
	res, err := datamatrix.NewDataMatrixReader().Decode(bmp, nil)
	if err != nil {
		return "", false
	}
	return res.GetText(), true
}

// bitsBinarizer hands a binary image that is ready to the reader, which asks a Binarizer
// for it.
type bitsBinarizer struct{ bits *gozxing.BitMatrix }

func (b bitsBinarizer) GetLuminanceSource() gozxing.LuminanceSource { return nil }
func (b bitsBinarizer) GetBlackMatrix() (*gozxing.BitMatrix, error) { return b.bits, nil }
func (b bitsBinarizer) GetWidth() int                               { return b.bits.GetWidth() }
func (b bitsBinarizer) GetHeight() int                              { return b.bits.GetHeight() }
func (b bitsBinarizer) CreateBinarizer(gozxing.LuminanceSource) gozxing.Binarizer {
	return b
}
func (b bitsBinarizer) GetBlackRow(y int, row *gozxing.BitArray) (*gozxing.BitArray, error) {
	return b.bits.GetRow(y, row), nil
}

func area(r image.Rectangle) int { return r.Dx() * r.Dy() }

// otsu returns the threshold that best splits the grey values into dark and light (Otsu's
// method): values below it are dark. A page of one grey has no dark pixels.
func otsu(gray []uint8) uint8 {
	var hist [256]int
	for _, v := range gray {
		hist[v]++
	}
	total := len(gray)
	var sum float64
	for v, n := range hist {
		sum += float64(v * n)
	}
	var sumB float64
	var wB int
	best, bestVar := 0, -1.0
	for t := 0; t < 256; t++ {
		wB += hist[t]
		if wB == 0 {
			continue
		}
		wF := total - wB
		if wF == 0 {
			break
		}
		sumB += float64(t * hist[t])
		mB := sumB / float64(wB)
		mF := (sum - sumB) / float64(wF)
		between := float64(wB) * float64(wF) * (mB - mF) * (mB - mF)
		if between > bestVar {
			best, bestVar = t, between
		}
	}
	// Values up to best are the dark class.
	return uint8(min(best+1, 255))
}

// scaleDown returns the whole factor by which an image of bounds b is averaged down so that
// its longer side is at most maxWorkSide.
func scaleDown(b image.Rectangle) int {
	return (max(b.Dx(), b.Dy()) + maxWorkSide - 1) / maxWorkSide
}

// grayscale returns the luminance of img, averaged down by k, with transparent pixels on
// white. The result is w×h pixels, row by row.
func grayscale(img image.Image, k int) (gray []uint8, w, h int) {
	b := img.Bounds()
	w, h = b.Dx()/k, b.Dy()/k
	gray = make([]uint8, w*h)
	if k == 1 {
		// Scanners and the JPEG decoder give grey or YCbCr images, whose luminance is
		// there to copy.
		switch m := img.(type) {
		case *image.Gray:
			for y := 0; y < h; y++ {
				copy(gray[y*w:(y+1)*w], m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):])
			}
			return gray, w, h
		case *image.YCbCr:
			for y := 0; y < h; y++ {
				copy(gray[y*w:(y+1)*w], m.Y[m.YOffset(b.Min.X, b.Min.Y+y):])
			}
			return gray, w, h
		}
	}
	lum := luminance(img)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			sum := 0
			for yy := 0; yy < k; yy++ {
				for xx := 0; xx < k; xx++ {
					sum += int(lum(b.Min.X+x*k+xx, b.Min.Y+y*k+yy))
				}
			}
			gray[y*w+x] = uint8(sum / (k * k))
		}
	}
	return gray, w, h
}

// luminance returns a function that gives the grey value of img at (x, y), reading the
// pixel buffers of the types scanners and decoders produce directly.
func luminance(img image.Image) func(x, y int) uint8 {
	switch m := img.(type) {
	case *image.Gray:
		return func(x, y int) uint8 { return m.Pix[m.PixOffset(x, y)] }
	case *image.YCbCr:
		return func(x, y int) uint8 { return m.Y[m.YOffset(x, y)] }
	case *image.RGBA:
		return func(x, y int) uint8 {
			i := m.PixOffset(x, y)
			s := m.Pix[i : i+4 : i+4]
			// Premultiplied: on white, each channel gains what alpha lacks.
			return luma(int(s[0])+255-int(s[3]), int(s[1])+255-int(s[3]), int(s[2])+255-int(s[3]))
		}
	case *image.NRGBA:
		return func(x, y int) uint8 {
			i := m.PixOffset(x, y)
			s := m.Pix[i : i+4 : i+4]
			a := int(s[3])
			on := func(c uint8) int { return (int(c)*a + 255*(255-a)) / 255 }
			return luma(on(s[0]), on(s[1]), on(s[2]))
		}
	}
	return func(x, y int) uint8 {
		r, g, bl, a := img.At(x, y).RGBA()
		white := 0xffff - a
		return luma(int(r+white)>>8, int(g+white)>>8, int(bl+white)>>8)
	}
}

// luma weighs red, green and blue as ITU-R BT.601 does (as JPEG's Y).
func luma(r, g, b int) uint8 {
	v := (299*r + 587*g + 114*b + 500) / 1000
	return uint8(min(max(v, 0), 255))
}
