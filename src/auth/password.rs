//! Argon2id password hashing, run off the async threads (it is slow on purpose).

use std::sync::{Mutex, OnceLock};

use argon2::password_hash::{rand_core::OsRng, Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use tokio::sync::Semaphore;

/// Defined with the options that set it; here for the callers of `hash`.
pub use crate::config::PasswordCost;

/// Argon2's working memory (`memory_kib`, 19 MiB by default), one buffer per
/// hashing slot, kept and reused. At most one hash per core runs at once: more
/// only queue for the same cores. A fresh buffer per hash costs page faults, and
/// glibc keeps freed ones in per-thread arenas (the server grew past 800 MiB).
struct Workspace {
    slots: Semaphore,
    buffers: Mutex<Vec<Vec<Block>>>,
}

fn workspace() -> &'static Workspace {
    static WORKSPACE: OnceLock<Workspace> = OnceLock::new();
    WORKSPACE.get_or_init(|| Workspace {
        slots: Semaphore::new(std::thread::available_parallelism().map_or(2, usize::from)),
        buffers: Mutex::new(Vec::new()),
    })
}

/// Runs `work` off the async threads with a slot and a working buffer.
async fn with_memory<T: Send + 'static>(
    work: impl FnOnce(&mut Vec<Block>) -> T + Send + 'static,
) -> anyhow::Result<T> {
    let workspace = workspace();
    let _slot = workspace.slots.acquire().await?;
    let spare = workspace.buffers.lock().expect("not poisoned").pop();
    let mut buffer = spare.unwrap_or_default();
    let (result, buffer) = tokio::task::spawn_blocking(move || {
        let result = work(&mut buffer);
        (result, buffer)
    })
    .await?;
    workspace.buffers.lock().expect("not poisoned").push(buffer);
    Ok(result)
}

fn compute(
    argon2: &Argon2<'_>,
    password: &[u8],
    salt: &[u8],
    out: &mut [u8],
    memory: &mut Vec<Block>,
) -> argon2::Result<()> {
    memory.resize(argon2.params().block_count(), Block::default());
    argon2.hash_password_into_with_memory(password, salt, out, &mut memory[..])
}

fn hasher(cost: PasswordCost) -> anyhow::Result<Argon2<'static>> {
    let params = Params::new(cost.memory_kib, cost.iterations, 1, None)
        .map_err(|e| anyhow::anyhow!("bad password hash cost: {e}"))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// The PHC string (`$argon2id$v=19$m=...,t=...,p=1$salt$hash`) of `password`.
pub async fn hash(password: String, cost: PasswordCost) -> anyhow::Result<String> {
    let argon2 = hasher(cost)?;
    with_memory(move |memory| {
        let salt = SaltString::generate(&mut OsRng);
        let mut salt_bytes = [0u8; 64];
        let raw_salt = salt.as_salt().decode_b64(&mut salt_bytes)?;
        let output = Output::init_with(Params::DEFAULT_OUTPUT_LEN, |out| {
            Ok(compute(
                &argon2,
                password.as_bytes(),
                raw_salt,
                out,
                memory,
            )?)
        })?;
        let phc = PasswordHash {
            algorithm: Algorithm::Argon2id.ident(),
            version: Some(Version::V0x13.into()),
            params: ParamsString::try_from(argon2.params())?,
            salt: Some(salt.as_salt()),
            hash: Some(output),
        };
        Ok::<_, argon2::password_hash::Error>(phc.to_string())
    })
    .await?
    .map_err(|e| anyhow::anyhow!("hashing failed: {e}"))
}

/// The cost parameters travel inside the stored hash, so old hashes keep verifying
/// after the configured cost changes.
pub async fn verify(password: String, stored: String) -> bool {
    with_memory(move |memory| {
        let Ok(parsed) = PasswordHash::new(&stored) else {
            return false;
        };
        let (Some(expected), Some(salt)) = (parsed.hash, parsed.salt) else {
            return false;
        };
        let version = parsed.version.map_or(Ok(Version::V0x13), Version::try_from);
        let (Ok(algorithm), Ok(version), Ok(params)) = (
            Algorithm::try_from(parsed.algorithm),
            version,
            Params::try_from(&parsed),
        ) else {
            return false;
        };
        let mut salt_bytes = [0u8; 64];
        let Ok(raw_salt) = salt.decode_b64(&mut salt_bytes) else {
            return false;
        };
        let argon2 = Argon2::new(algorithm, version, params);
        let mut out = vec![0u8; expected.len()];
        compute(&argon2, password.as_bytes(), raw_salt, &mut out, memory).is_ok()
            // Output's equality takes the same time wherever the bytes differ.
            && Output::new(&out).is_ok_and(|computed| computed == expected)
    })
    .await
    .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hash_verifies_only_its_password() {
        let cost = PasswordCost {
            memory_kib: 256,
            iterations: 1,
        };
        let stored = hash("correct horse".into(), cost).await.unwrap();
        assert!(stored.starts_with("$argon2id$"));
        assert!(verify("correct horse".into(), stored.clone()).await);
        assert!(!verify("wrong horse".into(), stored).await);
        assert!(!verify("x".into(), "not a hash".into()).await);
    }

    #[tokio::test]
    async fn hashes_are_standard_phc_strings_that_argon2_itself_verifies() {
        use argon2::password_hash::PasswordVerifier;
        let cost = PasswordCost {
            memory_kib: 512,
            iterations: 2,
        };
        let stored = hash("tr0ub4dor".into(), cost).await.unwrap();
        assert!(
            stored.starts_with("$argon2id$v=19$m=512,t=2,p=1$"),
            "{stored}"
        );
        let parsed = PasswordHash::new(&stored).unwrap();
        assert!(Argon2::default()
            .verify_password(b"tr0ub4dor", &parsed)
            .is_ok());
        // And a hash made by the library, with another cost, verifies here.
        let other = argon2::password_hash::PasswordHasher::hash_password(
            &Argon2::default(),
            b"hunter22",
            &SaltString::generate(&mut OsRng),
        )
        .unwrap()
        .to_string();
        assert!(verify("hunter22".into(), other.clone()).await);
        assert!(!verify("hunter23".into(), other).await);
    }
}
