//! Colloquy: a self-hosted comment backend for blogs.

pub mod app;
pub mod auth;
pub mod cli;
pub mod comments;
pub mod config;
pub mod db;
pub mod domain;
pub mod error;
pub mod health;
pub mod http;
pub mod janitor;
pub mod metrics;
pub mod moderation;
pub mod notify;
pub mod openapi;
pub mod sites;
pub mod widget;
