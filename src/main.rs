use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    colloquy::cli::run(colloquy::cli::Cli::parse())
}
