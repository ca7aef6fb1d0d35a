//! Kong's plugins: one folder each.
