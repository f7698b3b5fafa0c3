//go:build wasip1

package weir

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"structs"
	"unsafe"
)

// The host writes each call's arguments into memory it gets from
// cabi_realloc, which it calls while the component may not call out: an
// import called from cabi_realloc traps. Go's allocator and collector can
// read the clock (a WASI import), so cabi_realloc hands out space from an
// arena of plain byte slabs instead, and the collector is off except when
// this SDK runs it, inside a call, where imports are allowed:
//
//   - the arena is reset at the end of every export (the arguments are dead
//     by then) and, if it had to grow during the call, merged into one slab
//     big enough for the next call;
//   - a collection runs at the end of a call once enough garbage piled up.

func init() {
	debug.SetGCPercent(-1)
	// Sampling allocations would take stack traces in cabi_realloc.
	runtime.MemProfileRate = 0
}

// The WASI adapter (wasi_snapshot_preview1 on top of WASI 0.2) allocates
// its state with the module's cabi_realloc_adapter, when it is first used:
// during _initialize, while the Go runtime is starting and cannot run Go
// code that allocates. So the adapter gets a bump allocator over a static
// array, which needs no runtime (nosplit: no stack check either).
var (
	adapterHeap [256 << 10]byte
	adapterNext uintptr
)

//go:wasmexport cabi_realloc_adapter
//go:nosplit
func cabiReallocAdapter(old, oldSize, align, newSize uint32) uint32 {
	base := uintptr(unsafe.Pointer(&adapterHeap))
	a := uintptr(max(align, 1))
	start := (base + adapterNext + a - 1) &^ (a - 1)
	if start+uintptr(newSize) > base+uintptr(len(adapterHeap)) {
		return 0 // the adapter traps on a null allocation
	}
	adapterNext = start + uintptr(newSize) - base
	return uint32(start)
}

// The arena: slabs[0..] hold this call's allocations; next is the free
// offset in the last slab.
var arena = struct {
	slabs [][]byte
	next  uintptr
	used  uintptr // bytes handed out this call, for sizing the merged slab
}{slabs: [][]byte{make([]byte, 1<<20)}}

//go:wasmexport cabi_realloc
func cabiRealloc(old, oldSize, align, newSize uint32) uint32 {
	p := alloc(uintptr(newSize), uintptr(max(align, 1)))
	if old != 0 && oldSize != 0 {
		copy(p, unsafe.Slice((*byte)(at(old)), min(oldSize, newSize)))
	}
	return uint32(uintptr(unsafe.Pointer(unsafe.SliceData(p))))
}

// alloc is size bytes of the arena at an address aligned to align.
func alloc(size, align uintptr) []byte {
	slab := arena.slabs[len(arena.slabs)-1]
	off := alignUp(slab, arena.next, align)
	if off+size > uintptr(len(slab)) {
		// A new slab: with the collector and profiling off, a large
		// allocation only takes pages from the heap, without the clock.
		slab = make([]byte, max(size+align, 2*uintptr(len(slab))))
		arena.slabs = append(arena.slabs, slab)
		off = alignUp(slab, 0, align)
	}
	arena.next = off + size
	arena.used += size + align
	return slab[off : off+size : off+size]
}

// alignUp is the first offset in slab from off whose address is a multiple
// of align (a power of two).
func alignUp(slab []byte, off, align uintptr) uintptr {
	base := uintptr(unsafe.Pointer(unsafe.SliceData(slab)))
	return (base+off+align-1)&^(align-1) - base
}

// endCall frees this call's arguments and, now that imports are allowed,
// grows the arena and collects garbage as needed.
func endCall() {
	if len(arena.slabs) > 1 {
		arena.slabs = [][]byte{make([]byte, max(2*arena.used, 1<<20))}
	}
	arena.next, arena.used = 0, 0
	collectIfDue()
}

// A collection runs once this much was allocated since the last one, or as
// much as was live after it, whichever is more.
const minGarbage = 32 << 20

var (
	heapSample   = []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}, {Name: "/gc/heap/live:bytes"}}
	allocsAtLast uint64
	liveAtLast   uint64
)

func collectIfDue() {
	metrics.Read(heapSample[:1])
	allocs := heapSample[0].Value.Uint64()
	if allocs-allocsAtLast < max(minGarbage, liveAtLast) {
		return
	}
	runtime.GC()
	metrics.Read(heapSample)
	allocsAtLast, liveAtLast = heapSample[0].Value.Uint64(), heapSample[1].Value.Uint64()
}

// at is the Go pointer for a linear-memory address the host handed over.
// The address is inside Go's own memory (the arena, or a result of ours),
// so the pointer is valid; vet cannot know that, hence one place for it.
func at(addr uint32) unsafe.Pointer {
	return unsafe.Pointer(uintptr(addr))
}

// A canonical ABI list or string: address and length in linear memory.
type list struct {
	_        structs.HostLayout
	ptr, len uint32
}

func bytesOf(l list) []byte {
	if l.len == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(at(l.ptr)), l.len)
}

func u32sOf(l list) []uint32 {
	if l.len == 0 {
		return nil
	}
	return unsafe.Slice((*uint32)(at(l.ptr)), l.len)
}

func s64sOf(l list) []int64 {
	if l.len == 0 {
		return nil
	}
	return unsafe.Slice((*int64)(at(l.ptr)), l.len)
}

// addr is the linear-memory address of p.
func addr[T any](p *T) uint32 { return uint32(uintptr(unsafe.Pointer(p))) }

// listFrom is s as a canonical ABI list; s must stay alive until the host
// has read it (the SDK keeps results in globals until the next call).
func listFrom[T any](s []T) list {
	if len(s) == 0 {
		return list{}
	}
	return list{ptr: addr(&s[0]), len: uint32(len(s))}
}

// listOfString is s as a canonical ABI string; s must stay alive until the
// host has read it.
func listOfString(s string) list {
	if len(s) == 0 {
		return list{}
	}
	return list{ptr: uint32(uintptr(unsafe.Pointer(unsafe.StringData(s)))), len: uint32(len(s))}
}
