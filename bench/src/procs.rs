//! Child processes and what `/proc` says about them: CPU time (utime + stime), resident and
//! peak resident memory, and resetting the peak between measurements.

use std::path::Path;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};

/// The last `lines` lines of a text file (a process's stderr), or why there are none.
pub fn tail(path: &Path, lines: usize) -> String {
    match std::fs::read(path) {
        Ok(bytes) => {
            let text = String::from_utf8_lossy(&bytes);
            let all: Vec<&str> = text.lines().collect();
            all[all.len().saturating_sub(lines)..].join("\n")
        }
        Err(e) => format!("({}: {e})", path.display()),
    }
}

/// A child process that is stopped (SIGTERM, then SIGKILL) when dropped.
pub struct Proc {
    child: Child,
    name: String,
}

impl Proc {
    pub fn spawn(mut command: Command, name: &str) -> anyhow::Result<Proc> {
        let child = command
            .spawn()
            .with_context(|| format!("starting {name} ({command:?})"))?;
        Ok(Proc {
            child,
            name: name.to_string(),
        })
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn child_mut(&mut self) -> &mut Child {
        &mut self.child
    }

    /// Fails when the process has already exited (it did not start properly).
    pub fn check_alive(&mut self) -> anyhow::Result<()> {
        if let Some(status) = self.child.try_wait()? {
            bail!("{} exited early: {status}", self.name);
        }
        Ok(())
    }

    /// SIGTERM, up to five seconds for a clean exit, then SIGKILL.
    pub fn stop(mut self) {
        self.terminate();
    }

    fn terminate(&mut self) {
        if matches!(self.child.try_wait(), Ok(Some(_))) {
            return;
        }
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.terminate();
    }
}

/// The processes that make up one server (nginx: master and workers).
#[derive(Clone, Debug, Default)]
pub struct Pids(pub Vec<u32>);

impl Pids {
    /// utime + stime of every process, in clock ticks.
    pub fn cpu_ticks(&self) -> anyhow::Result<u64> {
        self.0.iter().map(|&p| cpu_ticks(p)).sum()
    }

    /// Sum of `VmHWM` (peak resident set), KiB.
    pub fn peak_rss_kib(&self) -> anyhow::Result<u64> {
        self.0.iter().map(|&p| status_kib(p, "VmHWM")).sum()
    }

    /// Sum of `VmRSS`, KiB.
    pub fn rss_kib(&self) -> anyhow::Result<u64> {
        self.0.iter().map(|&p| status_kib(p, "VmRSS")).sum()
    }

    /// Resets every process's peak resident set to its current size.
    pub fn reset_peak(&self) -> anyhow::Result<()> {
        for &p in &self.0 {
            reset_peak(p)?;
        }
        Ok(())
    }
}

/// utime + stime of each thread of a process, in clock ticks, by thread id.
pub fn thread_ticks(pid: u32) -> anyhow::Result<std::collections::HashMap<u32, u64>> {
    let mut out = std::collections::HashMap::new();
    for entry in std::fs::read_dir(format!("/proc/{pid}/task"))? {
        let Some(tid) = entry?
            .file_name()
            .to_str()
            .and_then(|t| t.parse::<u32>().ok())
        else {
            continue;
        };
        let path = format!("/proc/{pid}/task/{tid}/stat");
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        let rest = text.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let ticks = |i: usize| {
            fields
                .get(i)
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(0)
        };
        out.insert(tid, ticks(11) + ticks(12));
    }
    Ok(out)
}

/// utime + stime of a process (all its threads), in clock ticks.
pub fn cpu_ticks(pid: u32) -> anyhow::Result<u64> {
    let fields = stat_fields(pid)?;
    // Fields after the command: state is field 3, utime 14, stime 15.
    let utime: u64 = fields.get(11).context("utime")?.parse()?;
    let stime: u64 = fields.get(12).context("stime")?.parse()?;
    Ok(utime + stime)
}

fn stat_fields(pid: u32) -> anyhow::Result<Vec<String>> {
    let path = format!("/proc/{pid}/stat");
    let text = std::fs::read_to_string(&path).with_context(|| format!("reading {path}"))?;
    // The command may contain spaces and parentheses: fields start after the last ')'.
    let rest = text.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    Ok(rest.split_whitespace().map(str::to_string).collect())
}

/// A `kB` line of `/proc/<pid>/status` (`VmRSS`, `VmHWM`), in KiB.
pub fn status_kib(pid: u32, key: &str) -> anyhow::Result<u64> {
    let path = format!("/proc/{pid}/status");
    let text = std::fs::read_to_string(&path).with_context(|| format!("reading {path}"))?;
    text.lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix(':'))
        .and_then(|v| v.split_whitespace().next())
        .context(format!("{key} in {path}"))?
        .parse()
        .with_context(|| format!("{key} in {path}"))
}

/// Resets `VmHWM` to the current resident size (`clear_refs` value 5).
pub fn reset_peak(pid: u32) -> anyhow::Result<()> {
    let path = format!("/proc/{pid}/clear_refs");
    std::fs::write(&path, "5").with_context(|| format!("writing {path}"))
}

/// The direct children of a process.
pub fn children(parent: u32) -> Vec<u32> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&pid| {
            stat_fields(pid)
                .ok()
                .and_then(|f| f.get(1)?.parse::<u32>().ok())
                == Some(parent)
        })
        .collect()
}

/// Clock ticks per second (`getconf CLK_TCK`, 100 on Linux).
pub fn clock_ticks_per_second() -> u64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100)
}

/// The first line of a file, trimmed (for `/proc` one-liners).
pub fn read_trimmed(path: &Path) -> Option<String> {
    std::fs::read_to_string(path)
        .ok()
        .map(|s| s.trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tail_keeps_the_last_lines_or_says_why_there_are_none() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.err");
        std::fs::write(&path, "a\nb\nc\n").unwrap();
        assert_eq!(tail(&path, 2), "b\nc");
        assert_eq!(tail(&path, 10), "a\nb\nc");
        assert!(tail(&dir.path().join("missing"), 2).contains("missing"));
    }
}
