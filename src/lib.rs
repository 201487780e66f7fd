//! Colloquy: a self-hosted comment backend for blogs.

pub mod api;
pub mod app;
pub mod audit;
pub mod auth;
pub mod cli;
pub mod comments;
pub mod config;
pub mod db;
pub mod domain;
pub mod error;
pub mod http;
pub mod janitor;
#[cfg(test)]
mod layers;
pub mod markdown;
pub mod metrics;
pub mod moderation;
pub mod notify;
pub mod openapi;
pub mod sites;
pub mod state;
pub mod thread_cache;
pub mod widget;
