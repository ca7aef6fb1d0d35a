//! `gateway-bench`: what the gateway costs, measured side by side in one run.
//!
//! `run` starts the marketplace mock, the gateway (ai-mcp-proxy passthrough with statistics,
//! file-log and prometheus) and nginx (a plain reverse proxy with upstream keepalive) on
//! loopback, loads all three with wrk, measures event streams and memory through the gateway,
//! and writes the results as Markdown. `mock` is the load test's upstream: the marketplace mock
//! with its request recorder off, so its memory stays flat however long the load runs.
//!
//! `bench/run.sh` installs the tools, builds the binaries and calls `run`.

mod callgrind;
mod http;
mod load;
mod memory;
mod procs;
mod report;
mod servers;
mod stats;
mod stream;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    version,
    about = "Benchmarks the gateway against the mock directly and nginx"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run every measurement and write the report.
    Run(Box<RunArgs>),
    /// Serve the marketplace mock with recording off (the load test's upstream).
    Mock {
        #[arg(long, default_value_t = 0)]
        port: u16,
    },
}

/// Settings of one benchmark run.
#[derive(clap::Args, Clone)]
pub struct RunArgs {
    /// The release `gateway` binary.
    #[arg(long)]
    pub gateway: PathBuf,
    #[arg(long, default_value = "nginx")]
    pub nginx: PathBuf,
    #[arg(long, default_value = "wrk")]
    pub wrk: PathBuf,
    /// The Markdown file to write (its hand-written "history" part is kept).
    #[arg(long, default_value = "BENCHMARKS.md")]
    pub out: PathBuf,
    /// Also write every figure as JSON here.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Seconds measured per load point.
    #[arg(long, default_value_t = 10)]
    pub duration: u64,
    /// Seconds of warm-up before each load point (not measured).
    #[arg(long, default_value_t = 2)]
    pub warmup: u64,
    /// Rounds per load point: the direct, gateway and nginx runs of a point take turns this
    /// many times, and each reports its round of median throughput (all rounds are listed).
    #[arg(long, default_value_t = 3)]
    pub rounds: usize,
    /// Connection counts of the load points.
    #[arg(long, value_delimiter = ',', default_value = "1,32")]
    pub connections: Vec<u32>,
    /// Do not pin the processes to CPUs (see the report's method section).
    #[arg(long)]
    pub no_pin: bool,
    /// Concurrent event streams held open through the gateway.
    #[arg(long, default_value_t = 1000)]
    pub streams: usize,
    /// SSE calls timed per side (direct, gateway) for time to first event.
    #[arg(long, default_value_t = 100)]
    pub ttfe_runs: usize,
    /// Size of the large response, bytes.
    #[arg(long, default_value_t = 100_000_000)]
    pub large_response: usize,
    /// Size of the large request body, bytes.
    #[arg(long, default_value_t = 1_000_000)]
    pub large_request: usize,
    /// Parts to run (load, streams, memory, callgrind); the report leaves the others out.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "load,streams,memory,callgrind"
    )]
    pub only: Vec<Part>,
    #[arg(long, default_value = "valgrind")]
    pub valgrind: PathBuf,
    /// Requests counted per workload under callgrind.
    #[arg(long, default_value_t = 500)]
    pub callgrind_requests: usize,
    /// Scratch directory (configurations, logs); a fresh temporary one by default.
    #[arg(long)]
    pub work_dir: Option<PathBuf>,
    /// A note printed in the report's conditions (e.g. the commit measured).
    #[arg(long, default_value = "")]
    pub note: String,
    /// How the measured gateway binary was built, printed after its commit.
    #[arg(long, default_value = "release build")]
    pub build: String,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Part {
    Load,
    Streams,
    Memory,
    Callgrind,
}

impl RunArgs {
    fn runs(&self, part: Part) -> bool {
        self.only.contains(&part)
    }
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    match cli.command {
        Command::Mock { port } => runtime.block_on(servers::serve_mock(port)),
        Command::Run(args) => runtime.block_on(run(*args)),
    }
}

async fn run(args: RunArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    let work = servers::WorkDir::new(args.work_dir.clone())?;
    let conditions = report::Conditions::read(&args)?;
    eprintln!("bench: scratch files in {}", work.path().display());
    let layout = servers::Layout::new(!args.no_pin)?;
    let upstreams = servers::Upstreams::start(&work, &layout, &args).await?;

    let load = if args.runs(Part::Load) {
        Some(
            load::run(&args, &work, &layout, &upstreams)
                .await
                .context("load tests")?,
        )
    } else {
        None
    };
    let streams = if args.runs(Part::Streams) {
        Some(
            stream::run(&args, &work, &layout, &upstreams)
                .await
                .context("event stream tests")?,
        )
    } else {
        None
    };
    let memory = if args.runs(Part::Memory) {
        Some(
            memory::run(&args, &work, &layout, &upstreams)
                .await
                .context("memory tests")?,
        )
    } else {
        None
    };
    let callgrind = if args.runs(Part::Callgrind) {
        callgrind::run(&args, &work, &upstreams)
            .await
            .unwrap_or_else(|e| {
                eprintln!("bench: callgrind skipped: {e:#}");
                None
            })
    } else {
        None
    };
    upstreams.stop();

    let results = report::Results {
        conditions,
        layout: layout.describe(),
        load,
        streams,
        memory,
        callgrind,
        elapsed: started.elapsed(),
    };
    if let Some(path) = &args.json {
        std::fs::write(path, serde_json::to_string_pretty(&results)?)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    report::write(&args.out, &results)?;
    eprintln!(
        "bench: wrote {} in {:.0?}",
        args.out.display(),
        Duration::from_secs(started.elapsed().as_secs())
    );
    Ok(())
}
