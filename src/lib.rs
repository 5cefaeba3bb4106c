//! rsible: the command-line shells over the engine crates.
