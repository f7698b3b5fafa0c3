// Package weir writes weir filter plugins in Go (standard Go, GOOS=wasip1).
//
// A plugin is a package main that registers its Filter in an init function:
//
//	type bigSpenders struct{ min float64 }
//
//	func (f *bigSpenders) Init(s weir.Settings) (err error) {
//		f.min, err = s.RequireFloat("min_amount")
//		return err
//	}
//
//	func (f *bigSpenders) Keep(r weir.Record) (bool, error) {
//		amount, err := weir.JSONNumber(r.Value(), "amount")
//		return amount > f.min, err
//	}
//
//	func init() { weir.ExportFilter(&bigSpenders{}) }
//
//	func main() {}
//
// `weir plugin build` builds it with -buildmode=c-shared and turns it into a
// component. An error from Keep fails that record alone; an error from Init
// rejects the plugin. A panic fails the whole call, after its message is
// logged. The Go runtime reads the clock and random numbers through WASI,
// so the stage needs `grants = { wasi = true }`.
//
// This package holds the canonical ABI glue of the filter world written by
// hand (no generator produces code for standard Go's wasmexport): the
// batch's columns are read in place, and the memory rules that keep the Go
// runtime from calling WASI where the component model forbids it are in
// memory.go. Other kinds would each need a package of their own, since the
// exports here are those of the filter world.
package weir
