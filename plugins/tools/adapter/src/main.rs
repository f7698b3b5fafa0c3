//! Writes the WASI preview1 reactor adapter to the file named by the first argument.

use wasi_preview1_component_adapter_provider::WASI_SNAPSHOT_PREVIEW1_REACTOR_ADAPTER;

fn main() {
    let path = std::env::args().nth(1).expect("usage: weir-wasi-adapter OUT.wasm");
    std::fs::write(&path, WASI_SNAPSHOT_PREVIEW1_REACTOR_ADAPTER)
        .unwrap_or_else(|e| panic!("cannot write {path}: {e}"));
}
