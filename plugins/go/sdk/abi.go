//go:build wasip1

package weir

import (
	"structs"
	"unsafe"
)

// The canonical ABI layouts of the types the filter world passes through
// memory, and their conversion to the SDK's types.

// batchABI is the canonical ABI layout of weir:plugin/types.batch: every
// field is a list (address, length), `columns` flattened in place.
type batchABI struct {
	_              structs.HostLayout
	origin         list
	partition      list
	values         list
	valueEnds      list
	keys           list
	keyEnds        list
	hasKey         list
	headerEnds     list
	headerData     list
	headerDataEnds list
	timestamps     list
	positions      list
	positionEnds   list
}

func batchAt(p uint32) *batch {
	a := (*batchABI)(at(p))
	return &batch{
		origin: bytesOf(a.origin), partition: bytesOf(a.partition),
		values: bytesOf(a.values), valueEnds: u32sOf(a.valueEnds),
		keys: bytesOf(a.keys), keyEnds: u32sOf(a.keyEnds), hasKey: bytesOf(a.hasKey),
		headerEnds: u32sOf(a.headerEnds), headerData: bytesOf(a.headerData),
		headerDataEnds: u32sOf(a.headerDataEnds), timestamps: s64sOf(a.timestamps),
		positions: bytesOf(a.positions), positionEnds: u32sOf(a.positionEnds),
	}
}

// pairABI is the canonical ABI layout of tuple<string, string>.
type pairABI struct {
	_          structs.HostLayout
	key, value list
}

// settingsAt copies the settings the host wrote (they die with the call).
func settingsAt(p, n uint32) Settings {
	var s Settings
	if n == 0 {
		return s
	}
	for _, kv := range unsafe.Slice((*pairABI)(at(p)), n) {
		s.pairs = append(s.pairs, [2]string{string(bytesOf(kv.key)), string(bytesOf(kv.value))})
	}
	return s
}
