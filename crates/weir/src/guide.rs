//! Chapters of the manual that are not about one type.

pub mod connectors;
