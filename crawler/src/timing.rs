//! Connect timing: a connector layer that records how long establishing a connection (TCP and
//! TLS) took, into a slot owned by the probe running in the current task.
//!
//! reqwest reports no phase timings, so the fetcher installs this layer and scopes a slot around
//! each request with [`CONNECT_TIME`]. A reused pooled connection never reaches the connector,
//! which leaves the slot empty: the report then says `connect: null`, which is the truth.

use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

tokio::task_local! {
    /// The slot the current request's connect duration is written to.
    pub(crate) static CONNECT_TIME: Arc<Mutex<Option<Duration>>>;
}

/// A tower layer over reqwest's connector service.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct ConnectTimingLayer;

impl<S> tower::Layer<S> for ConnectTimingLayer {
    type Service = ConnectTiming<S>;

    fn layer(&self, inner: S) -> Self::Service {
        ConnectTiming { inner }
    }
}

#[derive(Clone, Debug)]
pub(crate) struct ConnectTiming<S> {
    inner: S,
}

impl<S, R> tower::Service<R> for ConnectTiming<S>
where
    S: tower::Service<R>,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = std::pin::Pin<Box<dyn Future<Output = Result<S::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: R) -> Self::Future {
        // Capture the slot now: the call happens inside the probe's task scope.
        let slot = CONNECT_TIME.try_with(Arc::clone).ok();
        let started = Instant::now();
        let connecting = self.inner.call(request);
        Box::pin(async move {
            let result = connecting.await;
            if let (Some(slot), Ok(_)) = (slot, &result)
                && let Ok(mut guard) = slot.lock()
            {
                *guard = Some(started.elapsed());
            }
            result
        })
    }
}
