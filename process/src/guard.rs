//! [`ChildGuard`]: a child process that is stopped when its guard is dropped, and the graceful
//! stop (SIGTERM, a bounded wait, then SIGKILL) that the demo and the harnesses share.

use std::io;
use std::process::{Child, ExitStatus};
use std::time::{Duration, Instant};

use rustix::process::{kill_process, Pid};

/// A signal to send to a child ([`ChildGuard::signal`]).
pub use rustix::process::Signal;

/// How often a stopping child is checked.
const STOP_POLL_PAUSE: Duration = Duration::from_millis(5);

/// A child process, killed (SIGKILL) and reaped when dropped if it still runs.
///
/// Signals go only to a child that has not been reaped: until then its pid cannot be reused by
/// another process, so a signal can never reach a stranger.
#[derive(Debug)]
pub struct ChildGuard {
    child: Child,
    /// How it ended, once reaped.
    status: Option<ExitStatus>,
}

impl ChildGuard {
    /// Guards `child`.
    pub fn new(child: Child) -> ChildGuard {
        ChildGuard {
            child,
            status: None,
        }
    }

    /// The process id.
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// How the child ended, if it has (reaping it); `None` while it runs.
    pub fn try_wait(&mut self) -> io::Result<Option<ExitStatus>> {
        if self.status.is_none() {
            self.status = self.child.try_wait()?;
        }
        Ok(self.status)
    }

    /// Waits for the child to end (reaping it); returns how it ended.
    pub fn wait(&mut self) -> io::Result<ExitStatus> {
        if let Some(status) = self.status {
            return Ok(status);
        }
        let status = self.child.wait()?;
        self.status = Some(status);
        Ok(status)
    }

    /// Sends `signal`; nothing is sent to a child that has ended.
    pub fn signal(&mut self, signal: Signal) -> io::Result<()> {
        if self.try_wait()?.is_some() {
            return Ok(());
        }
        kill_process(Pid::from_child(&self.child), signal).map_err(io::Error::from)
    }

    /// Sends SIGTERM and waits up to `timeout` for the child to end; kills it if it has not.
    /// Returns how it ended on SIGTERM, or `None` if it had to be killed.
    pub fn terminate(&mut self, timeout: Duration) -> io::Result<Option<ExitStatus>> {
        let ended = stop_all(std::slice::from_mut(self), timeout);
        Ok(if ended == 1 { self.status } else { None })
    }

    /// Kills the child (SIGKILL) and reaps it; returns how it ended.
    pub fn kill(&mut self) -> io::Result<ExitStatus> {
        if let Some(status) = self.try_wait()? {
            return Ok(status);
        }
        self.child.kill()?;
        let status = self.child.wait()?;
        self.status = Some(status);
        Ok(status)
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        // Nothing can be done about an error here: the child is gone or not ours to reap.
        let _ = self.kill();
    }
}

/// Sends SIGTERM to every child, waits until each has ended (reaping it) or `timeout` has
/// passed, and kills those still running. Returns how many ended on SIGTERM (or before it).
pub fn stop_all(children: &mut [ChildGuard], timeout: Duration) -> usize {
    for child in children.iter_mut() {
        // A child that cannot be signalled is killed below when the time is up.
        let _ = child.signal(Signal::TERM);
    }
    let deadline = Instant::now() + timeout;
    let ended = |children: &mut [ChildGuard]| {
        children
            .iter_mut()
            .map(|child| child.try_wait())
            .filter(|status| matches!(status, Ok(Some(_))))
            .count()
    };
    while ended(children) < children.len() && Instant::now() < deadline {
        std::thread::sleep(STOP_POLL_PAUSE);
    }
    let count = ended(children);
    for child in children.iter_mut() {
        let _ = child.kill();
    }
    count
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    #[test]
    fn a_dropped_guard_kills_its_child() {
        let child = Command::new("sleep").arg("60").spawn().unwrap();
        let proc_entry = format!("/proc/{}", child.id());
        assert!(std::path::Path::new(&proc_entry).exists());
        drop(ChildGuard::new(child));
        // Killed and reaped: not even a zombie is left.
        assert!(!std::path::Path::new(&proc_entry).exists());
    }

    #[test]
    fn terminate_reports_the_end_on_sigterm() {
        let mut guard = ChildGuard::new(Command::new("sleep").arg("60").spawn().unwrap());
        let status = guard.terminate(Duration::from_secs(10)).unwrap();
        let status = status.expect("sleep ends on SIGTERM");
        assert!(!status.success());
        assert!(guard.try_wait().unwrap().is_some());
    }

    #[test]
    fn a_child_that_ignores_sigterm_is_killed_after_the_timeout() {
        let child = Command::new("sh")
            .args(["-c", "trap '' TERM; exec sleep 60"])
            .spawn()
            .unwrap();
        let mut guard = ChildGuard::new(child);
        // Give the shell time to install its trap.
        std::thread::sleep(Duration::from_millis(200));
        let status = guard.terminate(Duration::from_millis(200)).unwrap();
        assert_eq!(status, None);
        assert!(guard.try_wait().unwrap().is_some());
    }
}
