//! file-log's file: appended to, and kept out of the page cache once written. A log is written
//! once and rarely read back, so after every `RELEASE_EVERY` bytes the file's written pages are
//! handed to the disk and dropped from memory (`posix_fadvise(DONTNEED)`, which starts the
//! writeback of dirty pages and drops the clean ones; pages still being written go at a later
//! call). A busy log then holds a few MiB of page cache instead of growing it by its whole
//! size, pushing out the files the host does read.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::Path;

/// Bytes appended between two releases. A release costs in proportion to the pages it hands
/// over, on the thread that shares a small host's CPU with the workers: small releases keep
/// each pause short (8 MiB took about 1.1 ms, which showed in the proxy's p99).
pub const RELEASE_EVERY: u64 = 1 << 20;

pub struct LogFile {
    file: File,
    unreleased: u64,
}

impl LogFile {
    pub fn open(path: &Path) -> io::Result<Self> {
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        Ok(LogFile {
            file,
            unreleased: 0,
        })
    }

    pub fn append(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.file.write_all(bytes)?;
        self.unreleased += bytes.len() as u64;
        if self.unreleased >= RELEASE_EVERY {
            self.unreleased = 0;
            self.release();
        }
        Ok(())
    }

    #[cfg(target_os = "linux")]
    fn release(&self) {
        use rustix::fs::{fadvise, Advice};
        if let Err(e) = fadvise(&self.file, 0, None, Advice::DontNeed) {
            tracing::debug!(error = %e, "file-log: page cache not released");
        }
    }

    #[cfg(not(target_os = "linux"))]
    fn release(&self) {}
}
