//go:build wasip1

package weir

import "unsafe"

// Level is the severity of a log line.
type Level uint32

const (
	Trace Level = iota
	Debug
	Info
	Warn
	Error
)

//go:wasmimport weir:plugin/log@0.2.0 log
func logImport(level uint32, ptr unsafe.Pointer, len uint32)

// Log writes one line to weir's log, under the plugin's name.
func Log(level Level, message string) {
	logImport(uint32(level), unsafe.Pointer(unsafe.StringData(message)), uint32(len(message)))
}
