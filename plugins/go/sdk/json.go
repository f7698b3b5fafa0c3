package weir

import (
	"errors"
	"strconv"
)

// JSONNumber reads the member name of the JSON object json as a number.
// The whole value is checked to be one well-formed JSON object (as a JSON
// parser would before handing out a field), name must be a member exactly
// once (its key written without escapes) and its value a finite JSON
// number. The error says what is wrong, e.g. "missing field `amount`",
// "`amount` is not a number", "invalid JSON at byte 3". It is the scanner
// of the C SDK (plugins/c/sdk/weir_json.c), several times faster than
// encoding/json for one field.
func JSONNumber(json []byte, name string) (float64, error) {
	s := scanner{data: json}
	var number []byte
	found, duplicate, isNumber := false, false, false
	s.ws()
	if !s.eat('{') {
		if !s.value(0) {
			return 0, s.invalid()
		}
		s.ws()
		if s.p != len(s.data) {
			return 0, s.invalid()
		}
		return 0, errors.New("not a JSON object")
	}
	s.ws()
	if !s.eat('}') {
		for {
			keyStart := s.p + 1
			if !s.str() {
				return 0, s.invalid()
			}
			wanted := string(s.data[keyStart:s.p-1]) == name
			s.ws()
			if !s.eat(':') {
				return 0, s.invalid()
			}
			s.ws()
			v := s.p
			if !s.value(1) {
				return 0, s.invalid()
			}
			if wanted {
				duplicate = duplicate || found
				found = true
				// A number is the only value that starts with - or a digit.
				isNumber = s.data[v] == '-' || (s.data[v] >= '0' && s.data[v] <= '9')
				number = s.data[v:s.p]
			}
			s.ws()
			if s.eat('}') {
				break
			}
			if !s.eat(',') {
				return 0, s.invalid()
			}
			s.ws()
		}
	}
	s.ws()
	switch {
	case s.p != len(s.data):
		return 0, s.invalid()
	case !found:
		return 0, errors.New("missing field `" + name + "`")
	case duplicate:
		return 0, errors.New("duplicate field `" + name + "`")
	case !isNumber:
		return 0, errors.New("`" + name + "` is not a number")
	}
	x, err := strconv.ParseFloat(string(number), 64)
	if err != nil {
		return 0, errors.New("`" + name + "` is out of range")
	}
	return x, nil
}

// Nesting deeper than this is refused, as serde_json does.
const maxDepth = 128

type scanner struct {
	data []byte
	p    int
}

func (s *scanner) invalid() error {
	return errors.New("invalid JSON at byte " + strconv.Itoa(s.p))
}

func (s *scanner) ws() {
	for s.p < len(s.data) {
		switch s.data[s.p] {
		case ' ', '\t', '\n', '\r':
			s.p++
		default:
			return
		}
	}
}

func (s *scanner) eat(c byte) bool {
	if s.p < len(s.data) && s.data[s.p] == c {
		s.p++
		return true
	}
	return false
}

func (s *scanner) digit() bool { return s.p < len(s.data) && s.data[s.p] >= '0' && s.data[s.p] <= '9' }

func (s *scanner) digits() {
	for s.digit() {
		s.p++
	}
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

// str scans a string, from its opening quote to after its closing one.
func (s *scanner) str() bool {
	if !s.eat('"') {
		return false
	}
	for s.p < len(s.data) {
		c := s.data[s.p]
		s.p++
		switch {
		case c == '"':
			return true
		case c < 0x20:
			return false
		case c == '\\':
			if s.p >= len(s.data) {
				return false
			}
			c = s.data[s.p]
			s.p++
			switch c {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				for i := 0; i < 4; i, s.p = i+1, s.p+1 {
					if s.p >= len(s.data) || !isHex(s.data[s.p]) {
						return false
					}
				}
			default:
				return false
			}
		}
	}
	return false
}

// number scans -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (s *scanner) number() bool {
	s.eat('-')
	if !s.eat('0') {
		if !s.digit() {
			return false
		}
		s.digits()
	}
	if s.eat('.') {
		if !s.digit() {
			return false
		}
		s.digits()
	}
	if s.eat('e') || s.eat('E') {
		if !s.eat('+') {
			s.eat('-')
		}
		if !s.digit() {
			return false
		}
		s.digits()
	}
	return true
}

func (s *scanner) word(w string) bool {
	if len(s.data)-s.p < len(w) || string(s.data[s.p:s.p+len(w)]) != w {
		return false
	}
	s.p += len(w)
	return true
}

// container scans the members or items of an object or array, after its
// opening bracket.
func (s *scanner) container(close byte, depth int) bool {
	if depth > maxDepth {
		return false
	}
	s.ws()
	if s.eat(close) {
		return true
	}
	for {
		if close == '}' {
			if !s.str() {
				return false
			}
			s.ws()
			if !s.eat(':') {
				return false
			}
		}
		if !s.value(depth) {
			return false
		}
		s.ws()
		if s.eat(close) {
			return true
		}
		if !s.eat(',') {
			return false
		}
		s.ws()
	}
}

// value scans any value, with the whitespace before it.
func (s *scanner) value(depth int) bool {
	s.ws()
	if s.p >= len(s.data) {
		return false
	}
	switch s.data[s.p] {
	case '{':
		s.p++
		return s.container('}', depth+1)
	case '[':
		s.p++
		return s.container(']', depth+1)
	case '"':
		return s.str()
	case 't':
		return s.word("true")
	case 'f':
		return s.word("false")
	case 'n':
		return s.word("null")
	default:
		return s.number()
	}
}
