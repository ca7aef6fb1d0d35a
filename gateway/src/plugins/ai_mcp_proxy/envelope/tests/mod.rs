//! Unit tests of the envelope module, one file per area.
