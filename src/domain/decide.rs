//! How the aggregates meet cqrs-es. Each decides a command synchronously, on
//! its state and the role policy (`Decide`): the events to append, or why
//! not. The ledger calls `decide` itself and appends what it returns; cqrs-es's
//! `Aggregate::handle` (which its `TestFramework` drives) goes through the one
//! `handle` below, which writes those events to cqrs-es's sink.

use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;

use super::roles::RolePolicy;

pub trait Decide: Aggregate<Services = RolePolicy> + Clone {
    /// The events `command` gives on this state, or why it is refused.
    fn decide(
        &self,
        command: Self::Command,
        roles: &RolePolicy,
    ) -> Result<Vec<Self::Event>, Self::Error>;
}

/// `Aggregate::handle` for every aggregate: decide, then write to the sink.
pub async fn handle<A: Decide>(
    aggregate: &mut A,
    command: A::Command,
    roles: &RolePolicy,
    sink: &EventSink<A>,
) -> Result<(), A::Error> {
    for event in aggregate.decide(command, roles)? {
        sink.write(event, aggregate).await;
    }
    Ok(())
}
