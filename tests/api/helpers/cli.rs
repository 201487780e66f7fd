//! The `colloquy` binary, run as an operator would, with the `test` configuration.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use super::{DropDb, pg_base};

pub fn colloquy(db_url: &str) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_colloquy"));
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("COLLOQUY_ENV")
        .env("COLLOQUY_ENV", "test")
        .env("COLLOQUY__DATABASE__URL", db_url)
        .stdin(Stdio::null());
    cmd
}

/// A database name nobody has created yet (the command under test creates it), dropped when
/// the guard goes.
pub fn fresh_db() -> (String, DropDb) {
    let name = super::db::test_db_name();
    (format!("{}/{name}", pg_base()), DropDb(name))
}

/// (stdout, stderr) as text.
pub fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// Runs `cmd` with `stdin` piped in; returns its output, stdout and stderr.
pub fn with_stdin(mut cmd: Command, stdin: &str) -> (Output, String, String) {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        // A refusal (or `--existing`) exits without reading stdin: the pipe may be closed by
        // then, and what the command answered is what the test checks.
        .or_else(|e| {
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                Ok(())
            } else {
                Err(e)
            }
        })
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let (stdout, stderr) = text(&out);
    (out, stdout, stderr)
}

/// Runs `colloquy moderator create ARGS` with `stdin` piped in.
pub fn moderator_create(db_url: &str, args: &[&str], stdin: &str) -> (Output, String, String) {
    let mut cmd = colloquy(db_url);
    cmd.args(["moderator", "create"]).args(args);
    with_stdin(cmd, stdin)
}

/// A copy of the migrated template (what the in-process tests get), for runs of the binary
/// that needn't test migrating; dropped when the guard goes.
pub async fn migrated_db() -> (String, DropDb) {
    let name = super::db::test_db_name();
    super::db::create_migrated_database(&name).await;
    (format!("{}/{name}", pg_base()), DropDb(name))
}
