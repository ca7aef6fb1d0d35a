//! The `gateway` binary: parse the command line, run.

fn main() -> std::process::ExitCode {
    gateway::cli::main()
}
