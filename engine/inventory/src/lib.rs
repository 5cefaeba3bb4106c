//! Inventory sources, group/host vars files and host patterns.
