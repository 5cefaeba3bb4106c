//! Running plays: hosts and batches, the strategy loop, per-task variable
//! scopes, results, and the callbacks that print them.

pub mod output;
