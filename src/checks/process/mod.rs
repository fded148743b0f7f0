//! Kinds that run a program and judge what it says: `command` (its exit
//! code). The scanners' own reports are read by `sarif_report`.

/// What every kind of this family shares, for docs/kinds.md.
pub const FAMILY_DOC: &str =
    "Run programs on the exporter's machine, for what no other kind covers.";

pub mod command;
