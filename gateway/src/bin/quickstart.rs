//! `cargo run`: the gateway with `config/kong.yaml` and the marketplace mock together.

fn main() -> std::process::ExitCode {
    gateway::cli::quickstart()
}
