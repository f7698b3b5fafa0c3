// {{name}}: a filter that keeps card transactions whose `amount` is above
// the `min_amount` setting (default 100).
package main

import (
	"fmt"

	weir "{{name}}/sdk"
)

type plugin struct {
	minAmount float64
}

func (p *plugin) Init(s weir.Settings) (err error) {
	p.minAmount, err = s.Float("min_amount", 100)
	return err
}

func (p *plugin) Keep(r weir.Record) (bool, error) {
	amount, err := weir.JSONNumber(r.Value(), "amount")
	if err != nil {
		return false, fmt.Errorf("`amount` is not a number: %w", err)
	}
	return amount > p.minAmount, nil
}

func init() { weir.ExportFilter(&plugin{}) }

// main is not run: the module is a reactor, driven by its exports.
func main() {}
