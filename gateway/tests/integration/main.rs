//! Gateway integration tests: real listeners on port 0, the real mock upstream, real HTTP.
//! One test binary (modules by area) so the suite links once.

#![allow(dead_code)]

mod acl;
mod acl_list;
mod cli;
mod common;
mod config_faults;
mod faults;
mod file_log;
mod hostile;
mod http_log;
mod key_auth;
mod mcp;
mod proxy;
mod reload;
mod rig;
mod shutdown;
mod soak;
mod streaming;
mod telemetry_stress;
