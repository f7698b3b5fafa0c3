//! The fuzz targets, one module each, each with `pub fn run(data: &[u8])`.

pub mod columnar;
pub mod config;
pub mod kpl;
pub mod pattern;
