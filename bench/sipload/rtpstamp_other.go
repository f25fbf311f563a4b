//go:build !linux

package main

import (
	"net"
	"time"
)

// enableStamps does nothing here: without SO_TIMESTAMPNS sipload times the packets by
// its reads.
func enableStamps(conn *net.UDPConn) error { return nil }

func stampOf(oob []byte) (time.Time, bool) { return time.Time{}, false }
