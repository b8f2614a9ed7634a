//! Serving until SIGTERM or SIGINT, then draining: the listener closes at once,
//! requests in flight get up to a grace period to finish, and whatever still runs
//! then is cut off, so a stop never hangs.

use std::future::IntoFuture;
use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use tokio::net::TcpListener;
use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::watch;

pub async fn serve_until_signal(
    listener: TcpListener,
    router: Router,
    grace: Duration,
) -> anyhow::Result<()> {
    let (stop, stopping) = watch::channel(false);
    let mut stopped = stopping.clone();
    let server = axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        let _ = stopped.wait_for(|stop| *stop).await;
    });
    let mut server = tokio::spawn(server.into_future());
    tokio::select! {
        // It ended on its own: an error of the listener.
        ended = &mut server => return Ok(ended??),
        name = signalled() => {
            tracing::info!(signal = name?, grace_ms = grace.as_millis() as u64,
                "stopping: no new connections, finishing the requests in flight");
        }
    }
    let _ = stop.send(true);
    match tokio::time::timeout(grace, &mut server).await {
        Ok(ended) => ended??,
        Err(_) => {
            server.abort();
            tracing::warn!(
                grace_ms = grace.as_millis() as u64,
                "requests still running at the end of the grace period were cut off"
            );
        }
    }
    Ok(())
}

/// The name of the first of SIGTERM (from a service manager) or SIGINT (Ctrl-C).
async fn signalled() -> anyhow::Result<&'static str> {
    let mut terminate = signal(SignalKind::terminate())?;
    let mut interrupt = signal(SignalKind::interrupt())?;
    Ok(tokio::select! {
        _ = terminate.recv() => "SIGTERM",
        _ = interrupt.recv() => "SIGINT",
    })
}
