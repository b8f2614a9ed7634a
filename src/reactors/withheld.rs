//! Personal fields left out of what leaves for a store the service cannot
//! erase from (a JetStream stream keeps its messages as long as its operator
//! says): every email and name (`ledger::personal`) reads `null` there, the ids
//! stay, and a consumer that needs a name asks the audit API, which honours
//! erasure.

use heck::ToLowerCamelCase;
use serde_json::Value;

use crate::ledger::personal::{at_mut, personal_pointers};

/// Sets the personal fields of an event's `data` (as `EventView` shows it:
/// untagged, camelCase) of type `event_type` to `null`.
pub fn withhold_personal(event_type: &str, data: &mut Value) {
    for pointer in personal_pointers(event_type) {
        // `/Created/terms/invitee_name` is `/terms/inviteeName` in the view.
        let view_pointer: String = pointer
            .split('/')
            .skip(2)
            .map(|segment| format!("/{}", segment.to_lower_camel_case()))
            .collect();
        if let Some(field) = at_mut(data, &view_pointer) {
            *field = Value::Null;
        }
    }
}
