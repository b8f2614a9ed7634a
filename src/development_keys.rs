//! The public development keys (`TOKEN_HASH_KEY`, `TOKEN_SEALING_KEY` unset)
//! are for a server on the developer's own machine: with them, a copy of the
//! database gives every invite's code away. `serve` refuses them when
//! `BASE_URL` is not local, unless `ALLOW_DEVELOPMENT_KEYS` says so.

use crate::config::Settings;

/// Refuses a non-local `BASE_URL` served with a development key, naming what to set.
pub fn refuse_outside_development(settings: &Settings) -> anyhow::Result<()> {
    if settings.config.allow_development_keys || crate::config::is_local(&settings.base_url) {
        return Ok(());
    }
    let unset: Vec<&str> = [
        ("TOKEN_HASH_KEY", settings.token_hasher.is_dev_key),
        ("TOKEN_SEALING_KEY", settings.token_seal.is_dev_key),
    ]
    .into_iter()
    .filter_map(|(variable, dev)| dev.then_some(variable))
    .collect();
    let (unset, verb) = match unset.as_slice() {
        [] => return Ok(()),
        [one] => (one.to_string(), "is"),
        many => (many.join(" and "), "are"),
    };
    Err(anyhow::anyhow!(
        "BASE_URL {} is not local and {unset} {verb} not set, so the public development \
         key would be used: set {unset} (each `openssl rand -hex 32`; see Keys in the README), \
         or ALLOW_DEVELOPMENT_KEYS=1 to serve with the public key anyway",
        settings.base_url,
    ))
}
