package web

import (
	"fmt"
	"net/http"
	"time"

	"github.com/tresen/tresen/internal/errs"
	"github.com/tresen/tresen/internal/inbox"
	"github.com/tresen/tresen/internal/request"
	"github.com/tresen/tresen/internal/stats"
	"github.com/tresen/tresen/internal/tenant"
)

const statsTitle = "Statistik"

// maxStatsDays bounds a report's period.
const maxStatsDays = 366

// statsPeriod reads from and to (YYYY-MM-DD) from the query; default: the last 30 days.
func (s *Server) statsPeriod(r *http.Request) (from, to time.Time, err error) {
	today := midnight(s.db.Now())
	from, to = today.AddDate(0, 0, -29), today
	q := r.URL.Query()
	if v := q.Get("from"); v != "" {
		if from, err = time.ParseInLocation(time.DateOnly, v, today.Location()); err != nil {
			return from, to, errs.Field("from", "Bitte ein Datum im Format JJJJ-MM-TT wählen.")
		}
	}
	if v := q.Get("to"); v != "" {
		if to, err = time.ParseInLocation(time.DateOnly, v, today.Location()); err != nil {
			return from, to, errs.Field("to", "Bitte ein Datum im Format JJJJ-MM-TT wählen.")
		}
	}
	switch {
	case to.Before(from):
		return from, to, errs.Field("to", "Das Ende liegt vor dem Anfang.")
	case to.Sub(from) > maxStatsDays*24*time.Hour:
		return from, to, errs.Field("from", "Höchstens ein Jahr auf einmal.")
	}
	return from, to, nil
}

func (s *Server) statsReport(r *http.Request, t tenant.Tenant, from, to time.Time) (stats.Report, error) {
	ctx := r.Context()
	convs, err := s.conversations.Conversations(ctx, t.ID, from)
	if err != nil {
		return stats.Report{}, err
	}
	items, _, err := s.inbox.List(ctx, t.ID, inbox.Filter{Since: from})
	if err != nil {
		return stats.Report{}, err
	}
	return stats.Build(from, to, convs, items), nil
}

// chart is a bar chart drawn on the server as SVG: no script, no third party.
type chart struct {
	Width, Height int
	Max           int // the value of the top line
	Bars          []chartBar
	Labels        []chartLabel
}

type chartBar struct {
	X, W        float64
	Y1, H1      float64 // phone, at the bottom
	Y2, H2      float64 // chat, on top
	Title       string
	Phone, Chat int
	Date        string
}

type chartLabel struct {
	X    float64
	Text string
}

// statsTypeRow is a request type's count with its bar's length in percent of the largest.
type statsTypeRow struct {
	Label string
	Count int
	Width int
}

type statsData struct {
	From, To     string
	Report       stats.Report
	Chart        chart
	Types        []statsTypeRow
	PhoneShare   int
	ChatShare    int
	WithoutStaff int // percent of the conversations
	Median       string
	Query        string
}

const chartHeight = 180

func dayChart(rep stats.Report) chart {
	c := chart{Width: 720, Height: chartHeight}
	for _, d := range rep.Days {
		c.Max = max(c.Max, d.Requests)
	}
	c.Max = max(c.Max, 1)
	w := float64(c.Width) / float64(len(rep.Days))
	scale := float64(chartHeight) / float64(c.Max)
	every := max(1, len(rep.Days)/8)
	for i, d := range rep.Days {
		x := float64(i) * w
		h1, h2 := float64(d.Phone)*scale, float64(d.Requests-d.Phone)*scale
		b := chartBar{X: x + w*0.1, W: w * 0.8, H1: h1, Y1: chartHeight - h1, H2: h2, Y2: chartHeight - h1 - h2,
			Phone: d.Phone, Chat: d.Requests - d.Phone, Date: d.Date.Format("02.01.")}
		b.Title = fmt.Sprintf("%s: %d Anliegen (%d Telefon, %d Online-Rezeption)", d.Date.Format("02.01.2006"), d.Requests, b.Phone, b.Chat)
		c.Bars = append(c.Bars, b)
		if i%every == 0 {
			c.Labels = append(c.Labels, chartLabel{X: x + w/2, Text: b.Date})
		}
	}
	return c
}

// handleStats shows the period's counts with charts drawn on the server.
func (s *Server) handleStats(w http.ResponseWriter, r *http.Request) error {
	t, err := s.practice(r)
	if err != nil {
		return err
	}
	from, to, err := s.statsPeriod(r)
	if err != nil {
		return err
	}
	rep, err := s.statsReport(r, t, from, to)
	if err != nil {
		return err
	}
	d := statsData{From: from.Format(time.DateOnly), To: to.Format(time.DateOnly), Report: rep, Chart: dayChart(rep),
		PhoneShare: stats.Share(rep.Total.Phone, rep.Total.Requests), ChatShare: stats.Share(rep.Total.Chat, rep.Total.Requests),
		WithoutStaff: stats.Share(rep.Total.WithoutStaff, rep.Total.Conversations), Median: "–"}
	d.Query = "from=" + d.From + "&to=" + d.To
	if rep.Done > 0 {
		d.Median = duration(rep.MedianHandling)
	}
	most := 1
	for _, typ := range request.Types {
		most = max(most, rep.Total.ByType[typ])
	}
	for _, typ := range request.Types {
		n := rep.Total.ByType[typ]
		d.Types = append(d.Types, statsTypeRow{Label: typ.Label(), Count: n, Width: n * 100 / most})
	}
	s.render(w, r, http.StatusOK, "stats", page{Title: statsTitle, Data: d})
	return nil
}

// duration says a handling time as the team thinks of it: "45 Min.", "3 Std. 10 Min.",
// "2 Tage 4 Std.".
func duration(d time.Duration) string {
	m := int(d.Round(time.Minute) / time.Minute)
	switch {
	case m < 60:
		return fmt.Sprintf("%d Min.", m)
	case m < 24*60:
		return fmt.Sprintf("%d Std. %d Min.", m/60, m%60)
	}
	days := m / (24 * 60)
	unit := "Tage"
	if days == 1 {
		unit = "Tag"
	}
	return fmt.Sprintf("%d %s %d Std.", days, unit, m%(24*60)/60)
}

// handleStatsExport sends the period's counts per day as CSV.
func (s *Server) handleStatsExport(w http.ResponseWriter, r *http.Request) error {
	t, err := s.practice(r)
	if err != nil {
		return err
	}
	from, to, err := s.statsPeriod(r)
	if err != nil {
		return err
	}
	rep, err := s.statsReport(r, t, from, to)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="statistik-%s-%s.csv"`, from.Format(time.DateOnly), to.Format(time.DateOnly)))
	return rep.CSV(w)
}
