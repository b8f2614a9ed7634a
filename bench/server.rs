//! The server under test, the `invite-ledger` executable in a child process, so
//! its memory is its own and can be read from /proc.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::process::{Child, Command};

use invite_ledger::auth::password::PasswordCost;

/// No command the bench runs takes this long: one that does is stuck, not slow.
const CHILD_DEADLINE: Duration = Duration::from_secs(15 * 60);

const STARTUP: Duration = Duration::from_secs(60);

/// The server's executable and the flags every child gets.
#[derive(Clone)]
pub struct Cli {
    pub exe: PathBuf,
    pub database_url: String,
    pub cost: PasswordCost,
    /// Where the server sends its email (`SMTP_URL`); none: to the log.
    pub smtp_url: Option<String>,
}

impl Cli {
    /// Runs a one-shot subcommand (`migrate`, `user create`, ...) to completion,
    /// bounded by `CHILD_DEADLINE` (the child is killed past it).
    pub async fn run(&self, args: &[&str]) -> anyhow::Result<String> {
        let output = self
            .command(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .output();
        let output = tokio::time::timeout(CHILD_DEADLINE, output)
            .await
            .map_err(|_| {
                anyhow::anyhow!(
                    "`invite-ledger {}` did not finish in {CHILD_DEADLINE:?}",
                    args.join(" ")
                )
            })??;
        anyhow::ensure!(
            output.status.success(),
            "`invite-ledger {}` failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr)
        );
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    }

    /// `run`, also reading the child's peak resident memory (KiB) while it runs.
    pub async fn run_measured(&self, args: &[&str]) -> anyhow::Result<(String, u64)> {
        let mut child = self
            .command(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()?;
        let pid = child
            .id()
            .ok_or_else(|| anyhow::anyhow!("the child exited at once"))?;
        let status = PathBuf::from(format!("/proc/{pid}/status"));
        let mut stdout = child.stdout.take().expect("piped");
        let mut stderr = child.stderr.take().expect("piped");
        let read_out = tokio::spawn(async move {
            let mut text = String::new();
            tokio::io::AsyncReadExt::read_to_string(&mut stdout, &mut text).await?;
            anyhow::Ok(text)
        });
        let read_err = tokio::spawn(async move {
            let mut text = String::new();
            tokio::io::AsyncReadExt::read_to_string(&mut stderr, &mut text).await?;
            anyhow::Ok(text)
        });
        // VmHWM only grows: the last reading before the exit is the peak, give
        // or take the last few milliseconds.
        let mut peak = 0;
        let started = Instant::now();
        let exit = loop {
            if let Ok(kib) = peak_rss_kib(&status) {
                peak = peak.max(kib);
            }
            if started.elapsed() > CHILD_DEADLINE {
                child.kill().await?;
                anyhow::bail!(
                    "`invite-ledger {}` did not finish in {CHILD_DEADLINE:?}",
                    args.join(" ")
                );
            }
            tokio::select! {
                exit = child.wait() => break exit?,
                _ = tokio::time::sleep(Duration::from_millis(10)) => {}
            }
        };
        let (stdout, stderr) = (read_out.await??, read_err.await??);
        anyhow::ensure!(
            exit.success(),
            "`invite-ledger {}` failed: {stderr}",
            args.join(" ")
        );
        Ok((stdout, peak))
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(&self.exe);
        command
            .args(args)
            .arg("--database-url")
            .arg(&self.database_url)
            .arg("--password-hash-memory-kib")
            .arg(self.cost.memory_kib.to_string())
            .arg("--password-hash-iterations")
            .arg(self.cost.iterations.to_string())
            .env("RUST_LOG", "warn")
            // Every client of the bench comes from one address: 64 of them, plus the
            // admin's, are more than the default per-address cap lets in.
            .env("MAX_CONNECTIONS_PER_ADDRESS", "1024")
            .kill_on_drop(true);
        if let Some(url) = &self.smtp_url {
            command.env("SMTP_URL", url);
        }
        command
    }
}

pub struct Server {
    child: Child,
    pid: u32,
    pub base: String,
}

impl Server {
    /// Starts `invite-ledger serve` on a free loopback port and waits until
    /// `/readyz` answers.
    pub async fn start(cli: &Cli) -> anyhow::Result<Server> {
        let port = free_port()?;
        let child = cli
            .command(&["serve"])
            .arg("--port")
            .arg(port.to_string())
            .stdout(Stdio::null())
            .spawn()?;
        let pid = child.id().ok_or_else(|| anyhow::anyhow!("server exited"))?;
        let server = Server {
            child,
            pid,
            base: format!("http://127.0.0.1:{port}"),
        };
        server.wait_ready().await?;
        Ok(server)
    }

    async fn wait_ready(&self) -> anyhow::Result<()> {
        let client = reqwest::Client::new();
        let started = Instant::now();
        loop {
            let ready = client.get(format!("{}/readyz", self.base)).send().await;
            if ready.is_ok_and(|r| r.status().is_success()) {
                return Ok(());
            }
            anyhow::ensure!(started.elapsed() < STARTUP, "the server did not get ready");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The most memory the server has held resident so far (VmHWM), in KiB.
    pub fn peak_rss_kib(&self) -> anyhow::Result<u64> {
        peak_rss_kib(&PathBuf::from(format!("/proc/{}/status", self.pid)))
    }

    /// The memory the server holds resident now (VmRSS), in KiB.
    pub fn rss_kib(&self) -> anyhow::Result<u64> {
        status_kib(
            &PathBuf::from(format!("/proc/{}/status", self.pid)),
            "VmRSS:",
        )
    }

    pub async fn stop(mut self) -> anyhow::Result<()> {
        self.child.kill().await?;
        Ok(())
    }
}

/// `invite-ledger` in the folder of this bench's own executable, where `cargo
/// build` puts both: the bench measures the server built with it.
pub fn beside_this_bench() -> anyhow::Result<PathBuf> {
    let bench = std::env::current_exe()?;
    let server = bench.with_file_name("invite-ledger");
    anyhow::ensure!(
        server.is_file(),
        "no server executable at {} (build it with `cargo build --release`, or name \
         one with --server-bin)",
        server.display()
    );
    Ok(server)
}

fn peak_rss_kib(status: &Path) -> anyhow::Result<u64> {
    status_kib(status, "VmHWM:")
}

/// A `kB` figure of `/proc/<pid>/status`.
fn status_kib(status: &Path, field: &str) -> anyhow::Result<u64> {
    let text = std::fs::read_to_string(status)?;
    text.lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| anyhow::anyhow!("no {field} in {}", status.display()))
}

fn free_port() -> anyhow::Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_this_process_peak_memory() {
        let kib = peak_rss_kib(Path::new("/proc/self/status")).unwrap();
        assert!(kib > 100, "{kib} KiB");
    }
}
