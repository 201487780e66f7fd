//! A trivial HTTP server for benchmarks: serves one file's bytes, read once at start, at every
//! GET path with `Content-Type: application/json`. `benches/load.sh` uses it as the baseline
//! that a thread read is compared with (same bytes, same actix-web, same number of workers).
//!
//! Usage: static_file FILE PORT [WORKERS]
//! WORKERS defaults to 0, which, like colloquy's `server.workers = 0`, means actix-web's
//! default: one worker per CPU core. Listens on 127.0.0.1 only.

use std::process::ExitCode;

use actix_web::http::header::{self, HeaderValue};
use actix_web::web::{self, Bytes};
use actix_web::{App, HttpResponse, HttpServer};

fn usage() -> ExitCode {
    eprintln!("usage: static_file FILE PORT [WORKERS]");
    ExitCode::from(2)
}

#[actix_web::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(path), Some(port)) = (args.first(), args.get(1)) else {
        return usage();
    };
    let Ok(port) = port.parse::<u16>() else {
        return usage();
    };
    let workers = match args.get(2).map(|w| w.parse::<usize>()) {
        None => 0,
        Some(Ok(n)) => n,
        Some(Err(_)) => return usage(),
    };
    let body = match std::fs::read(path) {
        Ok(b) => Bytes::from(b),
        Err(e) => {
            eprintln!("static_file: cannot read {path}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let len = body.len();

    let mut server = HttpServer::new(move || {
        let body = body.clone();
        App::new().default_service(web::to(move || {
            let body = body.clone();
            async move {
                HttpResponse::Ok()
                    .insert_header((
                        header::CONTENT_TYPE,
                        HeaderValue::from_static("application/json"),
                    ))
                    .body(body)
            }
        }))
    });
    if workers > 0 {
        server = server.workers(workers);
    }
    let server = match server.bind(("127.0.0.1", port)) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("static_file: cannot listen on 127.0.0.1:{port}: {e}");
            return ExitCode::FAILURE;
        }
    };
    eprintln!("static_file: serving {path} ({len} bytes) on 127.0.0.1:{port}");
    match server.run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("static_file: {e}");
            ExitCode::FAILURE
        }
    }
}
