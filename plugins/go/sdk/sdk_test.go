package weir

// These tests run natively (go test ./sdk): the parts of the SDK that do not
// touch the canonical ABI are plain Go.

import "testing"

func TestJSONNumber(t *testing.T) {
	cases := []struct {
		json, err string
		value     float64
	}{
		{`{"amount":12.5}`, "", 12.5},
		{` {"a":[1,{"amount":"x"}],"amount":-3e2 } `, "", -300},
		{`{"s":"q\"\u00e9\n","amount":0}`, "", 0},
		{`{"amount":1,"amount":2}`, "duplicate field `amount`", 0},
		{`{"amount":"1"}`, "`amount` is not a number", 0},
		{`{"amount":null}`, "`amount` is not a number", 0},
		{`{}`, "missing field `amount`", 0},
		{`[1]`, "not a JSON object", 0},
		{``, "invalid JSON at byte 0", 0},
		{`{"amount":01}`, "invalid JSON at byte 11", 0},
		{`{"amount":1.}`, "invalid JSON at byte 12", 0},
		{`{"amount":1}x`, "invalid JSON at byte 12", 0},
		{`{"amount":1,}`, "invalid JSON at byte 12", 0},
		{`{"s":"\x","amount":1}`, "invalid JSON at byte 8", 0},
		{`{"amount":1e400}`, "`amount` is out of range", 0},
	}
	for _, c := range cases {
		got, err := JSONNumber([]byte(c.json), "amount")
		switch {
		case c.err == "" && (err != nil || got != c.value):
			t.Errorf("%s: got %v, %v; want %v", c.json, got, err, c.value)
		case c.err != "" && (err == nil || err.Error() != c.err):
			t.Errorf("%s: got %v, %v; want error %q", c.json, got, err, c.err)
		}
	}
	deep := make([]byte, 1000)
	for i := range deep {
		deep[i] = '['
	}
	if _, err := JSONNumber(deep, "amount"); err == nil {
		t.Error("nesting beyond the limit was accepted")
	}
}

func TestSettings(t *testing.T) {
	s := Settings{pairs: [][2]string{{"a", "1"}, {"b", "x"}, {"a", " 2.5 "}}}
	if v, ok := s.Get("a"); !ok || v != " 2.5 " {
		t.Errorf("Get: %q %v", v, ok)
	}
	if v, err := s.Float("a", 0); err != nil || v != 2.5 {
		t.Errorf("Float: %v %v", v, err)
	}
	if v, err := s.Float("missing", 7); err != nil || v != 7 {
		t.Errorf("Float default: %v %v", v, err)
	}
	if _, err := s.Float("b", 0); err == nil || err.Error() != "setting `b`: cannot parse \"x\" as a number" {
		t.Errorf("Float bad: %v", err)
	}
	if _, err := s.RequireFloat("c"); err == nil || err.Error() != "setting `c` is required but not set" {
		t.Errorf("RequireFloat: %v", err)
	}
}

func TestRecordView(t *testing.T) {
	// Record 0: empty key, no headers; record 1: key "k1", headers a=x, b=yz.
	b := &batch{
		origin: []byte("topic"), partition: []byte("3"),
		values: []byte("onetwo"), valueEnds: []uint32{3, 6},
		keys: []byte("k1"), keyEnds: []uint32{0, 2}, hasKey: []byte{1, 1},
		headerEnds: []uint32{0, 2}, headerData: []byte("axbyz"), headerDataEnds: []uint32{1, 2, 3, 5},
		timestamps: []int64{1000, 1001}, positions: []byte("4041"), positionEnds: []uint32{2, 4},
	}
	r0, r1 := Record{b, 0}, Record{b, 1}
	if string(r0.Value()) != "one" || string(r1.Value()) != "two" {
		t.Error("values")
	}
	if k, ok := r0.Key(); !ok || len(k) != 0 {
		t.Error("empty key")
	}
	if k, ok := r1.Key(); !ok || string(k) != "k1" {
		t.Error("key")
	}
	if r1.TimestampMs() != 1001 || r1.Position() != "41" || r1.Origin() != "topic" || r1.Partition() != "3" {
		t.Error("timestamp, position, origin or partition")
	}
	if v, ok := r1.Header("b"); !ok || string(v) != "yz" {
		t.Error("header b")
	}
	if _, ok := r0.Header("a"); ok {
		t.Error("record 0 has no headers")
	}
	n := 0
	for range r1.Headers() {
		n++
	}
	if n != 2 {
		t.Errorf("%d headers", n)
	}
}
