//! The threads the consumers of the log run on, apart from the server's request workers.
//!
//! On the server's two worker threads, each round trip of a projector's batch took its turn
//! behind every request in flight. On a thread of their own, which the kernel gives its share
//! of the cores whatever the requests queued, a town's projection lag halves (BENCHMARKS.md,
//! fifteenth round: p99 224-236 -> 123-133 ms at 64 clients, commands/s no lower). An install
//! has `CANTINE_PROJECTOR_THREADS` such threads, and each service (a town's projectors and its
//! commit listener) is placed on the next of them in turn. Twenty towns apart from the requests
//! did a fifth fewer commands, so by default only a single-town install has one (`startup.rs`).

use std::sync::{Mutex, OnceLock};

use tokio::runtime::{Handle, Runtime};
use tokio::task::JoinHandle;

/// Where one service's consumers run.
#[derive(Clone)]
pub enum ConsumerPlacement {
    /// On the runtime that starts them, beside the requests (`CANTINE_PROJECTOR_THREADS=0`).
    Shared,
    /// On a thread of consumers of its own, shared with the other services placed there.
    Apart(Handle),
}

impl ConsumerPlacement {
    pub fn spawn<F>(&self, task: F) -> JoinHandle<()>
    where
        F: std::future::Future<Output = ()> + Send + 'static,
    {
        match self {
            ConsumerPlacement::Shared => tokio::spawn(task),
            ConsumerPlacement::Apart(handle) => handle.spawn(task),
        }
    }
}

/// The install's consumer threads, made as services are placed on them, and never stopped:
/// a runtime may not be dropped from within another one, and they serve until the process ends.
struct ConsumerThreads {
    count: usize,
    placed: Mutex<Placed>,
}

#[derive(Default)]
struct Placed {
    runtimes: Vec<Runtime>,
    services: usize,
}

static THREADS: OnceLock<ConsumerThreads> = OnceLock::new();

/// Places a service's consumers: on the runtime that starts them when `threads` is 0, otherwise
/// on the next of the install's `threads` consumer threads in turn (the first service placed
/// decides their number for the process).
pub fn place_service(threads: usize) -> std::io::Result<ConsumerPlacement> {
    if threads == 0 {
        return Ok(ConsumerPlacement::Shared);
    }
    let install = THREADS.get_or_init(|| ConsumerThreads {
        count: threads,
        placed: Mutex::default(),
    });
    let mut placed = install.placed.lock().expect("the consumer threads' lock");
    let index = placed.services % install.count;
    placed.services += 1;
    if index == placed.runtimes.len() {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name(format!("consumers-{index}"))
            .enable_all()
            .build()?;
        placed.runtimes.push(runtime);
    }
    Ok(ConsumerPlacement::Apart(
        placed.runtimes[index].handle().clone(),
    ))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn services_are_placed_on_the_threads_in_turn_and_none_means_shared() {
        assert!(matches!(
            place_service(0).unwrap(),
            ConsumerPlacement::Shared
        ));
        let runs_on = |placement: &ConsumerPlacement| {
            let (tx, rx) = std::sync::mpsc::channel();
            let task = placement.spawn(async move {
                tx.send(std::thread::current().name().map(str::to_string))
                    .unwrap();
            });
            drop(task);
            rx.recv_timeout(Duration::from_secs(10)).unwrap()
        };
        // This process's first placement decides the number of threads: 3.
        let placements: Vec<_> = (0..7).map(|_| place_service(3).unwrap()).collect();
        let names: Vec<_> = placements.iter().map(runs_on).collect();
        let thread = |i: usize| Some(format!("consumers-{i}"));
        assert_eq!(
            names,
            [0, 1, 2, 0, 1, 2, 0].map(thread),
            "services take the threads in turn"
        );
    }
}
