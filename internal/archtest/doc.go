// Package archtest keeps the shape of the code: domain packages stay free of adapters
// (databases, HTTP, SIP, drivers), as ARCHITECTURE.md requires. It has only tests.
package archtest
