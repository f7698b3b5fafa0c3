// Filter plugin: keeps card transactions whose `amount` is above the
// `min_amount` setting (the Go twin of plugins/rust/amount-filter). A record
// whose value is not a JSON object with a numeric `amount` fails alone.
package main

import weir "weir/plugins/go/sdk"

type amountFilter struct {
	minAmount float64
}

func (f *amountFilter) Init(s weir.Settings) (err error) {
	f.minAmount, err = s.RequireFloat("min_amount")
	return err
}

func (f *amountFilter) Keep(r weir.Record) (bool, error) {
	amount, err := weir.JSONNumber(r.Value(), "amount")
	if err != nil {
		return false, err
	}
	return amount > f.minAmount, nil
}

func init() { weir.ExportFilter(&amountFilter{}) }

// main is not run: the module is a reactor, driven by its exports.
func main() {}
