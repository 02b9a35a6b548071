//! Searches take turns on one thread per core. Each search is a job in one first-come queue
//! that these threads drain; a caller awaits its answer.
//!
//! Before, a search waited for a core's permit (an async semaphore) and then ran on tokio's
//! blocking pool: every search cost two thread wake-ups (the waiting task, then a parked
//! blocking thread) after the previous one finished, and on a virtual machine a wake-up of an
//! idle core takes long enough that, under a long-tail load, 12–16 % of the CPU stood idle
//! while 32 requests waited. Threads that take the next job as soon as they finish one never
//! sleep while searches wait, and their thread-local scratch (`word_join`) stays with them
//! instead of with hundreds of blocking threads.

use super::SearchError;
use std::panic::AssertUnwindSafe;

type Job = Box<dyn FnOnce() + Send>;

/// The search threads. Dropping this ends them once the queued searches ran.
pub(crate) struct SearchThreads {
    jobs: crossbeam_channel::Sender<Job>,
}

impl SearchThreads {
    /// `threads` threads (at least one), named `agora-search-N`. One the system refuses is
    /// logged and left out; with none at all, every search answers `Closed`.
    pub(crate) fn start(threads: usize) -> SearchThreads {
        let (jobs, queue) = crossbeam_channel::unbounded::<Job>();
        for n in 0..threads.max(1) {
            let queue = queue.clone();
            let started = std::thread::Builder::new().name(format!("agora-search-{n}")).spawn(move || {
                for job in queue {
                    // A search that panics answers `Closed` (its reply is dropped); the
                    // thread goes on with the next.
                    let _ = std::panic::catch_unwind(AssertUnwindSafe(job));
                }
            });
            if let Err(error) = started {
                tracing::error!(%error, "a search thread could not start");
            }
        }
        SearchThreads { jobs }
    }

    /// Runs `work` on the next free search thread, after the searches queued before it. A
    /// caller that goes away does not cancel it: the thread's turn is spent either way.
    pub(crate) async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, SearchError> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            let _ = reply.send(work());
        });
        self.jobs.send(job).map_err(|_| SearchError::Closed)?;
        answer.await.map_err(|_| SearchError::Closed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Barrier};

    #[tokio::test]
    async fn searches_run_on_the_threads_in_turn_and_a_panic_answers_closed() {
        let threads = SearchThreads::start(2);
        let name = threads.run(|| std::thread::current().name().map(String::from)).await.expect("ran");
        assert!(name.is_some_and(|n| n.starts_with("agora-search-")));
        // Both threads run at once: each job waits for the other at a barrier.
        let barrier = Arc::new(Barrier::new(2));
        let (a, b) = (Arc::clone(&barrier), Arc::clone(&barrier));
        let (first, second) =
            tokio::join!(threads.run(move || a.wait().is_leader()), threads.run(move || b.wait().is_leader()));
        assert_ne!(first.expect("first"), second.expect("second"), "one leader of two");
        let panicked = threads.run(|| -> u8 { panic!("a broken search") }).await;
        assert!(matches!(panicked, Err(SearchError::Closed)));
        assert_eq!(threads.run(|| 7).await.expect("still running"), 7);
    }
}
