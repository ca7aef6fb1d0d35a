//! file-log's file: appended to, and kept out of the page cache once written. A log is written
//! once and rarely read back, so after every `RELEASE_EVERY` bytes the file's written pages are
//! handed to the disk and dropped from memory (`posix_fadvise(DONTNEED)`, which starts the
//! writeback of dirty pages and drops the clean ones; pages still being written go at a later
//! call). A busy log then holds a few MiB of page cache instead of growing it by its whole
//! size, pushing out the files the host does read.

use std::fs::{File, OpenOptions};
use std::io::{self, IoSlice, Write};
use std::path::Path;

use bytes::Bytes;

/// Bytes appended between two releases. A release costs in proportion to the pages it hands
/// over, on the thread that shares a small host's CPU with the workers: small releases keep
/// each pause short (8 MiB took about 1.1 ms, which showed in the proxy's p99).
pub const RELEASE_EVERY: u64 = 1 << 20;

/// Lines per vectored write: two slices each, within the kernel's 1,024 per call.
const LINES_PER_WRITE: usize = 512;

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

    /// Appends each line and its newline straight from the lines' own bytes: vectored writes
    /// of up to [`LINES_PER_WRITE`] lines, no copy into a batch buffer.
    pub fn append_lines(&mut self, lines: &[Bytes]) -> io::Result<()> {
        for batch in lines.chunks(LINES_PER_WRITE) {
            let mut slices: Vec<IoSlice<'_>> = Vec::with_capacity(batch.len() * 2);
            for line in batch {
                slices.push(IoSlice::new(line));
                slices.push(IoSlice::new(b"\n"));
                self.unreleased += line.len() as u64 + 1;
            }
            let mut rest = &mut slices[..];
            while !rest.is_empty() {
                match self.file.write_vectored(rest) {
                    Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                    Ok(n) => IoSlice::advance_slices(&mut rest, n),
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
            }
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_appended_whole_and_in_order_across_vectored_writes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("lines.jsonl");
        let lines: Vec<Bytes> = (0..LINES_PER_WRITE * 2 + 7)
            .map(|i| Bytes::from(format!("{{\"n\":{i},\"pad\":\"{}\"}}", "x".repeat(i % 300))))
            .collect();
        let mut log = LogFile::open(&path).unwrap();
        log.append_lines(&lines[..3]).unwrap();
        log.append_lines(&lines[3..]).unwrap();
        log.append_lines(&[]).unwrap();
        let written = std::fs::read(&path).unwrap();
        let expected: Vec<u8> = lines
            .iter()
            .flat_map(|l| [&l[..], b"\n"].concat())
            .collect();
        assert_eq!(written, expected);
    }
}
