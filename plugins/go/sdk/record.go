package weir

import "iter"

// batch is one call's batch as Go slices over the memory the host wrote.
type batch struct {
	origin, partition []byte
	values            []byte
	valueEnds         []uint32
	keys              []byte
	keyEnds           []uint32
	hasKey            []byte
	headerEnds        []uint32
	headerData        []byte
	headerDataEnds    []uint32
	timestamps        []int64
	positions         []byte
	positionEnds      []uint32
}

func (b *batch) len() int { return len(b.valueEnds) }

// item is entry i of data cut by end offsets (the `*-ends` columns).
func item(data []byte, ends []uint32, i int) []byte {
	start := uint32(0)
	if i > 0 {
		start = ends[i-1]
	}
	return data[start:ends[i]:ends[i]]
}

// Record is one record of the batch being processed. It and the bytes it
// returns are views into the batch, valid only until the plugin's method
// returns: copy what must outlive it.
type Record struct {
	b     *batch
	index int
}

// Index is the record's index in its batch.
func (r Record) Index() int { return r.index }

// Value is the record's payload (usually JSON).
func (r Record) Value() []byte { return item(r.b.values, r.b.valueEnds, r.index) }

// Key is the record's key; ok is false when it has none (an absent key is
// not the same as an empty one).
func (r Record) Key() (key []byte, ok bool) {
	return item(r.b.keys, r.b.keyEnds, r.index), r.b.hasKey[r.index] != 0
}

// TimestampMs is when the record was produced, in ms since the Unix epoch.
func (r Record) TimestampMs() int64 { return r.b.timestamps[r.index] }

// Position is where the record sits in its partition: a Kafka offset or a
// Kinesis sequence number, in decimal digits.
func (r Record) Position() string { return string(item(r.b.positions, r.b.positionEnds, r.index)) }

// Origin is the topic or stream of the batch.
func (r Record) Origin() string { return string(r.b.origin) }

// Partition is the partition number or shard id of the batch.
func (r Record) Partition() string { return string(r.b.partition) }

// Headers yields the record's headers, name and value, in order.
func (r Record) Headers() iter.Seq2[string, []byte] {
	return func(yield func(string, []byte) bool) {
		first := 0
		if r.index > 0 {
			first = int(r.b.headerEnds[r.index-1])
		}
		for h := first; h < int(r.b.headerEnds[r.index]); h++ {
			name := item(r.b.headerData, r.b.headerDataEnds, 2*h)
			if !yield(string(name), item(r.b.headerData, r.b.headerDataEnds, 2*h+1)) {
				return
			}
		}
	}
}

// Header is the value of the first header called name.
func (r Record) Header(name string) (value []byte, ok bool) {
	for n, v := range r.Headers() {
		if n == name {
			return v, true
		}
	}
	return nil, false
}
