// The Go plugins and their SDK: one module, standard library only.
module weir/plugins/go

go 1.24
