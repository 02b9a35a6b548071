//! Per-host queues (Nutch's `byHost` mode): every host with work has one task that probes its
//! queue in order, so a host with a thousand endpoints occupies one task — not a thousand global
//! permits waiting on its politeness gap — while other hosts proceed. A service is queued at most
//! once; seller-initiated probes jump to the front of their host's queue.

use super::worker::{JobError, Lane, Probed, Worker};
use crate::db::services::DueService;
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use tokio::sync::{mpsc, oneshot};
use tokio_util::task::TaskTracker;

/// What finishing a job reports on the events channel: the probe, or why nothing was recorded.
pub type JobResult = Result<Probed, (DueService, String)>;

struct Job {
    service: DueService,
    lane: Lane,
    /// Everyone waiting for this probe (several sellers may register the same URL at once).
    replies: Vec<oneshot::Sender<Result<Probed, JobError>>>,
}

#[derive(Default)]
struct Queues {
    by_host: HashMap<String, VecDeque<Job>>,
    queued: HashSet<i64>,
}

struct Inner {
    worker: Worker,
    queues: Mutex<Queues>,
    tracker: TaskTracker,
    events: Mutex<Option<mpsc::UnboundedSender<JobResult>>>,
}

/// Hands services to per-host tasks. Cheap to clone.
#[derive(Clone)]
pub struct Dispatcher {
    inner: Arc<Inner>,
}

impl Dispatcher {
    pub fn new(worker: Worker) -> Self {
        Dispatcher {
            inner: Arc::new(Inner {
                worker,
                queues: Mutex::new(Queues::default()),
                tracker: TaskTracker::new(),
                events: Mutex::new(None),
            }),
        }
    }

    pub fn worker(&self) -> &Worker {
        &self.inner.worker
    }

    /// Every finished job (recorded or failed) is also sent here, for progress and summaries.
    pub fn subscribe(&self) -> mpsc::UnboundedReceiver<JobResult> {
        let (sender, receiver) = mpsc::unbounded_channel();
        *self.inner.events.lock().unwrap_or_else(|p| p.into_inner()) = Some(sender);
        receiver
    }

    /// Queues a scheduled probe. Returns false if the service is already queued or in flight.
    pub fn enqueue(&self, service: DueService) -> bool {
        self.push(Job { service, lane: Lane::Scheduled, replies: Vec::new() })
    }

    /// Probes a service ahead of scheduled work on its host and waits for the recorded result.
    /// If it is already queued, it is moved to the front and this waits for that probe.
    pub async fn probe_now(&self, service: DueService) -> Result<Probed, JobError> {
        let (reply, answer) = oneshot::channel();
        self.push(Job { service, lane: Lane::Priority, replies: vec![reply] });
        answer.await.unwrap_or(Err(JobError::Cancelled))
    }

    /// Services queued or in flight.
    pub fn pending(&self) -> usize {
        self.inner.queues.lock().unwrap_or_else(|p| p.into_inner()).queued.len()
    }

    /// Waits until every host task has finished (after cancellation, or when the queues drain).
    pub async fn idle(&self) {
        self.inner.tracker.close();
        self.inner.tracker.wait().await;
        self.inner.tracker.reopen();
    }

    fn push(&self, job: Job) -> bool {
        if self.inner.worker.cancel_token().is_cancelled() {
            return false;
        }
        let mut queues = self.inner.queues.lock().unwrap_or_else(|p| p.into_inner());
        let host = job.service.host.clone();
        if !queues.queued.insert(job.service.id) {
            if job.lane == Lane::Priority {
                // Already waiting: move it to the front, this caller waiting on it too (one
                // probe answers every concurrent caller: the seller is not probed once each).
                if let Some(queue) = queues.by_host.get_mut(&host)
                    && let Some(at) = queue.iter().position(|j| j.service.id == job.service.id)
                    && let Some(mut waiting) = queue.remove(at)
                {
                    waiting.lane = Lane::Priority;
                    waiting.replies.extend(job.replies);
                    queue.push_front(waiting);
                    return true;
                }
                // In flight right now: probe again after it, for a fresh answer (later callers
                // find this follow-up in the queue and wait on it).
                let queue = queues.by_host.entry(host).or_default();
                queue.push_front(job);
                return true;
            }
            return false;
        }
        let running = queues.by_host.contains_key(&host);
        let queue = queues.by_host.entry(host.clone()).or_default();
        match job.lane {
            Lane::Priority => queue.push_front(job),
            Lane::Scheduled => queue.push_back(job),
        }
        if !running {
            let this = self.clone();
            self.inner.tracker.spawn(async move { this.drain_host(host).await });
        }
        true
    }

    async fn drain_host(self, host: String) {
        loop {
            let job = {
                let mut queues = self.inner.queues.lock().unwrap_or_else(|p| p.into_inner());
                let cancelled = self.inner.worker.cancel_token().is_cancelled();
                let next = if cancelled { None } else { queues.by_host.get_mut(&host).and_then(VecDeque::pop_front) };
                match next {
                    Some(job) => job,
                    None => {
                        // Dropping the remaining jobs drops their reply senders: waiters see
                        // `Cancelled`, and nothing was written for them.
                        if let Some(left) = queues.by_host.remove(&host) {
                            for job in &left {
                                queues.queued.remove(&job.service.id);
                            }
                        }
                        return;
                    }
                }
            };
            let result = self.inner.worker.probe(&job.service, job.lane).await;
            {
                let mut queues = self.inner.queues.lock().unwrap_or_else(|p| p.into_inner());
                let again = queues.by_host.get(&host).is_some_and(|q| q.iter().any(|j| j.service.id == job.service.id));
                if !again {
                    queues.queued.remove(&job.service.id);
                }
            }
            let event = match &result {
                Ok(probed) => Ok(probed.clone()),
                Err(error) => Err((job.service.clone(), error.to_string())),
            };
            if let Some(events) = &*self.inner.events.lock().unwrap_or_else(|p| p.into_inner()) {
                let _ = events.send(event);
            }
            let mut replies = job.replies;
            if let Some(last) = replies.pop() {
                for reply in replies {
                    let _ = reply.send(copy(&result));
                }
                let _ = last.send(result);
            }
        }
    }
}

/// The same outcome for another waiter (a store error travels as its message).
fn copy(result: &Result<Probed, JobError>) -> Result<Probed, JobError> {
    match result {
        Ok(probed) => Ok(probed.clone()),
        Err(JobError::Cancelled) => Err(JobError::Cancelled),
        Err(error) => Err(JobError::Failed(error.to_string())),
    }
}
