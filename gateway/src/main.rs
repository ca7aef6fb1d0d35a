//! The `gateway` binary: parse the command line, run.

/// mimalloc: a request allocates and frees many small objects across the worker threads, where
/// it spends about half of what the system allocator does.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    gateway::cli::main()
}
