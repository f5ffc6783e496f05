//! A small pool of blocking threads of its own, for the submit API's store reads (policy
//! checks, status). Public reads and exports run on tokio's blocking pool; with their own
//! threads and queue here, however many of those wait, a submission's checks still run
//! (issue 17: 530 stalled exports held all of tokio's blocking threads and submits hung).

use std::sync::mpsc as std_mpsc;
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;

use tokio::sync::oneshot;

/// Why a job did not run.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PoolError {
    /// The queue holds its maximum of jobs already; nothing was run.
    #[error("the {name} pool's queue is full ({queue_max} jobs waiting); retry later")]
    Full {
        /// The pool.
        name: &'static str,
        /// Its queue's bound.
        queue_max: usize,
    },
    /// The job panicked, or the pool's threads are gone.
    #[error("a job of the {0} pool ended without an answer (a panic)")]
    Lost(&'static str),
}

type Job = Box<dyn FnOnce() + Send + 'static>;

/// A fixed number of threads taking jobs from a bounded queue.
pub struct BlockingPool {
    name: &'static str,
    queue_max: usize,
    sender: std_mpsc::SyncSender<Job>,
    _threads: Vec<JoinHandle<()>>,
}

impl BlockingPool {
    /// Starts `threads` threads named `aidledger-<name>` over a queue of `queue_max` jobs.
    pub fn start(
        name: &'static str,
        threads: usize,
        queue_max: usize,
    ) -> std::io::Result<BlockingPool> {
        let (sender, receiver) = std_mpsc::sync_channel::<Job>(queue_max);
        let receiver = Arc::new(Mutex::new(receiver));
        let handles = (0..threads)
            .map(|_| {
                let receiver = receiver.clone();
                std::thread::Builder::new()
                    .name(format!("aidledger-{name}"))
                    .spawn(move || work(&receiver))
            })
            .collect::<std::io::Result<Vec<_>>>()?;
        Ok(BlockingPool {
            name,
            queue_max,
            sender,
            _threads: handles,
        })
    }

    /// Runs `job` on one of the pool's threads and waits for its answer, or refuses at once
    /// when the queue is full.
    pub async fn run<T, F>(&self, job: F) -> Result<T, PoolError>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let job: Job = Box::new(move || {
            // The asker may have gone (its client left); the answer is then not needed.
            let _ = reply.send(job());
        });
        self.sender.try_send(job).map_err(|error| match error {
            std_mpsc::TrySendError::Full(_) => PoolError::Full {
                name: self.name,
                queue_max: self.queue_max,
            },
            std_mpsc::TrySendError::Disconnected(_) => PoolError::Lost(self.name),
        })?;
        answer.await.map_err(|_| PoolError::Lost(self.name))
    }
}

/// One thread: takes jobs until the pool is dropped. A panicking job ends only itself (its
/// asker sees [`PoolError::Lost`]); the thread goes on.
fn work(receiver: &Mutex<std_mpsc::Receiver<Job>>) {
    loop {
        // The lock is held only while waiting for a job, so threads take jobs in turn.
        let job = receiver
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .recv();
        let Ok(job) = job else { return };
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
    }
}

#[cfg(test)]
mod tests {
    use std::future::Future;
    use std::task::Poll;

    use super::*;

    #[tokio::test]
    async fn runs_jobs_and_refuses_beyond_its_queue() {
        let pool = Arc::new(BlockingPool::start("test", 1, 1).expect("threads start"));
        assert_eq!(pool.run(|| 2 + 2).await, Ok(4));
        // Hold the one thread, fill the one queue slot, then the next job is refused at once.
        let (release, held) = std_mpsc::channel::<()>();
        let (started, started_signal) = std_mpsc::channel::<()>();
        let blocker = tokio::spawn({
            let pool = pool.clone();
            async move {
                pool.run(move || {
                    let _ = started.send(());
                    let _ = held.recv();
                })
                .await
            }
        });
        tokio::task::spawn_blocking(move || started_signal.recv())
            .await
            .expect("join")
            .expect("the blocking job started");
        let mut queued = Box::pin(pool.run(|| ()));
        let first_poll =
            std::future::poll_fn(|context| Poll::Ready(queued.as_mut().poll(context))).await;
        assert!(first_poll.is_pending(), "the second job waits in the queue");
        assert_eq!(
            pool.run(|| ()).await,
            Err(PoolError::Full {
                name: "test",
                queue_max: 1
            })
        );
        release.send(()).expect("the blocking job waits");
        assert_eq!(queued.await, Ok(()));
        assert_eq!(blocker.await.expect("join"), Ok(()));
    }
}
