//! Blocking work (tree walks, advisory loads, file scans) runs on tokio's
//! blocking pool and stops cooperatively: when the evaluation waiting for it
//! is dropped (its timeout, a reload, shutdown, a `/probe` client that went
//! away), the work sees `Cancel::is_cancelled` and stops at its next file
//! instead of running on unseen.

pub use crate::scan::Cancel;

/// Sets the flag when the waiting future goes away (or finishes).
struct CancelOnDrop(Cancel);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.cancel();
    }
}

/// Runs `work` on the blocking pool; dropping the returned future cancels it.
pub async fn run_blocking<T: Send + 'static>(
    work: impl FnOnce(&Cancel) -> T + Send + 'static,
) -> Result<T, String> {
    let cancel = Cancel::new();
    let _cancel_on_drop = CancelOnDrop(cancel.clone());
    tokio::task::spawn_blocking(move || work(&cancel))
        .await
        .map_err(|e| format!("the blocking work failed: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    #[tokio::test]
    async fn dropping_the_waiter_stops_the_work() {
        let (tx, rx) = std::sync::mpsc::channel();
        let waiting = run_blocking(move |cancel| {
            let started = Instant::now();
            while !cancel.is_cancelled() && started.elapsed() < Duration::from_secs(30) {
                std::thread::sleep(Duration::from_millis(5));
            }
            let _ = tx.send(started.elapsed());
        });
        let _ = tokio::time::timeout(Duration::from_millis(100), waiting).await;
        let ran = rx.recv_timeout(Duration::from_secs(10)).unwrap();
        assert!(ran < Duration::from_secs(5), "the work ran on for {ran:?}");
    }
}
