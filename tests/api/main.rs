//! Integration tests: the real app over real HTTP against real PostgreSQL, one database per test.

mod comments;
mod helpers;
mod idempotency;
mod thread;
