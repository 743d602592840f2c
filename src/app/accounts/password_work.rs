//! Where argon2 runs. Each hash or check takes 19 MiB for a moment; spread over tokio's
//! blocking threads (up to hundreds), the allocator keeps an arena of that size per thread
//! and a burst of logins leaves the server at gigabytes. A fixed pool of one thread per core
//! bounds both the memory and the CPU that logins can take from bookings; the others queue.

use std::sync::mpsc;
use std::sync::{Mutex, OnceLock};

use tokio::sync::oneshot;

type Job = Box<dyn FnOnce() + Send>;

/// Makes glibc give every large block back to the system when it is freed.
///
/// glibc serves blocks above its mmap threshold with their own mapping, unmapped on free, but
/// each such free raises the threshold to the block's size (up to 32 MiB): after the first login
/// every argon2 block came from the heaps of the threads instead, which glibc keeps. 2,000
/// logins left the server at 205 MiB; with the threshold fixed (which turns the raising off) it
/// stays at the blocks in flight, 54 MiB (BENCHMARKS.md).
pub fn keep_large_blocks_out_of_the_heap() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets an allocator parameter; called once at start-up, before any
    // argon2 work.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 128 * 1024);
    }
}

fn pool() -> &'static Mutex<mpsc::Sender<Job>> {
    static POOL: OnceLock<Mutex<mpsc::Sender<Job>>> = OnceLock::new();
    POOL.get_or_init(|| {
        keep_large_blocks_out_of_the_heap();
        let (sender, receiver) = mpsc::channel::<Job>();
        let receiver = std::sync::Arc::new(Mutex::new(receiver));
        let workers = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2);
        for i in 0..workers {
            let receiver = receiver.clone();
            std::thread::Builder::new()
                .name(format!("argon2-{i}"))
                .spawn(move || loop {
                    let job = match receiver.lock() {
                        Ok(receiver) => receiver.recv(),
                        Err(_) => return,
                    };
                    match job {
                        Ok(job) => job(),
                        Err(_) => return,
                    }
                })
                .expect("start an argon2 worker");
        }
        Mutex::new(sender)
    })
}

/// Runs `work` on the argon2 pool and waits for its result.
pub async fn run<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> anyhow::Result<T> {
    let (reply, answer) = oneshot::channel();
    let job: Job = Box::new(move || {
        let _ = reply.send(work());
    });
    pool()
        .lock()
        .map_err(|_| anyhow::anyhow!("the argon2 pool is poisoned"))?
        .send(job)
        .map_err(|_| anyhow::anyhow!("the argon2 pool has stopped"))?;
    answer
        .await
        .map_err(|_| anyhow::anyhow!("an argon2 job was dropped"))
}

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn runs_jobs_and_returns_their_results() {
        let results = futures::future::join_all((0..8).map(|i| super::run(move || i * 2))).await;
        let values: Vec<i32> = results.into_iter().map(Result::unwrap).collect();
        assert_eq!(values, (0..8).map(|i| i * 2).collect::<Vec<_>>());
    }
}
