//! Module calls that run in the background (`TargetRunner::start_call` /
//! `wait_call`), for the `free` strategy: each call gets a thread that
//! opens the target's connection when it has none, makes the call and hands
//! the connection back with the outcome. A target has one call running at
//! a time; a second call to it waits for the first (its agent answers one
//! request at a time). A host that cannot run the agent is handed to the
//! thread likewise (its `AgentlessHost`: each module its own ssh session).
//! A call may ask to wait before it runs (an `until` retry's `delay`, an
//! async job's poll interval): its thread sleeps first, holding its fork
//! as an Ansible worker does.

use std::collections::{HashSet, VecDeque};
use std::sync::mpsc::{channel, Receiver, Sender, TryRecvError};
use std::time::Duration;

use rsible_connection::{AgentHandle, ConnError, ConnSpec, Connection};

use super::agentless::AgentlessHost;
use super::{call_planned, failure, ConnectionPool};
use crate::target::{CallOutcome, CallTicket, PlannedCall, TargetSpec, Unreachable};

/// What a background call's thread sends back.
struct Finished {
    ticket: CallTicket,
    target: TargetSpec,
    /// The connection, open and usable, unless opening it failed.
    handle: Option<AgentHandle>,
    outcome: Result<CallOutcome, ConnError>,
    /// The call, made again without the agent when the host cannot run it.
    call: PlannedCall,
    /// The agentless host the call ran on, handed back.
    agentless: Option<AgentlessHost>,
}

pub(super) struct Background {
    sender: Sender<Finished>,
    receiver: Receiver<Finished>,
    /// Threads whose outcome has not been collected yet.
    running: usize,
    /// Targets with a call running.
    busy: HashSet<TargetSpec>,
    /// Calls to a busy target, started when it is free, in order (with
    /// the wait each asked for).
    queued: VecDeque<(CallTicket, PlannedCall, Duration)>,
    /// Outcomes known without running (a dead target), not yet collected.
    ready: VecDeque<(CallTicket, CallOutcome)>,
}

impl Default for Background {
    fn default() -> Self {
        let (sender, receiver) = channel();
        Background {
            sender,
            receiver,
            running: 0,
            busy: HashSet::new(),
            queued: VecDeque::new(),
            ready: VecDeque::new(),
        }
    }
}

impl ConnectionPool {
    pub(super) fn start_background(
        &mut self,
        ticket: CallTicket,
        call: &PlannedCall,
        wait: Duration,
    ) -> Option<CallOutcome> {
        if let Some(outcome) = self.precheck(&call.target) {
            return Some(outcome);
        }
        if self.background.busy.contains(&call.target) {
            self.background
                .queued
                .push_back((ticket, call.clone(), wait));
            return None;
        }
        let agentless = self.agentless.remove(&call.target);
        let handle = match agentless {
            Some(_) => None,
            None => self.open.remove(&call.target),
        };
        let spec = match (&agentless, &handle) {
            (None, None) => {
                self.make_room(1);
                Some(self.conn_spec(&call.target))
            }
            _ => None,
        };
        self.background.busy.insert(call.target.clone());
        self.background.running += 1;
        let sender = self.background.sender.clone();
        let shared = self.agentless_shared.clone();
        let call = call.clone();
        std::thread::spawn(move || {
            let target = call.target.clone();
            std::thread::sleep(wait);
            let mut agentless = agentless;
            let work = std::panic::AssertUnwindSafe(|| match agentless.as_mut() {
                Some(host) => (None, Ok(host.call_planned(&call, &shared))),
                None => run_in_background(handle, spec, &call),
            });
            let (handle, outcome) = std::panic::catch_unwind(work).unwrap_or_else(|_| {
                (
                    None,
                    Err(ConnError::Local("the module call's thread panicked".into())),
                )
            });
            // The receiver lives as long as the pool; a send can only fail
            // once the run is over, when nobody waits for the outcome.
            let _ = sender.send(Finished {
                ticket,
                target,
                handle,
                outcome,
                call,
                agentless,
            });
        });
        None
    }

    pub(super) fn wait_background(&mut self, block: bool) -> Option<(CallTicket, CallOutcome)> {
        if let Some(done) = self.background.ready.pop_front() {
            return Some(done);
        }
        if self.background.running == 0 {
            return None;
        }
        let finished = if block {
            self.background.receiver.recv().ok()?
        } else {
            match self.background.receiver.try_recv() {
                Ok(f) => f,
                Err(TryRecvError::Empty | TryRecvError::Disconnected) => return None,
            }
        };
        self.background.running -= 1;
        self.background.busy.remove(&finished.target);
        if let Some(host) = finished.agentless {
            let outcome = finished
                .outcome
                .unwrap_or_else(|e| Err(Unreachable(e.to_string())));
            match &outcome {
                Err(Unreachable(msg)) => {
                    self.dead.insert(finished.target.clone(), msg.clone());
                }
                Ok(_) => {
                    self.agentless.insert(finished.target.clone(), host);
                }
            }
            self.start_queued_for(&finished.target);
            return Some((finished.ticket, outcome));
        }
        let outcome = match (finished.handle, finished.outcome) {
            (Some(handle), Ok(outcome)) => {
                self.settle(&finished.target, handle, &outcome);
                outcome
            }
            (_, Err(ConnError::Become(msg))) => Ok(failure(msg)),
            (_, Err(ConnError::NoAgent(why))) => {
                // Made again, in the background, without the agent.
                self.go_agentless(finished.target.clone(), why);
                let ticket = finished.ticket;
                let again = self.start_background(ticket, &finished.call, Duration::ZERO);
                return match again {
                    Some(outcome) => Some((ticket, outcome)),
                    None => self.wait_background(block),
                };
            }
            (_, Err(e)) => {
                let msg = e.to_string();
                self.dead.insert(finished.target.clone(), msg.clone());
                Err(Unreachable(msg))
            }
            (None, Ok(outcome)) => outcome,
        };
        self.start_queued_for(&finished.target);
        Some((finished.ticket, outcome))
    }

    /// Starts the first call that waited for `target` to be free.
    fn start_queued_for(&mut self, target: &TargetSpec) {
        let position = self
            .background
            .queued
            .iter()
            .position(|(_, c, _)| c.target == *target);
        let Some((ticket, call, wait)) = position.and_then(|i| self.background.queued.remove(i))
        else {
            return;
        };
        if let Some(outcome) = self.start_background(ticket, &call, wait) {
            self.background.ready.push_back((ticket, outcome));
        }
    }
}

/// The thread's work: the connection opened if needed, then the call.
fn run_in_background(
    handle: Option<AgentHandle>,
    spec: Option<ConnSpec>,
    call: &PlannedCall,
) -> (Option<AgentHandle>, Result<CallOutcome, ConnError>) {
    let mut handle = match (handle, spec) {
        (Some(h), _) => h,
        (None, Some(spec)) => match Connection::open(&spec) {
            Ok(h) => h,
            Err(e) => return (None, Err(e)),
        },
        (None, None) => return (None, Err(ConnError::Local("no connection to use".into()))),
    };
    let outcome = call_planned(&mut handle, call);
    (Some(handle), Ok(outcome))
}
