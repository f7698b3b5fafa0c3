//! The replay components: one per plugin world, each a core module of a
//! few instructions made into a component by wit-component. Every call
//! copies bytes the host passed in (the first record's value, or the first
//! closed window's accumulator) to [`SCRATCH`] and returns that address:
//! whatever canonical-ABI image the fuzzer wrote there is the plugin's
//! answer, which the host lifts, checks and applies as it would any
//! plugin's.

use wasm_encoder::{
    CodeSection, ExportKind, ExportSection, Function, FunctionSection, GlobalSection, GlobalType,
    Instruction as I, MemArg, MemorySection, MemoryType, Module, TypeSection, ValType,
};
use weir::plugin::PluginKind;
use wit_bindgen_core::wit_parser::Resolve;
use wit_component::{ComponentEncoder, StringEncoding};

/// Where the answer image is copied; 8-aligned, so that `f64` lists in it
/// are aligned.
pub const SCRATCH: u32 = 64;
/// Where the bump allocator of `cabi_realloc` starts, after every call.
const HEAP_BASE: u32 = 8 << 20;
/// The largest answer image.
pub const MAX_IMAGE: usize = (HEAP_BASE - SCRATCH) as usize;
/// Eight zero bytes: `result<_, string>`'s `ok` for `init`.
const OK_AREA: u32 = 8;

/// The WIT package of the plugin contract, read from the guest SDK.
fn resolve() -> Result<(Resolve, wit_bindgen_core::wit_parser::PackageId), String> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../crates/weir-plugin/wit");
    let mut resolve = Resolve::default();
    let (package, _) = resolve
        .push_dir(dir)
        .map_err(|e| format!("cannot read the WIT in {dir}: {e:#}"))?;
    Ok((resolve, package))
}

fn mem(offset: u64, align: u32) -> MemArg {
    MemArg {
        offset,
        align,
        memory_index: 0,
    }
}

/// A function of `params` parameters that runs `load` (leaving a source
/// pointer and a length in the locals right after the parameters), copies
/// that many bytes from there to [`SCRATCH`], resets the allocator and
/// returns [`SCRATCH`].
fn copy_out(params: u32, load: &[I<'static>]) -> Function {
    let (src, len) = (params, params + 1);
    let mut f = Function::new([(2, ValType::I32)]);
    for i in load {
        f.instruction(i);
    }
    // An image larger than the scratch area: trap.
    f.instruction(&I::LocalGet(len))
        .instruction(&I::I32Const(MAX_IMAGE as i32))
        .instruction(&I::I32GtU)
        .instruction(&I::If(wasm_encoder::BlockType::Empty))
        .instruction(&I::Unreachable)
        .instruction(&I::End);
    f.instruction(&I::I32Const(SCRATCH as i32))
        .instruction(&I::LocalGet(src))
        .instruction(&I::LocalGet(len))
        .instruction(&I::MemoryCopy {
            src_mem: 0,
            dst_mem: 0,
        })
        .instruction(&I::I32Const(HEAP_BASE as i32))
        .instruction(&I::GlobalSet(0))
        .instruction(&I::I32Const(SCRATCH as i32))
        .instruction(&I::End);
    f
}

/// Loads of the first record's value of the batch whose pointer is local
/// `p` (a batch, or a tuple that starts with one: `values` is at offset
/// 16) into locals `p + 1` and `p + 2`.
fn batch_value(p: u32) -> Vec<I<'static>> {
    vec![
        I::LocalGet(p),
        I::I32Load(mem(16, 2)),
        I::LocalSet(p + 1),
        I::LocalGet(p),
        I::I32Load(mem(20, 2)),
        I::LocalSet(p + 2),
    ]
}

/// Loads of the first closed window's accumulator, from `emit`'s list
/// (pointer in local 0, length in local 1), into locals 2 and 3: a
/// `closed` record has its accumulator list at offset 24. No windows: a
/// trap.
fn window_accumulator() -> Vec<I<'static>> {
    vec![
        I::LocalGet(1),
        I::I32Eqz,
        I::If(wasm_encoder::BlockType::Empty),
        I::Unreachable,
        I::End,
        I::LocalGet(0),
        I::I32Load(mem(24, 2)),
        I::LocalSet(2),
        I::LocalGet(0),
        I::I32Load(mem(28, 2)),
        I::LocalSet(3),
    ]
}

/// The core module of `kind`'s replay component.
fn core_module(kind: PluginKind) -> Vec<u8> {
    let mut types = TypeSection::new();
    // 0: cabi_realloc(old, old_size, align, new_size) -> ptr
    types.ty().function(
        [ValType::I32, ValType::I32, ValType::I32, ValType::I32],
        [ValType::I32],
    );
    // 1: (i32, i32) -> i32: init(settings), emit(windows)
    types
        .ty()
        .function([ValType::I32, ValType::I32], [ValType::I32]);
    // 2: (i32) -> i32: process(batch), accumulate((batch, groups))
    types.ty().function([ValType::I32], [ValType::I32]);

    let prefix = kind.export_name();
    let mut functions: Vec<(u32, String, Function)> = Vec::new();

    // cabi_realloc: a bump allocator that grows memory when needed.
    let mut realloc = Function::new([(1, ValType::I32)]);
    realloc
        // ptr = (heap + align - 1) & -align
        .instruction(&I::GlobalGet(0))
        .instruction(&I::LocalGet(2))
        .instruction(&I::I32Add)
        .instruction(&I::I32Const(1))
        .instruction(&I::I32Sub)
        .instruction(&I::I32Const(0))
        .instruction(&I::LocalGet(2))
        .instruction(&I::I32Sub)
        .instruction(&I::I32And)
        .instruction(&I::LocalTee(4))
        // heap = ptr + new_size
        .instruction(&I::LocalGet(3))
        .instruction(&I::I32Add)
        .instruction(&I::GlobalSet(0))
        // if heap > memory size: grow by the missing pages, trap on failure
        .instruction(&I::GlobalGet(0))
        .instruction(&I::MemorySize(0))
        .instruction(&I::I32Const(16))
        .instruction(&I::I32Shl)
        .instruction(&I::I32GtU)
        .instruction(&I::If(wasm_encoder::BlockType::Empty))
        .instruction(&I::GlobalGet(0))
        .instruction(&I::MemorySize(0))
        .instruction(&I::I32Const(16))
        .instruction(&I::I32Shl)
        .instruction(&I::I32Sub)
        .instruction(&I::I32Const(0xffff))
        .instruction(&I::I32Add)
        .instruction(&I::I32Const(16))
        .instruction(&I::I32ShrU)
        .instruction(&I::MemoryGrow(0))
        .instruction(&I::I32Const(-1))
        .instruction(&I::I32Eq)
        .instruction(&I::If(wasm_encoder::BlockType::Empty))
        .instruction(&I::Unreachable)
        .instruction(&I::End)
        .instruction(&I::End)
        .instruction(&I::LocalGet(4))
        .instruction(&I::End);
    functions.push((0, "cabi_realloc".into(), realloc));

    // init: always ok; the allocator starts over.
    let mut init = Function::new([]);
    init.instruction(&I::I32Const(HEAP_BASE as i32))
        .instruction(&I::GlobalSet(0))
        .instruction(&I::I32Const(OK_AREA as i32))
        .instruction(&I::End);
    functions.push((1, format!("{prefix}#init"), init));

    if kind == PluginKind::Aggregator {
        // accumulate((batch, groups)): one parameter, the tuple.
        let accumulate = copy_out(1, &batch_value(0));
        functions.push((2, format!("{prefix}#accumulate"), accumulate));
        // emit(windows): the list's pointer and length.
        functions.push((
            1,
            format!("{prefix}#emit"),
            copy_out(2, &window_accumulator()),
        ));
    } else {
        functions.push((2, format!("{prefix}#process"), copy_out(1, &batch_value(0))));
    }

    let mut funcs = FunctionSection::new();
    let mut exports = ExportSection::new();
    let mut code = CodeSection::new();
    for (i, (ty, name, body)) in functions.iter().enumerate() {
        funcs.function(*ty);
        exports.export(name, ExportKind::Func, i as u32);
        code.function(body);
    }
    exports.export("memory", ExportKind::Memory, 0);
    let mut memories = MemorySection::new();
    memories.memory(MemoryType {
        minimum: u64::from(HEAP_BASE >> 16) + 1,
        maximum: None,
        memory64: false,
        shared: false,
        page_size_log2: None,
    });
    let mut globals = GlobalSection::new();
    globals.global(
        GlobalType {
            val_type: ValType::I32,
            mutable: true,
            shared: false,
        },
        &wasm_encoder::ConstExpr::i32_const(HEAP_BASE as i32),
    );

    let mut module = Module::new();
    module
        .section(&types)
        .section(&funcs)
        .section(&memories)
        .section(&globals)
        .section(&exports)
        .section(&code);
    module.finish()
}

/// The replay component of `kind`: filter, enricher, scorer or aggregator
/// (the reward world takes typed steps parsed by the host, not a batch).
pub fn component(kind: PluginKind) -> Result<Vec<u8>, String> {
    if kind == PluginKind::Reward {
        return Err("the reward world has no replay component".into());
    }
    let (resolve, package) = resolve()?;
    let world = resolve
        .select_world(&[package], Some(kind.world()))
        .map_err(|e| format!("no `{}` world: {e:#}", kind.world()))?;
    let mut module = core_module(kind);
    wit_component::embed_component_metadata(&mut module, &resolve, world, StringEncoding::UTF8)
        .map_err(|e| format!("cannot embed the `{}` world: {e:#}", kind.world()))?;
    ComponentEncoder::default()
        .validate(true)
        .module(&module)
        .and_then(|mut encoder| encoder.encode())
        .map_err(|e| format!("cannot make the `{}` replay component: {e:#}", kind.world()))
}
