// Package e2e holds end-to-end tests: the real reference server on
// 127.0.0.1:0 and real SDK instances with tone devices, asserting on the
// audio itself (a tone sent is the tone received, by Goertzel) and on the
// callbacks the guide promises. It has no non-test code.
package e2e
