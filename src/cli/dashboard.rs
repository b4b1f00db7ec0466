//! `payops` with no command: the engine and the terminal UI, wired together.

use super::{Cli, Failure, Output};
use crate::config::Env;

pub async fn run(cli: &Cli, env: &Env) -> Result<Option<Output>, Failure> {
    let _ = (cli, env);
    Err(Failure::usage("the dashboard is not wired yet"))
}
