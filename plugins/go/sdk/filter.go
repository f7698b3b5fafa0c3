//go:build wasip1

package weir

import (
	"errors"
	"structs"
)

// Filter is a filter plugin: it keeps or drops each record.
type Filter interface {
	// Init is called once per instance before any record; an error rejects
	// the plugin with its message.
	Init(settings Settings) error
	// Keep says whether to keep record. An error fails this record alone:
	// it goes to the failure destination with the error's message.
	Keep(record Record) (bool, error)
}

// ExportFilter makes f the plugin; call it from the plugin's init function.
func ExportFilter(f Filter) { filter = f }

var (
	filter      Filter
	initialised bool
)

// The exports below implement weir:plugin/filter-plugin. The version in
// their names is that of the WIT package (a unit test of the weir CLI
// checks it).

// initResult is the canonical ABI layout of result<_, string>.
type initResult struct {
	_       structs.HostLayout
	isErr   uint8
	message list
}

// verdictsABI is the layout of filter-plugin.verdicts.
type verdictsABI struct {
	_            structs.HostLayout
	keep, errors list
}

// recordErrorABI is the layout of types.record-error.
type recordErrorABI struct {
	_       structs.HostLayout
	index   uint32
	message list
}

// The results of the last call, kept alive (and reused) until the next one,
// after weir has read them.
var (
	initOut     initResult
	initMessage string
	verdicts    verdictsABI
	keep        []uint32
	failures    []recordErrorABI
	messages    []string
)

//go:wasmexport weir:plugin/filter-plugin@0.2.0#init
func filterInit(settings, n uint32) uint32 {
	defer endCall()
	defer logPanic()
	var err error
	if filter == nil {
		err = errors.New("no filter: call weir.ExportFilter in the plugin's init function")
	} else {
		err = filter.Init(settingsAt(settings, n))
	}
	initialised = err == nil
	initOut = initResult{}
	if err != nil {
		initMessage = err.Error()
		initOut.isErr = 1
		initOut.message = listOfString(initMessage)
	}
	return addr(&initOut)
}

//go:wasmexport weir:plugin/filter-plugin@0.2.0#process
func filterProcess(p uint32) uint32 {
	defer endCall()
	defer logPanic()
	b := batchAt(p)
	keep, failures, messages = keep[:0], failures[:0], messages[:0]
	for i := range b.len() {
		kept, err := false, errNotInitialised
		if initialised {
			kept, err = filter.Keep(Record{b, i})
		}
		switch {
		case err != nil:
			fail(i, err.Error())
		case kept:
			keep = append(keep, uint32(i))
		}
	}
	verdicts = verdictsABI{keep: listFrom(keep), errors: listFrom(failures)}
	return addr(&verdicts)
}

// What the Rust SDK answers for records processed after a failed init.
var errNotInitialised = errors.New("plugin not initialised")

func fail(index int, message string) {
	messages = append(messages, message) // keeps the text alive
	failures = append(failures, recordErrorABI{index: uint32(index), message: listOfString(message)})
}

// logPanic logs a panic, which then fails the whole call: without this its
// message would be lost (a Go panic ends in a bare trap).
func logPanic() {
	if v := recover(); v != nil {
		msg := "panic"
		switch v := v.(type) {
		case error:
			msg += ": " + v.Error()
		case string:
			msg += ": " + v
		}
		Log(Error, msg)
		panic(v)
	}
}
