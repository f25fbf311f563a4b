package deepgram

import "time"

// SetKeepAlive shortens the KeepAlive interval of r's streams, so that a test need not
// stay silent for seconds.
func SetKeepAlive(r *Recognizer, d time.Duration) { r.keepAlive = d }
