//! Personal data in events, sealed per person (decision 14: crypto-shredding).
//!
//! Which fields: every email and name an event holds (`FIELDS`): an invite's
//! invitee email, its inviter's name and email, the email of who used it or was
//! refused it, and an account's email and name. Ids stay readable: they are
//! what the tree, the counts and every index are made of (see the README on
//! what a user id reveals).
//!
//! Whose: a person is a user id, the UUID v5 of the normalized email
//! (`user_id_for_email`). An invitee has one before any account exists, and the
//! account made later gets the same id, so one key covers a person's whole life
//! in the log. A Better Auth user (companion mode) is its Better Auth id: its
//! `Introduced` and `SeatReserved` fields are sealed under that id (an invite
//! to their email, made before they existed, stays under the email's id). A field next to an id (`inviter_id`, `user_id`) belongs to that
//! id; an account's own fields to the account; a bare email to its derived id.
//!
//! How, in the log (event version 2): a personal field is
//! `{"person": <id>, "key": <generation>, "sealed": <base64 of nonce | ciphertext>}`
//! in place of its text, sealed with ChaCha20-Poly1305 under the person's key
//! with the person's id as associated data (a sealed field cannot be passed off
//! as someone else's). Events of version 1, written before sealing existed,
//! hold the text itself: `PlainPersonalFields`, a cqrs-es `EventUpcaster`,
//! turns each into `{"person": <id>, "plain": <text>}`, so one `open` reads both.
//!
//! Reading: `open` turns each field back into its text while the person's key
//! exists, and into `[erased]` once it is gone; a plain (version 1) field turns
//! into `[erased]` once its person was erased, though the log still holds it.

use std::collections::HashMap;

use base64::engine::general_purpose::STANDARD_NO_PAD;
use base64::Engine;
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use cqrs_es::persist::{EventUpcaster, SerializedEvent};
use serde_json::{Map, Value};

use crate::domain::normalize_email;
use crate::domain::user::user_id_for_email;

/// What an erased person's fields read as, everywhere.
pub const ERASED: &str = "[erased]";

/// The version events are written with: personal fields sealed.
pub const EVENT_VERSION: &str = "2";

/// Whose a personal field is.
enum Owner {
    /// The person the email itself names (an invitee may have no account yet).
    Email,
    /// The id in another field of the event.
    IdAt(&'static str),
    /// The aggregate's own id (an account's own events).
    Aggregate,
}

struct Field {
    pointer: &'static str,
    owner: Owner,
}

const CREATED: &[Field] = &[
    Field {
        pointer: "/Created/terms/email",
        owner: Owner::Email,
    },
    Field {
        pointer: "/Created/terms/invitee_name",
        owner: Owner::IdAt("/Created/terms/invitee_id"),
    },
    Field {
        pointer: "/Created/inviter_name",
        owner: Owner::IdAt("/Created/inviter_id"),
    },
    Field {
        pointer: "/Created/inviter_email",
        owner: Owner::IdAt("/Created/inviter_id"),
    },
];
const USED: &[Field] = &[Field {
    pointer: "/Used/user_email",
    owner: Owner::IdAt("/Used/user_id"),
}];
/// A refused attempt's client details (`RECORD_CLIENT_DETAILS`) are the
/// account's that tried; an anonymous visitor's name no person of the ledger.
const REFUSED: &[Field] = &[
    Field {
        pointer: "/Refused/refusal/email",
        owner: Owner::Email,
    },
    Field {
        pointer: "/Refused/refusal/client_address",
        owner: Owner::IdAt("/Refused/refusal/user_id"),
    },
    Field {
        pointer: "/Refused/refusal/user_agent",
        owner: Owner::IdAt("/Refused/refusal/user_id"),
    },
];
const REGISTERED: &[Field] = &[
    Field {
        pointer: "/Registered/email",
        owner: Owner::Aggregate,
    },
    Field {
        pointer: "/Registered/name",
        owner: Owner::Aggregate,
    },
];

const INTRODUCED: &[Field] = &[
    Field {
        pointer: "/Introduced/email",
        owner: Owner::Aggregate,
    },
    Field {
        pointer: "/Introduced/name",
        owner: Owner::Aggregate,
    },
];
const SEAT_RESERVED: &[Field] = &[
    Field {
        pointer: "/SeatReserved/user_email",
        owner: Owner::IdAt("/SeatReserved/user_id"),
    },
    Field {
        pointer: "/SeatReserved/user_name",
        owner: Owner::IdAt("/SeatReserved/user_id"),
    },
];
const PROFILE_UPDATED: &[Field] = &[
    Field {
        pointer: "/ProfileUpdated/name",
        owner: Owner::Aggregate,
    },
    Field {
        pointer: "/ProfileUpdated/image",
        owner: Owner::Aggregate,
    },
];

/// An organization invitation's invitee email, as an invite's.
const INVITATION_ALLOWED: &[Field] = &[Field {
    pointer: "/InvitationAllowed/email",
    owner: Owner::Email,
}];
const INVITATION_CREATED: &[Field] = &[Field {
    pointer: "/InvitationCreated/email",
    owner: Owner::Email,
}];
const EMAIL_CHANGED: &[Field] = &[Field {
    pointer: "/EmailChanged/email",
    owner: Owner::Aggregate,
}];

/// The personal fields of an event type (the same names for every version).
fn fields_of(event_type: &str) -> &'static [Field] {
    match event_type {
        "Created" => CREATED,
        "Used" => USED,
        "Refused" => REFUSED,
        "Registered" => REGISTERED,
        "Introduced" => INTRODUCED,
        "SeatReserved" => SEAT_RESERVED,
        "ProfileUpdated" => PROFILE_UPDATED,
        "InvitationAllowed" => INVITATION_ALLOWED,
        "InvitationCreated" => INVITATION_CREATED,
        "EmailChanged" => EMAIL_CHANGED,
        _ => &[],
    }
}

/// Where an event type's personal fields are: `/Type/field` pointers into the
/// serialized event.
pub fn personal_pointers(event_type: &str) -> impl Iterator<Item = &'static str> {
    fields_of(event_type).iter().map(|field| field.pointer)
}

/// Whether events of this type may hold personal data (others decode as they are).
pub fn has_personal_fields(event_type: &str) -> bool {
    !fields_of(event_type).is_empty()
}

/// `Value::pointer` for our pointers, which name plain keys: serde_json's
/// unescapes `~` into a new string for every segment, a share of a rebuild.
pub fn at<'a>(value: &'a Value, pointer: &str) -> Option<&'a Value> {
    pointer
        .split('/')
        .skip(1)
        .try_fold(value, |value, key| value.as_object()?.get(key))
}

/// `Value::pointer_mut`, as `at`.
pub fn at_mut<'a>(value: &'a mut Value, pointer: &str) -> Option<&'a mut Value> {
    pointer
        .split('/')
        .skip(1)
        .try_fold(value, |value, key| value.as_object_mut()?.get_mut(key))
}

/// A person's key as the reader sees it.
#[derive(Debug, Clone)]
pub struct PersonKey {
    pub generation: i32,
    /// `None` once erased.
    pub key: Option<[u8; 32]>,
    /// Erased at least once: plain fields of old events read as `[erased]`.
    pub erased: bool,
}

/// The keys of the persons of a batch of events, by person id.
pub type Keyring = HashMap<String, PersonKey>;

/// A live key, for sealing.
#[derive(Clone, Copy)]
pub struct SealingKey {
    pub generation: i32,
    pub key: [u8; 32],
}

/// The event type of a payload (`{"Created": {...}}`), as serde tags it.
fn tag(payload: &Value) -> Option<&str> {
    payload.as_object()?.keys().next().map(String::as_str)
}

/// The person a plain field's `text` belongs to.
fn owner_of(field: &Field, text: &str, aggregate_id: &str, payload: &Value) -> Option<String> {
    match field.owner {
        Owner::Email => Some(user_id_for_email(&normalize_email(text))),
        Owner::IdAt(pointer) => at(payload, pointer)?.as_str().map(str::to_string),
        Owner::Aggregate => Some(aggregate_id.to_string()),
    }
}

/// Each plain personal field of a payload: its pointer, text and person.
fn plain_fields(aggregate_id: &str, payload: &Value) -> Vec<(&'static str, String, String)> {
    let Some(event_type) = tag(payload) else {
        return Vec::new();
    };
    fields_of(event_type)
        .iter()
        .filter_map(|field| {
            let text = at(payload, field.pointer)?.as_str()?;
            let person = owner_of(field, text, aggregate_id, payload)?;
            Some((field.pointer, text.to_string(), person))
        })
        .collect()
}

/// The persons whose fields a plain (just serialized) event holds: the keys
/// sealing it needs.
pub fn owners(aggregate_id: &str, payload: &Value) -> Vec<String> {
    plain_fields(aggregate_id, payload)
        .into_iter()
        .map(|(_, _, person)| person)
        .collect()
}

/// Seals every personal field of a plain event; `keys` holds a key for each
/// of its `owners`.
pub fn seal(
    aggregate_id: &str,
    payload: &mut Value,
    keys: &HashMap<String, SealingKey>,
) -> anyhow::Result<()> {
    mark_invitee(payload);
    for (pointer, text, person) in plain_fields(aggregate_id, payload) {
        let key = keys
            .get(&person)
            .ok_or_else(|| anyhow::anyhow!("no key to seal {pointer} with"))?;
        let cipher = ChaCha20Poly1305::new(Key::from_slice(&key.key));
        let nonce = ChaCha20Poly1305::generate_nonce(&mut OsRng);
        let sealed = cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: text.as_bytes(),
                    aad: person.as_bytes(),
                },
            )
            .map_err(|_| anyhow::anyhow!("sealing {pointer} failed"))?;
        let mut bytes = nonce.to_vec();
        bytes.extend_from_slice(&sealed);
        let mut object = Map::new();
        object.insert("person".into(), Value::String(person));
        object.insert("key".into(), Value::from(key.generation));
        object.insert(
            "sealed".into(),
            Value::String(STANDARD_NO_PAD.encode(bytes)),
        );
        *at_mut(payload, pointer).expect("found above") = Value::Object(object);
    }
    Ok(())
}

/// A private invite's terms name the invitee's user id beside the email, so
/// read models can find an invitee's rows once the email reads `[erased]`.
fn mark_invitee(payload: &mut Value) {
    let Some(email) = at(payload, "/Created/terms/email").and_then(Value::as_str) else {
        return;
    };
    let invitee = user_id_for_email(&normalize_email(email));
    if let Some(terms) = at_mut(payload, "/Created/terms").and_then(Value::as_object_mut) {
        terms.insert("invitee_id".into(), Value::String(invitee));
    }
}

/// Adds the persons whose sealed or plain fields a version-2 payload holds.
pub fn persons_in(payload: &Value, out: &mut Vec<String>) {
    let Some(event_type) = tag(payload) else {
        return;
    };
    for field in fields_of(event_type) {
        if let Some(person) = at(payload, field.pointer)
            .and_then(|v| v.get("person"))
            .and_then(Value::as_str)
        {
            out.push(person.to_string());
        }
    }
}

/// Turns every personal field back into text: its own while the person's key
/// exists, `[erased]` once it is gone.
pub fn open(payload: &mut Value, keys: &Keyring) -> anyhow::Result<()> {
    let Some(event_type) = tag(payload).map(str::to_string) else {
        return Ok(());
    };
    for field in fields_of(&event_type) {
        let Some(value) = at_mut(payload, field.pointer) else {
            continue;
        };
        let Some(object) = value.as_object() else {
            continue;
        };
        let person = object.get("person").and_then(Value::as_str).unwrap_or("");
        let known = keys.get(person);
        let text = if let Some(plain) = object.get("plain").and_then(Value::as_str) {
            match known {
                Some(key) if key.erased => ERASED.to_string(),
                _ => plain.to_string(),
            }
        } else {
            let generation = object.get("key").and_then(Value::as_i64);
            let sealed = object.get("sealed").and_then(Value::as_str).unwrap_or("");
            match known {
                Some(PersonKey {
                    key: Some(key),
                    generation: live,
                    ..
                }) if generation == Some(i64::from(*live)) => unseal(key, person, sealed)
                    .map_err(|e| anyhow::anyhow!("{} does not open: {e}", field.pointer))?,
                // Erased, or sealed with a key erased since.
                _ => ERASED.to_string(),
            }
        };
        *value = Value::String(text);
    }
    Ok(())
}

fn unseal(key: &[u8; 32], person: &str, sealed: &str) -> anyhow::Result<String> {
    const NONCE_LEN: usize = 12;
    let bytes = STANDARD_NO_PAD
        .decode(sealed)
        .ok()
        .filter(|b| b.len() > NONCE_LEN)
        .ok_or_else(|| anyhow::anyhow!("not a sealed field"))?;
    let (nonce, ciphertext) = bytes.split_at(NONCE_LEN);
    let plain = ChaCha20Poly1305::new(Key::from_slice(key))
        .decrypt(
            Nonce::from_slice(nonce),
            Payload {
                msg: ciphertext,
                aad: person.as_bytes(),
            },
        )
        .map_err(|_| anyhow::anyhow!("the person's key does not open it"))?;
    Ok(String::from_utf8(plain)?)
}

/// Events of version 1 (before sealing): each personal field's text becomes
/// `{"person", "plain"}`, the form `open` reads, with the person worked out as
/// the sealing writer would have.
pub struct PlainPersonalFields;

impl EventUpcaster for PlainPersonalFields {
    fn can_upcast(&self, _event_type: &str, event_version: &str) -> bool {
        event_version == "1"
    }

    fn upcast(&self, mut event: SerializedEvent) -> SerializedEvent {
        upcast_payload(&event.aggregate_id, &mut event.payload);
        event.event_version = EVENT_VERSION.to_string();
        event
    }
}

/// `PlainPersonalFields` on a payload alone.
pub fn upcast_payload(aggregate_id: &str, payload: &mut Value) {
    mark_invitee(payload);
    for (pointer, text, person) in plain_fields(aggregate_id, payload) {
        let mut object = Map::new();
        object.insert("person".into(), Value::String(person));
        object.insert("plain".into(), Value::String(text));
        *at_mut(payload, pointer).expect("found above") = Value::Object(object);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn created() -> Value {
        json!({ "Created": {
            "terms": { "email": "Bob@X.com", "role": "user" },
            "inviter_id": "alice-id", "inviter_name": "Alice", "inviter_email": "a@x.com",
            "inviter_role": "admin"
        }})
    }

    fn keyring(person: &str, key: Option<[u8; 32]>, erased: bool) -> Keyring {
        Keyring::from([(
            person.to_string(),
            PersonKey {
                generation: 1,
                key,
                erased,
            },
        )])
    }

    #[test]
    fn sealed_fields_open_with_their_key_and_read_erased_without() {
        let bob = user_id_for_email("bob@x.com");
        let mut payload = created();
        let owners = owners("hash", &payload);
        assert_eq!(owners, [bob.clone(), "alice-id".into(), "alice-id".into()]);
        let keys: HashMap<String, SealingKey> =
            [(bob.clone(), [1u8; 32]), ("alice-id".into(), [2u8; 32])]
                .into_iter()
                .map(|(p, key)| (p, SealingKey { generation: 1, key }))
                .collect();
        seal("hash", &mut payload, &keys).unwrap();
        let text = payload.to_string();
        for secret in ["Bob@X.com", "Alice", "a@x.com"] {
            assert!(!text.contains(secret), "{text}");
        }
        assert_eq!(payload["Created"]["inviter_id"], "alice-id");

        let mut both = keyring(&bob, Some([1; 32]), false);
        both.extend(keyring("alice-id", Some([2; 32]), false));
        let mut opened = payload.clone();
        open(&mut opened, &both).unwrap();
        let mut expected = created();
        expected["Created"]["terms"]["invitee_id"] = json!(bob);
        assert_eq!(opened, expected);

        // Alice erased: her fields read `[erased]`, Bob's still open.
        let mut without_alice = keyring(&bob, Some([1; 32]), false);
        without_alice.extend(keyring("alice-id", None, true));
        let mut opened = payload.clone();
        open(&mut opened, &without_alice).unwrap();
        assert_eq!(opened["Created"]["inviter_name"], ERASED);
        assert_eq!(opened["Created"]["inviter_email"], ERASED);
        assert_eq!(opened["Created"]["terms"]["email"], "Bob@X.com");

        // A key of another generation (erased, then invited again) opens nothing old.
        let mut rekeyed = keyring(&bob, Some([9; 32]), true);
        rekeyed.get_mut(&bob).unwrap().generation = 2;
        let mut opened = payload.clone();
        open(&mut opened, &rekeyed).unwrap();
        assert_eq!(opened["Created"]["terms"]["email"], ERASED);

        // A wrong key of the right generation is corruption, not erasure.
        let mut opened = payload;
        assert!(open(&mut opened, &keyring(&bob, Some([7; 32]), false)).is_err());
    }

    #[test]
    fn version_one_fields_upcast_to_plain_and_hide_once_erased() {
        let event = SerializedEvent::new(
            "hash".into(),
            1,
            "invite".into(),
            "Created".into(),
            "1".into(),
            created(),
            json!({}),
        );
        assert!(PlainPersonalFields.can_upcast("Created", "1"));
        assert!(!PlainPersonalFields.can_upcast("Created", EVENT_VERSION));
        let upcast = PlainPersonalFields.upcast(event);
        assert_eq!(upcast.event_version, EVENT_VERSION);
        let mut persons = Vec::new();
        persons_in(&upcast.payload, &mut persons);
        assert_eq!(persons[1], "alice-id");

        let mut kept = upcast.payload.clone();
        open(&mut kept, &Keyring::new()).unwrap();
        let mut expected = created();
        expected["Created"]["terms"]["invitee_id"] = json!(user_id_for_email("bob@x.com"));
        assert_eq!(kept, expected);

        let mut hidden = upcast.payload;
        open(&mut hidden, &keyring("alice-id", None, true)).unwrap();
        assert_eq!(hidden["Created"]["inviter_name"], ERASED);
        assert_eq!(hidden["Created"]["terms"]["email"], "Bob@X.com");
    }
}
