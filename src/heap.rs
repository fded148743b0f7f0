//! Gives the operating system back the memory the allocator keeps after the
//! program freed it. glibc's malloc keeps freed chunks in its arenas and
//! returns only the top of each heap, so after a burst (the first round's
//! hanging requests, a reload, a large scrape) the process stays resident at
//! the burst's peak. `malloc_trim(0)` walks every arena and returns each
//! whole free page (measured: 84 MB -> 71 MB resident after the first round
//! of 10,000 checks; docs/benchmarks.md).
//!
//! This module is the crate's only `unsafe`: one call to a C function that
//! takes no pointer and that glibc serializes with every other allocator
//! call. Elsewhere than glibc it does nothing.

use std::time::{Duration, Instant};

/// How often the daemon trims at most when nothing else asks for it.
pub const TRIM_EVERY: Duration = Duration::from_secs(60);

/// Returns free heap pages to the system (`malloc_trim(0)` on glibc).
/// Whether anything was released.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
pub fn release_free_memory() -> bool {
    // SAFETY: `malloc_trim` takes no pointer and has no precondition; glibc
    // takes each arena's lock while it walks it (MT-Safe, malloc_trim(3)).
    unsafe { libc::malloc_trim(0) == 1 }
}

/// No-op off glibc: other allocators (musl, macOS, jemalloc) return memory
/// themselves or have no such call.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn release_free_memory() -> bool {
    false
}

/// Trims on a blocking thread (a trim of a large heap takes milliseconds)
/// and logs what it did at debug level.
pub async fn trim(reason: &'static str) {
    let started = Instant::now();
    let released = tokio::task::spawn_blocking(release_free_memory)
        .await
        .unwrap_or(false);
    tracing::debug!(
        reason,
        released,
        took_ms = started.elapsed().as_millis() as u64,
        "Returned free heap memory to the system."
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The process's resident set in bytes, from /proc.
    fn resident() -> u64 {
        let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse::<u64>().ok())
            .map_or(0, |kib| kib * 1024)
    }

    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[test]
    fn a_freed_burst_of_small_allocations_is_returned() {
        // 64 MiB in 4 KiB blocks (below glibc's mmap threshold, so they live
        // in the arena), every other one kept: freed pages sit between live
        // chunks, where only malloc_trim returns them.
        let mut blocks: Vec<Vec<u8>> = (0..16_384).map(|i| vec![i as u8; 4096]).collect();
        let kept: Vec<Vec<u8>> = blocks.iter_mut().step_by(64).map(std::mem::take).collect();
        drop(blocks);
        let before = resident();
        assert!(before > 0, "cannot read VmRSS");
        release_free_memory();
        let after = resident();
        assert!(
            after + 16 * 1024 * 1024 < before,
            "malloc_trim returned too little: {before} -> {after} bytes resident"
        );
        assert_eq!(kept.len(), 256);
    }
}
