//! The node's HTTP listeners (public and submit), bounded: at most a fixed number of open
//! connections (one more is closed as soon as it is accepted, never held), a time limit on
//! each request's head (which also ends idle keep-alive connections), and, on every
//! connection, a limit on how long a write may wait for the client to read and on how long no
//! byte may move at all. Without these, idle or stalled clients held descriptors and tasks
//! until the node ran out of both (issue 17). The limits are in [`crate::limits`].

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, OwnedSemaphorePermit, Semaphore};
use tokio::task::{JoinHandle, JoinSet};
use tokio::time::{Instant, Sleep};

use crate::limits::{
    HTTP_ACCEPT_RETRY_MS, HTTP_IDLE_TIMEOUT_MS, HTTP_REQUEST_HEAD_TIMEOUT_MS, HTTP_WRITE_TIMEOUT_MS,
};

/// Serves `router` on `listener` with at most `connections_max` open connections, until
/// `shutdown` turns true (or its sender is dropped); then stops accepting, lets every open
/// connection finish its request, and ends.
pub fn spawn(
    listener: TcpListener,
    router: Router,
    connections_max: usize,
    shutdown: watch::Receiver<bool>,
) -> JoinHandle<io::Result<()>> {
    tokio::spawn(serve(listener, router, connections_max, shutdown))
}

async fn serve(
    listener: TcpListener,
    router: Router,
    connections_max: usize,
    mut shutdown: watch::Receiver<bool>,
) -> io::Result<()> {
    let permits = Arc::new(Semaphore::new(connections_max));
    let mut connections = JoinSet::new();
    loop {
        let accepted = tokio::select! {
            // Ends on `true` or when the sender is dropped.
            _ = shutdown.wait_for(|stop| *stop) => break,
            // Finished connections are reaped as they end, so the set stays at the cap.
            Some(_) = connections.join_next(), if !connections.is_empty() => continue,
            accepted = listener.accept() => accepted,
        };
        let stream = match accepted {
            Ok((stream, _)) => stream,
            Err(error) => {
                accept_failed(&error).await;
                continue;
            }
        };
        // Over the cap: closed now (dropping the stream), rather than held in a queue.
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            continue;
        };
        // Only a latency hint; a socket that refuses it serves all the same.
        let _ = stream.set_nodelay(true);
        connections.spawn(serve_connection(
            stream,
            router.clone(),
            permit,
            shutdown.clone(),
        ));
    }
    drop(listener);
    while connections.join_next().await.is_some() {}
    Ok(())
}

/// A failed `accept`: a connection that failed before it was taken needs nothing; anything
/// else (no descriptor left) is logged and waited out, so the loop does not spin.
async fn accept_failed(error: &io::Error) {
    if matches!(
        error.kind(),
        io::ErrorKind::ConnectionAborted | io::ErrorKind::ConnectionReset
    ) {
        return;
    }
    crate::log_line!("aidledger-node: accepting an HTTP connection failed: {error}");
    tokio::time::sleep(Duration::from_millis(HTTP_ACCEPT_RETRY_MS)).await;
}

async fn serve_connection(
    stream: TcpStream,
    router: Router,
    _permit: OwnedSemaphorePermit,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(Duration::from_millis(HTTP_REQUEST_HEAD_TIMEOUT_MS));
    let connection = builder.serve_connection(
        TokioIo::new(TimedStream::new(stream)),
        TowerToHyperService::new(router),
    );
    tokio::pin!(connection);
    // A connection's error (a timeout, a client that reset) concerns only that client.
    tokio::select! {
        _ = connection.as_mut() => return,
        _ = shutdown.wait_for(|stop| *stop) => {}
    }
    connection.as_mut().graceful_shutdown();
    let _ = connection.await;
}

/// A TCP stream whose reads fail after [`HTTP_IDLE_TIMEOUT_MS`] without a byte moved in either
/// direction, and whose writes fail after waiting [`HTTP_WRITE_TIMEOUT_MS`] for the client to
/// read. A failed read or write ends the connection, and with it the response (an export's
/// producer then sees its channel closed and stops).
struct TimedStream {
    inner: TcpStream,
    last_progress: Instant,
    idle: Pin<Box<Sleep>>,
    write_stalled: Option<Pin<Box<Sleep>>>,
}

impl TimedStream {
    fn new(inner: TcpStream) -> TimedStream {
        let now = Instant::now();
        TimedStream {
            inner,
            last_progress: now,
            idle: Box::pin(tokio::time::sleep_until(now + idle_timeout())),
            write_stalled: None,
        }
    }

    fn progressed(&mut self) {
        self.last_progress = Instant::now();
        self.write_stalled = None;
    }

    /// Whether the idle time ran out (registering the waker when not).
    fn idle_expired(&mut self, context: &mut Context<'_>) -> bool {
        let deadline = self.last_progress + idle_timeout();
        if self.idle.deadline() != deadline {
            self.idle.as_mut().reset(deadline);
        }
        self.idle.as_mut().poll(context).is_ready()
    }

    /// Whether the write waiting for the client ran out of time (registering the waker when not).
    fn write_expired(&mut self, context: &mut Context<'_>) -> bool {
        let stalled = self.write_stalled.get_or_insert_with(|| {
            Box::pin(tokio::time::sleep(Duration::from_millis(
                HTTP_WRITE_TIMEOUT_MS,
            )))
        });
        stalled.as_mut().poll(context).is_ready()
    }

    fn written<T>(
        &mut self,
        context: &mut Context<'_>,
        polled: Poll<io::Result<T>>,
    ) -> Poll<io::Result<T>> {
        match polled {
            Poll::Ready(result) => {
                self.progressed();
                Poll::Ready(result)
            }
            Poll::Pending if self.write_expired(context) => Poll::Ready(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "the client did not read for HTTP_WRITE_TIMEOUT_MS",
            ))),
            Poll::Pending => Poll::Pending,
        }
    }
}

fn idle_timeout() -> Duration {
    Duration::from_millis(HTTP_IDLE_TIMEOUT_MS)
}

impl AsyncRead for TimedStream {
    fn poll_read(
        self: Pin<&mut Self>,
        context: &mut Context<'_>,
        buffer: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_read(context, buffer) {
            Poll::Ready(result) => {
                this.progressed();
                Poll::Ready(result)
            }
            Poll::Pending if this.idle_expired(context) => Poll::Ready(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "no byte moved for HTTP_IDLE_TIMEOUT_MS",
            ))),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl AsyncWrite for TimedStream {
    fn poll_write(
        self: Pin<&mut Self>,
        context: &mut Context<'_>,
        bytes: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.inner).poll_write(context, bytes);
        this.written(context, polled)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        context: &mut Context<'_>,
        buffers: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.inner).poll_write_vectored(context, buffers);
        this.written(context, polled)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(context)
    }

    fn poll_shutdown(self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(context)
    }
}
