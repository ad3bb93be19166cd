//! The Echo requests a session holds back: those that arrive together are answered together,
//! last first, so that a client matching answers by order rather than by id is caught.

use std::collections::HashSet;
use std::time::Duration;

use tokio::time::Instant;

use super::Record;

/// Echo requests waiting to be answered: those arriving within the reorder window of the first
/// are answered together, last first. It also keeps the ids in flight, to catch one reused.
pub(super) struct EchoQueue<T> {
    window: Duration,
    waiting: Vec<(i128, T)>,
    due: Option<Instant>,
    in_flight: HashSet<i128>,
}

impl<T> EchoQueue<T> {
    pub(super) fn new(window: Duration) -> Self {
        EchoQueue {
            window,
            waiting: Vec::new(),
            due: None,
            in_flight: HashSet::new(),
        }
    }

    /// Counts the request, notes a reused id, and holds it until the window closes.
    pub(super) fn push(&mut self, id: i128, request: T, record: &mut Record) {
        record.echo_requests += 1;
        if !self.in_flight.insert(id) {
            record.duplicate_ids.push(id);
        }
        self.waiting.push((id, request));
        self.due.get_or_insert(Instant::now() + self.window);
    }

    /// When the waiting requests are to be answered, if any wait.
    pub(super) fn due(&self) -> Option<Instant> {
        self.due
    }

    /// The waiting requests, last first, to be answered now.
    pub(super) fn take(&mut self, record: &mut Record) -> Vec<T> {
        self.due = None;
        record.answered_out_of_order |= self.waiting.len() > 1;
        self.waiting
            .drain(..)
            .rev()
            .map(|(id, request)| {
                self.in_flight.remove(&id);
                request
            })
            .collect()
    }
}
