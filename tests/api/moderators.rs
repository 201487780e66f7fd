//! Moderator accounts over real HTTP: password login (argon2id), throttling, logout, API tokens,
//! per-site visibility, the team an owner manages, and `colloquy moderator create`.

use std::process::Stdio;
use std::time::{Duration, Instant};

use colloquy::app::Application;
use colloquy::auth::moderators::Role;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::cli::{colloquy, fresh_db, moderator_create};
use crate::helpers::moderator::{
    PASSWORD, accept, add_moderator, assert_throttled, call, delete, get, json_of, login,
    login_from, member_id, patch, post, proxied_app, site,
};
use crate::helpers::{
    TestApp, assert_error, http_client, spawn_app, spawn_app_with, test_settings, wait_ready,
};

mod invitations;

mod cli;
mod login;
mod team;
mod throttling;
mod tokens;

const HASH_PREFIX: &str = "$argon2id$v=19$m=19456,t=2,p=1$";

async fn failures(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM login_failures")
        .fetch_one(&app.db)
        .await
        .unwrap()
}
