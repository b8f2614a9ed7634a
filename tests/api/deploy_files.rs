//! `deploy/`'s systemd unit and Dockerfile start the server as they are
//! written. Neither systemd nor a Docker engine runs here, so this reads the
//! files and does what each would do with the built binary: the unit's
//! `ExecStart` with its `EnvironmentFile`, stopped with its `KillSignal` within
//! `TimeoutStopSec`; the image's `ENTRYPOINT` and `CMD` with its `ENV`, stopped
//! with its `STOPSIGNAL`, after checking every path its `COPY` lines name. What
//! only systemd or Docker do (a dynamic user, the hardening, the image build)
//! is not run.

use std::collections::HashMap;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use crate::helpers::TestDb;
use tokio::process::{Child, Command};

fn deploy_file(name: &str) -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("deploy")
            .join(name),
    )
    .unwrap()
}

/// `Key=value` lines of a unit file (the last one wins, as systemd reads them).
fn unit_settings(unit: &str) -> HashMap<String, String> {
    unit.lines()
        .filter(|line| !line.starts_with('#') && !line.starts_with('['))
        .filter_map(|line| line.split_once('='))
        .map(|(key, value)| (key.trim().to_string(), value.trim().to_string()))
        .collect()
}

/// The Dockerfile's instructions of one kind, with their arguments (line
/// continuations joined).
fn instructions(dockerfile: &str, kind: &str) -> Vec<String> {
    dockerfile
        .replace("\\\n", " ")
        .lines()
        .filter_map(|line| line.trim().strip_prefix(&format!("{kind} ")))
        .map(|args| args.trim().to_string())
        .collect()
}

/// Waits until the server on `port` answers `/readyz` with 200.
async fn ready(child: &mut Child, port: u16) {
    let url = format!("http://127.0.0.1:{port}/readyz");
    for _ in 0..600 {
        assert!(
            child.try_wait().unwrap().is_none(),
            "the server exited before it was ready"
        );
        if reqwest::get(&url).await.is_ok_and(|r| r.status() == 200) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("not ready on port {port}");
}

/// The binary as the file installs it: ours, wherever the file puts it.
fn installed(path: &str) -> &'static str {
    assert_eq!(
        path, "/usr/local/bin/invite-ledger",
        "where the binary is installed"
    );
    env!("CARGO_BIN_EXE_invite-ledger")
}

#[tokio::test]
async fn the_systemd_unit_starts_the_server_and_stops_it_in_time() {
    let db = TestDb::new().await;
    let unit = unit_settings(&deploy_file("invite-ledger.service"));
    let mut exec = unit["ExecStart"].split_whitespace();
    let binary = installed(exec.next().unwrap());
    let args: Vec<&str> = exec.collect();

    // The settings file the unit reads, as an operator would write it: a public
    // BASE_URL needs its own keys.
    const KEY: &str = "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0";
    let port = crate::helpers::free_port();
    let dir = std::env::temp_dir().join(format!("unit-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let env_file = dir.join("env");
    std::fs::write(
        &env_file,
        format!(
            "DATABASE_URL={}\nPORT={port}\nBASE_URL=https://invite.example.com\n\
             TOKEN_HASH_KEY={KEY}\nTOKEN_SEALING_KEY={KEY}\n",
            db.url
        ),
    )
    .unwrap();
    assert_eq!(unit["EnvironmentFile"], "/etc/invite-ledger/env");
    let environment: Vec<(String, String)> = std::fs::read_to_string(&env_file)
        .unwrap()
        .lines()
        .filter_map(|line| line.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();

    let mut server = Command::new(binary)
        .args(&args)
        .env_clear()
        .envs(environment)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    ready(&mut server, port).await;

    // `systemctl stop`: the unit's KillSignal, then at most TimeoutStopSec.
    let signal = unit["KillSignal"].trim_start_matches("SIG").to_string();
    let stop_within: u64 = unit["TimeoutStopSec"].parse().unwrap();
    let pid = server.id().unwrap().to_string();
    assert!(std::process::Command::new("kill")
        .args([&format!("-{signal}"), &pid])
        .status()
        .unwrap()
        .success());
    let exit = tokio::time::timeout(Duration::from_secs(stop_within), server.wait())
        .await
        .expect("stopped within TimeoutStopSec")
        .unwrap();
    assert!(exit.success(), "{exit:?}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn the_container_image_runs_its_entrypoint_with_its_environment() {
    let db = TestDb::new().await;
    let dockerfile = deploy_file("Dockerfile");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    // Every path the build stage copies from the repository exists.
    for copy in instructions(&dockerfile, "COPY") {
        if copy.starts_with("--from") {
            continue;
        }
        let mut paths: Vec<&str> = copy.split_whitespace().collect();
        paths.pop(); // the destination
        for path in paths {
            assert!(
                root.join(path).exists(),
                "COPY {path}: not in the repository"
            );
        }
    }
    // ENTRYPOINT + CMD, with the image's ENV, the port mapped to a free one.
    let entrypoint: Vec<String> =
        serde_json::from_str(&instructions(&dockerfile, "ENTRYPOINT")[0]).unwrap();
    let cmd: Vec<String> = serde_json::from_str(&instructions(&dockerfile, "CMD")[0]).unwrap();
    let mut environment: HashMap<String, String> = instructions(&dockerfile, "ENV")
        .iter()
        .flat_map(|line| {
            line.split_whitespace()
                .filter_map(|pair| pair.split_once('='))
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(environment["BIND_ADDRESS"], "0.0.0.0");
    let port = crate::helpers::free_port();
    environment.insert("PORT".into(), port.to_string());
    environment.insert("DATABASE_URL".into(), db.url.clone());
    let mut server = Command::new(installed(&entrypoint[0]))
        .args(&entrypoint[1..])
        .args(&cmd)
        .env_clear()
        .envs(&environment)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    ready(&mut server, port).await;
    let signal = instructions(&dockerfile, "STOPSIGNAL")[0]
        .trim_start_matches("SIG")
        .to_string();
    let pid = server.id().unwrap().to_string();
    assert!(std::process::Command::new("kill")
        .args([&format!("-{signal}"), &pid])
        .status()
        .unwrap()
        .success());
    let exit = tokio::time::timeout(Duration::from_secs(15), server.wait())
        .await
        .expect("stopped within docker stop's --stop-timeout 15")
        .unwrap();
    assert!(exit.success(), "{exit:?}");
}
