//! The command line: `serve` (default), `migrate`, `site create|list`.

use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use crate::app::Application;
use crate::config::Settings;
use crate::db;
use crate::domain::{Origin, Policy, SiteName, SiteSlug};
use crate::http::telemetry;
use crate::sites::{NewSite, store as site_store};

#[derive(Parser)]
#[command(
    name = "colloquy",
    version,
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
    Migrate,
    /// Manage sites (blogs).
    #[command(subcommand)]
    Site(SiteCommand),
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
            Command::Migrate => migrate(settings).await,
            Command::Site(SiteCommand::Create(args)) => site_create(settings, args).await,
            Command::Site(SiteCommand::List) => site_list(settings).await,
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
    let mut conn = pool.acquire().await?;
    match site_store::create(&mut conn, &new).await {
        Ok(site) => {
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
