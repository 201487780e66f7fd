//! Integration tests: the real app over real HTTP against real PostgreSQL, one database per test.

mod cli;
mod comments;
mod health;
mod helpers;
mod idempotency;
mod thread;
