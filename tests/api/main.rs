//! Integration tests: the real app over real HTTP against real PostgreSQL, one database per test.

mod appeals;
mod audit;
mod auth;
mod claims;
mod cli;
mod comments;
mod cors;
mod doubles;
mod edits;
mod errors;
mod events;
mod health;
mod helpers;
mod idempotency;
mod identities;
mod janitor;
mod metrics;
mod moderation_api;
mod moderators;
mod oauth;
mod openapi;
mod pipeline;
mod reactions;
mod thread;
