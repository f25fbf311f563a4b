package main

import (
	"bufio"
	"encoding/json"
	"io"
	"strings"
	"time"

	"github.com/tresen/tresen/internal/berlin"
	"github.com/tresen/tresen/internal/demo"
	"github.com/tresen/tresen/internal/nlu"
)

// runNLU prints what the understanding engine makes of a text: one JSON object
// {"intent": …, "slots": {…}} per input. The text is the arguments, joined; without
// arguments every line of standard input is one input.
func runNLU(args []string, stdin io.Reader, stdout io.Writer) error {
	fs := newFlags("nlu")
	nowFlag := fs.String("now", "", "reference time for relative dates (RFC 3339; default: now)")
	fs.Bool("json", true, "print JSON (the only format)")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	now := time.Now()
	if *nowFlag != "" {
		if now, err = time.Parse(time.RFC3339, *nowFlag); err != nil {
			return usagef("nlu: --now %q ist keine Zeit im Format RFC 3339 (z. B. 2026-11-23T09:00:00+01:00)", *nowFlag)
		}
	} else {
		now = now.In(berlin.Location)
	}
	u := &nlu.Understander{Doctors: demo.PracticeDoctors}
	enc := json.NewEncoder(stdout)
	enc.SetEscapeHTML(false)
	if len(rest) > 0 {
		return enc.Encode(u.Understand(strings.Join(rest, " "), now))
	}
	sc := bufio.NewScanner(stdin)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	n := 0
	for sc.Scan() {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		n++
		if err := enc.Encode(u.Understand(sc.Text(), now)); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return usagef("nlu: Eingabe nicht lesbar: %v", err)
	}
	if n == 0 {
		return usagef("nlu: kein Text angegeben")
	}
	return nil
}
