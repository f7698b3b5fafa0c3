package weir

import (
	"errors"
	"strconv"
	"strings"
)

// Settings are the stage's settings from the pipeline config, `(key,
// value)` pairs; a key set twice keeps its last value.
type Settings struct {
	pairs [][2]string
}

// Get is the value of setting key; ok is false when it is not set.
func (s Settings) Get(key string) (value string, ok bool) {
	for i := len(s.pairs) - 1; i >= 0; i-- {
		if s.pairs[i][0] == key {
			return s.pairs[i][1], true
		}
	}
	return "", false
}

// Float is setting key read as a number, or def when it is not set; a value
// that is not a number is an error naming the key and the value.
func (s Settings) Float(key string, def float64) (float64, error) {
	raw, ok := s.Get(key)
	if !ok {
		return def, nil
	}
	x, err := strconv.ParseFloat(strings.TrimSpace(raw), 64)
	if err != nil {
		return 0, errors.New("setting `" + key + "`: cannot parse " + strconv.Quote(raw) + " as a number")
	}
	return x, nil
}

// RequireFloat is Float for a setting that must be set.
func (s Settings) RequireFloat(key string) (float64, error) {
	if _, ok := s.Get(key); !ok {
		return 0, errors.New("setting `" + key + "` is required but not set")
	}
	return s.Float(key, 0)
}
