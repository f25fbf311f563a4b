package ocr

import (
	"image"
	"math"
	"slices"

	"github.com/tresen/tresen/internal/muster16"
)

// greyPaper is, in a grey scan, the darkest grey that is still not black print: black is
// darker (about 20–60), the red form print lighter (about 100).
const greyPaper = 85

// dark is the grey below which a pixel is black print.
const dark = 110

// paper is the grey from which on a pixel is paper: the red form print and a blue stamp
// are about as light after dropRed (230 and 190), and Tesseract, which reads the grey
// and not a black-and-white image, would see their shapes.
const paper = 180

// dropRed keeps only what is printed in black: a pixel's value is its brightest channel,
// so the red form print, the pink ground and a blue stamp turn light, and what is as
// light as paper becomes white. In a grey scan (grey set) the red print is only lighter
// than black: what is lighter than greyPaper becomes paper.
func dropRed(img *image.RGBA, grey bool) *image.Gray {
	b := img.Bounds()
	out := image.NewGray(b)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		src := img.Pix[img.PixOffset(b.Min.X, y):]
		dst := out.Pix[out.PixOffset(b.Min.X, y):]
		for x := range b.Dx() {
			p := src[4*x : 4*x+3 : 4*x+3]
			v := max(p[0], p[1], p[2])
			if v >= paper || grey && v > greyPaper {
				v = 255
			}
			dst[x] = v
		}
	}
	return out
}

// blank whitens a part of the page.
func blank(ink *image.Gray, r image.Rectangle) {
	r = r.Intersect(ink.Bounds())
	for y := r.Min.Y; y < r.Max.Y; y++ {
		row := ink.Pix[ink.PixOffset(r.Min.X, y):]
		for x := range r.Dx() {
			row[x] = 255
		}
	}
}

// darkIn counts the dark pixels of row y between x0 and x1.
func darkIn(ink *image.Gray, y, x0, x1 int) int {
	row := ink.Pix[ink.PixOffset(x0, y):ink.PixOffset(x1, y)]
	n := 0
	for _, v := range row {
		if v < dark {
			n++
		}
	}
	return n
}

// inkRatio is the share of dark pixels.
func inkRatio(g *image.Gray) float64 {
	b := g.Bounds()
	if b.Empty() {
		return 0
	}
	n := 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		n += darkIn(g, y, b.Min.X, b.Max.X)
	}
	return float64(n) / float64(b.Dx()*b.Dy())
}

// markIn tells whether a checkbox holds a black mark (an X, or its digit 6–9: the
// pre-printed red digit is gone after dropRed), and how sure that is: a box clearly empty
// or clearly marked is sure, ink in between is not.
func markIn(ink *image.Gray, r image.Rectangle) (bool, float64) {
	ratio := inkRatio(ink.SubImage(r).(*image.Gray))
	const empty, marked = 0.01, 0.04
	switch {
	case ratio <= empty:
		return false, 1
	case ratio >= marked:
		return true, 1
	}
	return ratio > (empty+marked)/2, 0.5
}

// offset is how far a printer's print lies off the form (mm).
type offset struct{ x, y float64 }

// maxOffset is how far off a print is looked for (mm): printers are often 1–2 mm off.
const maxOffset = 2.5

// printOffsets finds each printer's offset from the lines that begin at a fixed place
// (muster16.Lines): vertically, where their rows of ink fit the baselines best;
// horizontally, where the lines begin. A printer that printed nothing has none.
func printOffsets(ink *image.Gray) [2]offset {
	var off [2]offset
	for _, by := range []muster16.Printer{muster16.Practice, muster16.Pharmacy} {
		var lines []muster16.Line
		for _, l := range muster16.Lines {
			if l.By == by {
				lines = append(lines, l)
			}
		}
		off[by].y = baselineOffset(ink, lines)
		off[by].x = startOffset(ink, lines, off[by].y)
	}
	return off
}

// px is mm in the prepared page's pixels.
func px(mm float64) int { return int(mm*pxPerMM + 0.5) }

// Glyph shapes: capitals and digits stand about 2.4 mm above the baseline (spec §3.1; more
// in some fonts); a glyph's ink begins about 0.25 mm into its cell.
const capHeight, bearing = 2.4, 0.25

// baselineOffset is the vertical shift (mm) that fits the lines' rows of ink best to
// their baselines, where the ink of glyphs ends below (only descenders reach further):
// the most ink of their first 25 mm in the body millimetres above the baseline, the least
// in the millimetre below; of equally good shifts, the middle one. Only the baseline is
// relied on: glyphs are as high as the printer's font makes them.
func baselineOffset(ink *image.Gray, lines []muster16.Line) float64 {
	b := ink.Bounds()
	span, body, below := px(maxOffset), px(1.5), px(1)
	profs := make([][]int, len(lines)) // dark pixels per row, from span+body above the baseline
	total := 0
	for i, l := range lines {
		x0, x1 := max(b.Min.X, px(l.X-2)), min(b.Max.X, px(l.X+25))
		top := px(l.Baseline) - span - body
		rows := make([]int, body+2*span+below)
		for j := range rows {
			if y := top + j; y >= b.Min.Y && y < b.Max.Y {
				rows[j] = darkIn(ink, y, x0, x1)
				total += rows[j]
			}
		}
		profs[i] = rows
	}
	if total < 100 {
		return 0 // nothing printed
	}
	scores := make([]int, 2*span+1)
	best := math.MinInt
	for s := range scores {
		for _, rows := range profs {
			for j, n := range rows[s : s+body+below] {
				if j >= body {
					n = -n
				}
				scores[s] += n
			}
		}
		best = max(best, scores[s])
	}
	// Equally good: within 2 % of the ink the best shift holds.
	var sum, n int
	for s, v := range scores {
		if best-v <= total/50 {
			sum, n = sum+s, n+1
		}
	}
	return (float64(sum)/float64(n) - float64(span)) / pxPerMM
}

// startOffset is the horizontal shift (mm): the median of how far the lines' first ink
// lies from where their first character's ink belongs. Each line is looked at in its band
// of rows, dy mm off its baseline; its first ink is ink after a blank of lineGap, so that
// the end of a neighbour's print reaching into the band (a cross in the box left of the
// pharmacy's IK, the end of the status) is not taken for it.
func startOffset(ink *image.Gray, lines []muster16.Line, dy float64) float64 {
	b := ink.Bounds()
	var shifts []float64
	for _, l := range lines {
		y0, y1 := max(b.Min.Y, px(l.Baseline+dy-capHeight-0.2)), min(b.Max.Y, px(l.Baseline+dy+0.3))
		from, to := px(l.X-maxOffset+bearing), px(l.X+maxOffset+bearing)
		// Ink per column from lineGap before `from` to half a millimetre after `to`.
		x0 := max(b.Min.X, from-px(lineGap))
		cols := make([]int, max(0, min(b.Max.X, to+px(0.5))-x0))
		for i := range cols {
			for y := y0; y < y1; y++ {
				if ink.Pix[ink.PixOffset(x0+i, y)] < dark {
					cols[i]++
				}
			}
		}
		blank := 0 // columns without ink just before
		for i := range min(len(cols), to-x0) {
			if cols[i] < 2 {
				blank++
				continue
			}
			first := x0+i >= from && blank >= px(lineGap)
			blank = 0
			if !first {
				continue
			}
			// Ink that goes on: a speck of noise does not.
			n := 0
			for _, c := range cols[i:min(len(cols), i+px(0.5))] {
				n += c
			}
			if n >= 10 {
				shifts = append(shifts, float64(x0+i)/pxPerMM-l.X-bearing)
				break
			}
		}
	}
	if len(shifts) == 0 {
		return 0
	}
	slices.Sort(shifts)
	return shifts[(len(shifts)-1)/2]
}

// lineGap is the blank (mm) before a line's first ink: more than between the glyphs of a
// word, less than a space at 10 cpi.
const lineGap = 1.0

// Margins around each box (mm): the print's offset is known, and its lines are searched
// for within searchY above and below. Less between the columns of a Taxzeile, which
// touch.
const marginX, columnMargin, searchY = 1.0, 0.3, 1.2

// Lines of print (mm): at least minLine high (a dot or a comma standing alone, or the
// descenders of the line above, are not one), at most maxLine (more is two lines whose
// descenders and accents touch); accents stand up to accentGap above their letters.
const minLine, maxLine, accentGap = 1.0, 4.8, 0.5

// printIn is the print of box on the page, clean for OCR: the box, moved by its printer's
// offset d and widened by the margin, and within it the line of print that overlaps the
// box most, with a white margin; the ink of the lines above and below is whitened, and
// so are a neighbour's glyphs at the sides (clearSides; pitch is the field's fixed pitch,
// 0 if none). A line that lies nearer the middle of one of others (the other printer's
// boxes, moved by its offset) is that one's: with both prints off towards each other,
// the pharmacy's Abgabedatum reaches into the third prescription line. where is the part
// of the page it shows. Without print, part is nil and where is the moved box.
func printIn(ink *image.Gray, box muster16.Box, pitch float64, d offset, others []image.Rectangle) (part *image.Gray, where image.Rectangle) {
	mx := marginX
	if box.X >= 91 && box.Y >= 28 && box.Y < 52 { // a Taxzeile
		mx = columnMargin
	}
	b := ink.Bounds()
	core := rect(box, 0, 0, d.x, d.y).Intersect(b)
	win := rect(box, mx, searchY, d.x, d.y).Intersect(b)
	if core.Empty() || win.Empty() {
		return nil, core
	}
	// Rows with ink (in the box's columns), and their runs.
	rows := make([]int, win.Dy())
	for i := range rows {
		rows[i] = darkIn(ink, win.Min.Y+i, core.Min.X, core.Max.X)
	}
	type run struct{ a, b int } // rows of the window
	var runs []run
	for i, n := range rows {
		switch {
		case n < 2:
		case len(runs) > 0 && runs[len(runs)-1].b == i:
			runs[len(runs)-1].b = i + 1
		default:
			runs = append(runs, run{i, i + 1})
		}
	}
	// A run too high for one line is two whose descenders and tops touch: cut it at its
	// row of least ink, away from its top and at least a line's height from its bottom
	// (the window may show only the top of the next line), until each part fits. Of
	// rows as light, the lowest: a descender's stem is as thin as the gap below it.
	for i := 0; i < len(runs); i++ {
		r := runs[i]
		if r.b-r.a <= px(maxLine) {
			continue
		}
		cut := r.a + px(1.5)
		for y := cut; y < r.b-px(minLine); y++ {
			if rows[y] <= rows[cut] {
				cut = y
			}
		}
		runs = slices.Insert(runs, i+1, run{cut + 1, r.b})
		runs[i].b = cut
		i-- // the first part may need cutting again
	}
	lo, hi := core.Min.Y-win.Min.Y, core.Max.Y-win.Min.Y // the box's rows
	// theirs tells a run of rows that another's box claims.
	theirs := func(r run) bool {
		xa, xb := core.Max.X, core.Min.X // the run's ink, left to right
		for y := win.Min.Y + r.a; y < win.Min.Y+r.b; y++ {
			row := ink.Pix[ink.PixOffset(core.Min.X, y):ink.PixOffset(core.Max.X, y)]
			for x, v := range row {
				if v < dark {
					xa, xb = min(xa, core.Min.X+x), max(xb, core.Min.X+x+1)
				}
			}
		}
		mid := float64(win.Min.Y) + float64(r.a+r.b)/2
		own := math.Abs(mid - float64(core.Min.Y+core.Max.Y)/2)
		for _, o := range others {
			if 2*(min(xb, o.Max.X)-max(xa, o.Min.X)) > xb-xa && win.Min.Y+r.b > o.Min.Y && win.Min.Y+r.a < o.Max.Y &&
				math.Abs(mid-float64(o.Min.Y+o.Max.Y)/2) < own {
				return true
			}
		}
		return false
	}
	best, bestOverlap := -1, 0
	for i, r := range runs {
		if r.b-r.a < px(minLine) {
			continue
		}
		if o := min(r.b, hi) - max(r.a, lo); o > bestOverlap && !theirs(r) {
			best, bestOverlap = i, o
		}
	}
	if best < 0 {
		return nil, image.Rect(win.Min.X, core.Min.Y, win.Max.X, core.Max.Y)
	}
	line := runs[best]
	// Accents above: small runs close over the line.
	for i := best - 1; i >= 0 && runs[i].b >= line.a-px(accentGap) && runs[i].b-runs[i].a < px(minLine); i-- {
		line.a = runs[i].a
	}
	pad := px(0.5)
	where = image.Rect(win.Min.X, max(win.Min.Y, win.Min.Y+line.a-pad), win.Max.X, min(win.Max.Y, win.Min.Y+line.b+pad))
	part = image.NewGray(where)
	for y := where.Min.Y; y < where.Max.Y; y++ {
		dst := part.Pix[part.PixOffset(where.Min.X, y):part.PixOffset(where.Max.X, y)]
		if i := y - win.Min.Y; i < line.a || i >= line.b {
			for x := range dst {
				dst[x] = 255
			}
			continue
		}
		copy(dst, ink.Pix[ink.PixOffset(where.Min.X, y):])
	}
	clearSides(part, image.Rect(where.Min.X, win.Min.Y+line.a, where.Max.X, win.Min.Y+line.b), core, pitch)
	return part, where
}

// clearSides whitens in part the glyphs of neighbouring fields that reach into it at its
// sides, looking at the line's rows: ink that touches an edge and lies all of it in the
// margin outside the box core; and, in fixed-pitch print (pitch > 0), which keeps each
// glyph in its cell, a glyph whose middle lies outside the box's cells (the spec's boxes
// begin and end half a millimetre outside them) — such as the first digit of a
// Taxzeile's PZN at the end of the street's line, the pharmacy's print off to the left
// and down.
func clearSides(part *image.Gray, line, core image.Rectangle, pitch float64) {
	where := part.Bounds()
	cols := make([]int, where.Dx())
	for y := line.Min.Y; y < line.Max.Y; y++ {
		for x, v := range part.Pix[part.PixOffset(where.Min.X, y):part.PixOffset(where.Max.X, y)] {
			if v < dark {
				cols[x]++
			}
		}
	}
	whiten := func(x0, x1 int) {
		for y := where.Min.Y; y < where.Max.Y; y++ {
			row := part.Pix[part.PixOffset(where.Min.X, y):]
			for x := x0; x < x1; x++ {
				row[x] = 255
			}
		}
	}
	n := len(cols)
	if k := slices.Index(cols, 0); n > 0 && cols[0] > 0 && k > 0 && where.Min.X+k <= core.Min.X+px(0.3) {
		whiten(0, k)
	}
	for k := n - 1; k >= 0 && cols[n-1] > 0; k-- {
		if cols[k] == 0 {
			if where.Min.X+k+1 >= core.Max.X-px(0.3) {
				whiten(k+1, n)
			}
			break
		}
	}
	if pitch == 0 {
		return
	}
	first, last := core.Min.X+px(0.5), core.Max.X-px(0.5)
	for x := 0; x < n; {
		end := x + 1
		if cols[x] > 0 {
			for end < n && cols[end] > 0 {
				end++
			}
			if mid := where.Min.X + (x+end)/2; mid < first || mid > last {
				whiten(x, end)
			}
		}
		x = end
	}
}
