//! The command line: `serve` (default), `migrate`, `site create|list`,
//! `moderator create|reset-password`.

use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use crate::app::Application;
use crate::audit::{self, ActionRecord, Actor};
use crate::auth::moderators::password::{self, NewPassword};
use crate::auth::moderators::store::{self as moderator_store, CreateAccountError, PutOutcome};
use crate::auth::moderators::{Role, SiteScope, team_audit};
use crate::config::Settings;
use crate::db;
use crate::domain::{Email, Origin, Policy, SiteName, SiteSlug};
use crate::http::telemetry;
use crate::sites::{NewSite, store as site_store};

/// The release and the commit it was built from (`build.rs`).
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("COLLOQUY_COMMIT"),
    ")"
);

#[derive(Parser)]
#[command(
    name = "colloquy",
    version = VERSION,
    about = "Self-hosted comment backend for blogs"
)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP server (the default when no command is given).
    Serve,
    /// Create the database if needed and apply migrations, then exit.
    Migrate(MigrateArgs),
    /// Print the effective configuration (compiled-in defaults, the configuration directory's
    /// files, COLLOQUY__… variables) with secrets redacted.
    Config,
    /// Manage sites (blogs).
    #[command(subcommand)]
    Site(SiteCommand),
    /// Manage moderator accounts.
    #[command(subcommand)]
    Moderator(ModeratorCommand),
}

#[derive(Args)]
struct MigrateArgs {
    /// Change nothing: exit 1 when migrations are pending (or the database is missing),
    /// 0 when the database is up to date.
    #[arg(long)]
    check: bool,
}

#[derive(Subcommand)]
enum ModeratorCommand {
    /// Create a moderator account with a role on a site. The password is read from standard
    /// input (one line, at least 12 characters). An email that has an account already is
    /// refused (its password is its owner's, not the one you typed) unless `--existing` says to
    /// give that account the role; its password is then left alone.
    Create(ModeratorCreate),
    /// Set a moderator account's password (read from standard input, one line, at least 12
    /// characters), ending all its sessions and revoking all its API tokens, and clear the
    /// failed-login counters of its email (an operator's unlock).
    ResetPassword(ModeratorResetPassword),
}

#[derive(Args)]
struct ModeratorResetPassword {
    /// The account's email address.
    #[arg(long)]
    email: String,
}

#[derive(Args)]
struct ModeratorCreate {
    /// The moderator's email address: their login.
    #[arg(long)]
    email: String,
    /// Slug of the site they get the role on.
    #[arg(long)]
    site: String,
    /// owner (site settings and the team, plus moderation) or moderator (queue, comments,
    /// bans, rules).
    #[arg(long, default_value = "moderator", value_parser = ["owner", "moderator"])]
    role: String,
    /// The email has an account already: give it the role, read no password.
    #[arg(long)]
    existing: bool,
}

#[derive(Subcommand)]
enum SiteCommand {
    /// Register a new site.
    Create(SiteCreate),
    /// List sites.
    List,
}

#[derive(Args)]
struct SiteCreate {
    /// Public identifier used in URLs and the embed tag: [a-z0-9-]{2,64}.
    #[arg(long)]
    slug: String,
    /// Display name.
    #[arg(long)]
    name: String,
    /// A browser origin allowed to embed the widget, e.g. https://blog.example (repeatable).
    #[arg(long = "origin", required = true)]
    origins: Vec<String>,
    /// Moderation policy: pre, post or first_time (default from config).
    #[arg(long)]
    policy: Option<String>,
    /// Allow guest comments (name + email, no login).
    #[arg(long)]
    guests: bool,
    /// Login provider commenters may use (repeatable): wordpress, twitter, facebook, google, oidc-NAME, dev.
    #[arg(long = "provider")]
    providers: Vec<String>,
}

pub fn run(cli: Cli) -> ExitCode {
    let settings = match Settings::load() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("colloquy: {e}");
            return ExitCode::from(2);
        }
    };
    telemetry::init(&settings.log);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("colloquy: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
        match cli.command.unwrap_or(Command::Serve) {
            Command::Serve => serve(settings).await,
            Command::Migrate(MigrateArgs { check: false }) => migrate(settings).await,
            Command::Migrate(MigrateArgs { check: true }) => migrate_check(settings).await,
            Command::Config => Settings::effective()
                .map(|text| print!("{text}"))
                .map_err(anyhow::Error::from),
            Command::Site(SiteCommand::Create(args)) => site_create(settings, args).await,
            Command::Site(SiteCommand::List) => site_list(settings).await,
            Command::Moderator(ModeratorCommand::Create(args)) => {
                moderator_create(settings, args).await
            }
            Command::Moderator(ModeratorCommand::ResetPassword(args)) => {
                moderator_reset_password(settings, args).await
            }
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("colloquy: {}", db::redact_error(&e));
            ExitCode::FAILURE
        }
    }
}

async fn serve(settings: Settings) -> anyhow::Result<()> {
    let host = settings.server.host.clone();
    let public = settings.server.public_url.clone();
    crate::auth::dev::ensure_not_published(
        settings.auth.dev_provider,
        &settings.server.trusted_proxies,
        &public,
    )?;
    let app = Application::build(settings).await?;
    tracing::info!(%host, port = app.port(), public_url = %public, "listening");
    app.run_until_stopped().await?;
    Ok(())
}

async fn migrate(settings: Settings) -> anyhow::Result<()> {
    let pool = db::connect_now(&settings.database).await?;
    db::MIGRATOR.run(&pool).await?;
    println!("migrations applied");
    Ok(())
}

/// Pending migrations, for deploy pipelines: the exit status says whether `migrate` has work.
async fn migrate_check(settings: Settings) -> anyhow::Result<()> {
    let pending = db::pending_migrations(&settings.database).await?;
    if pending.is_empty() {
        println!("database is up to date");
        return Ok(());
    }
    for m in &pending {
        println!("pending: {m}");
    }
    anyhow::bail!(
        "{} migration(s) pending: run `colloquy migrate`",
        pending.len()
    )
}

async fn site_create(settings: Settings, args: SiteCreate) -> anyhow::Result<()> {
    let slug = SiteSlug::parse(&args.slug).map_err(|e| anyhow::anyhow!("--slug {e}"))?;
    let name = SiteName::parse(&args.name).map_err(|e| anyhow::anyhow!("--name {e}"))?;
    let origins = args
        .origins
        .iter()
        .map(|o| Origin::parse(o).map_err(|e| anyhow::anyhow!("--origin {o:?} {e}")))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let policy = match &args.policy {
        Some(p) => Policy::parse(p).map_err(|e| anyhow::anyhow!("--policy {e}"))?,
        None => settings.moderation.default_policy,
    };
    for p in &args.providers {
        let known = matches!(
            p.as_str(),
            "wordpress" | "twitter" | "facebook" | "google" | "dev"
        ) || p.strip_prefix("oidc-").is_some_and(|n| !n.is_empty());
        if !known {
            anyhow::bail!(
                "--provider {p:?} must be wordpress, twitter, facebook, google, dev or oidc-NAME"
            );
        }
    }
    let m = &settings.moderation;
    let new = NewSite {
        slug,
        name,
        origins,
        providers: args.providers,
        guests: args.guests,
        policy,
        max_depth: m.max_depth as i32,
        edit_window_s: m.edit_window_s as i32,
        flags_to_hold: m.flags_to_hold as i32,
    };
    let pool = db::connect_now(&settings.database).await?;
    db::MIGRATOR.run(&pool).await?;
    let mut tx = pool.begin().await?;
    match site_store::create(&mut tx, &new).await {
        Ok(site) => {
            audit::record_action(
                &mut tx,
                &audit::ActionRecord {
                    site_id: Some(site.id),
                    actor: audit::Actor::Operator,
                    action: "site.created",
                    target_kind: "site",
                    target_id: Some(site.id),
                    before: None,
                    after: Some(crate::sites::settings::audit_json(&site)),
                    note: None,
                },
            )
            .await?;
            tx.commit().await?;
            println!(
                "created site {} ({}) policy={} guests={} origins={}",
                site.slug,
                site.name,
                site.policy.as_str(),
                site.guests,
                site.origins.join(",")
            );
            Ok(())
        }
        Err(site_store::CreateError::SlugTaken) => {
            anyhow::bail!("a site with slug {:?} already exists", new.slug.as_str())
        }
        Err(site_store::CreateError::Db(e)) => Err(e.into()),
    }
}

async fn moderator_create(settings: Settings, args: ModeratorCreate) -> anyhow::Result<()> {
    let email = Email::parse(&args.email)
        .map_err(|e| anyhow::anyhow!("--email {e}"))?
        .identity_key();
    let slug = SiteSlug::parse(&args.site).map_err(|e| anyhow::anyhow!("--site {e}"))?;
    let role = Role::parse(&args.role).map_err(|e| anyhow::anyhow!("--role {e}"))?;
    let pool = db::connect_now(&settings.database).await?;
    db::MIGRATOR.run(&pool).await?;
    let site = site_store::find_by_slug(&pool, slug.as_str())
        .await?
        .ok_or_else(|| anyhow::anyhow!("there is no site with slug {:?}", slug.as_str()))?;
    let scope = SiteScope::operator(site.id, &site.slug);
    let mut conn = pool.acquire().await?;
    let existing = moderator_store::find_id_by_email(&mut conn, &email).await?;
    drop(conn);
    let mut tx;
    let id = match (existing, args.existing) {
        (Some(id), true) => {
            tx = pool.begin().await?;
            id
        }
        // Whoever made that account chose its password, not the operator typing one now: the
        // role must not go to it by accident (a squatted address, say).
        (Some(_), false) => anyhow::bail!(
            "an account with this email exists already; to give it the role, run again with \
             --existing (its password stays its owner's); to set its password, use \
             `colloquy moderator reset-password --email EMAIL`"
        ),
        (None, true) => {
            anyhow::bail!("there is no account with this email; leave out --existing to create it")
        }
        (None, false) => {
            // Hashed before the transaction opens, so it holds no lock while argon2 runs.
            let hash = password::hash(read_password()?).await?;
            tx = pool.begin().await?;
            match moderator_store::create_account(&mut tx, &email, &hash).await {
                Ok(id) => id,
                Err(CreateAccountError::EmailTaken) => anyhow::bail!(
                    "an account with this email was created meanwhile; run the command again"
                ),
                Err(CreateAccountError::Db(e)) => return Err(e.into()),
            }
        }
    };
    let outcome = moderator_store::put_member(&mut tx, &scope, id, role).await?;
    if outcome == PutOutcome::LastOwner {
        anyhow::bail!(
            "this account is the only owner of site {}; make someone else owner first",
            site.slug
        );
    }
    if existing.is_none() {
        audit::record_action(
            &mut tx,
            &ActionRecord {
                site_id: Some(site.id),
                actor: Actor::Operator,
                action: "moderator.created",
                target_kind: "moderator",
                target_id: Some(id),
                before: None,
                after: Some(serde_json::json!({ "email": email })),
                note: None,
            },
        )
        .await?;
    }
    team_audit::audit_team_put(&mut tx, &scope, Actor::Operator, &email, id, role, outcome).await?;
    tx.commit().await?;
    if existing.is_some() {
        println!("moderator {id} already exists; password unchanged");
    } else {
        println!("created moderator {id}");
    }
    let (slug, role) = (&site.slug, role.as_str());
    match outcome {
        PutOutcome::Added => println!("added to site {slug} as {role}"),
        PutOutcome::Changed { from } => {
            println!(
                "role on site {slug} changed from {} to {role}",
                from.as_str()
            )
        }
        PutOutcome::Unchanged | PutOutcome::LastOwner => {
            println!("already {role} on site {slug}; nothing changed")
        }
    }
    Ok(())
}

async fn moderator_reset_password(
    settings: Settings,
    args: ModeratorResetPassword,
) -> anyhow::Result<()> {
    let email = Email::parse(&args.email)
        .map_err(|e| anyhow::anyhow!("--email {e}"))?
        .identity_key();
    let pool = db::connect_now(&settings.database).await?;
    db::MIGRATOR.run(&pool).await?;
    let mut conn = pool.acquire().await?;
    let id = moderator_store::find_id_by_email(&mut conn, &email)
        .await?
        .ok_or_else(|| anyhow::anyhow!("there is no moderator account with this email"))?;
    drop(conn);
    let changed = crate::auth::moderators::password_change::set_password(
        &pool,
        id,
        read_password()?,
        None,
        // A reset is for an account whose password someone else may know (forgotten, leaked,
        // or set by whoever accepted an invitation in the owner's name): everything minted
        // with the old one goes, API tokens included.
        false,
        Actor::Operator,
    )
    .await?;
    crate::auth::moderators::throttle::forgive_email(&pool, &email).await?;
    println!(
        "password of moderator {id} reset; {} sessions ended; {} API tokens revoked",
        changed.sessions_ended, changed.api_tokens_revoked
    );
    Ok(())
}

/// One line of standard input: the new password. Never echoed back or logged.
fn read_password() -> anyhow::Result<NewPassword> {
    use std::io::{BufRead, IsTerminal, Write};
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprint!(
            "New password (at least {} characters): ",
            password::MIN_CHARS
        );
        let _ = std::io::stderr().flush();
    }
    let mut line = String::new();
    stdin
        .lock()
        .read_line(&mut line)
        .map_err(|e| anyhow::anyhow!("cannot read the password from standard input: {e}"))?;
    let line = line.strip_suffix('\n').unwrap_or(&line);
    let line = line.strip_suffix('\r').unwrap_or(line);
    NewPassword::parse(line.to_owned())
        .map_err(|e| anyhow::anyhow!("the password (one line on standard input) {e}"))
}

async fn site_list(settings: Settings) -> anyhow::Result<()> {
    let pool = db::connect_now(&settings.database).await?;
    db::MIGRATOR.run(&pool).await?;
    for s in site_store::list(&pool).await? {
        println!(
            "{}\t{}\tpolicy={}\tguests={}\torigins={}",
            s.slug,
            s.name,
            s.policy.as_str(),
            s.guests,
            s.origins.join(",")
        );
    }
    Ok(())
}
