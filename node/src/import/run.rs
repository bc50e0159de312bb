//! The CLI's half of `flotilla import bulk`: read, validate, then feed the node in batches.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use super::apply::{Batch, BatchReport, Item};
use super::validate::{Plan, validate};
use super::{MAX_BATCH_BYTES, MAX_BATCH_ITEMS};
use crate::admin::{Client, ClientError, ErrorCode, FlotillaView, Request, UserView};

/// Length of the temporary passwords given to imported users.
const TEMP_PASSWORD_CHARS: usize = 16;
/// Plain progress lines (not on a terminal) at most this often.
const PROGRESS_EVERY: Duration = Duration::from_secs(5);

/// `flotilla import bulk …`
#[derive(Debug, Clone, clap::Args)]
pub struct ImportArgs {
    /// The bulk file (`import.jsonl`), or a directory holding it (an unzipped export, with
    /// its attachments under `data/`).
    pub file: PathBuf,
    /// Import every team into this flotilla (id or name) instead of one flotilla per team.
    #[arg(long, value_name = "FLOTILLA")]
    pub flotilla: Option<String>,
    /// Check the file and report every problem with its line number; import nothing.
    #[arg(long)]
    pub validate: bool,
    /// Where attachment paths are found (default: the export's directory).
    #[arg(long, value_name = "DIR")]
    pub attachments: Option<PathBuf>,
}

impl ImportArgs {
    /// The JSONL file and the attachments directory.
    fn paths(&self) -> anyhow::Result<(PathBuf, Option<PathBuf>)> {
        if self.file.is_dir() {
            let dir = std::fs::canonicalize(&self.file).context("the export directory")?;
            let attachments = self.attachments.clone().unwrap_or_else(|| dir.clone());
            return Ok((dir.join("import.jsonl"), Some(attachments)));
        }
        if self.file.extension().is_some_and(|e| e == "zip") {
            bail!(
                "{}: unzip the export first (`unzip export.zip -d export`) and import the directory",
                self.file.display()
            );
        }
        let attachments = match &self.attachments {
            Some(dir) => Some(std::fs::canonicalize(dir).context("--attachments")?),
            None => self.file.parent().map(|p| p.to_path_buf()).and_then(|p| {
                std::fs::canonicalize(if p.as_os_str().is_empty() {
                    Path::new(".")
                } else {
                    &p
                })
                .ok()
            }),
        };
        Ok((self.file.clone(), attachments))
    }
}

/// Reads and validates the file: the plan, or an error listing every problem.
///
/// # Errors
/// The file cannot be read, or has problems (one per line, `line N: …`).
pub fn check(args: &ImportArgs) -> anyhow::Result<Plan> {
    let (file, _) = args.paths()?;
    let text = std::fs::read_to_string(&file).with_context(|| format!("{}", file.display()))?;
    validate(&text).map_err(|problems| {
        let lines: Vec<String> = problems.iter().map(ToString::to_string).collect();
        anyhow::anyhow!(
            "{}: {} problem(s), nothing imported\n{}",
            file.display(),
            problems.len(),
            lines.join("\n")
        )
    })
}

/// `--validate`: the summary of a valid file.
pub fn summary(plan: &Plan) -> String {
    let channels: usize = plan
        .teams
        .iter()
        .map(|t| {
            t.items
                .iter()
                .filter(|i| matches!(i, Item::Channel(_)))
                .count()
        })
        .sum();
    format!(
        "valid: {} team(s), {channels} channel(s), {} user(s), {} post(s) and replies; \
         {} line(s) of other types and {} flag(s) are not imported",
        plan.teams.len(),
        plan.users.len(),
        plan.post_count(),
        plan.ignored_lines,
        plan.ignored_flags
    )
}

/// Imports the file through the node's admin socket; returns the lines to print.
///
/// # Errors
/// A problem in the file (nothing imported), or the first item the node refused (with its
/// line; what came before it is imported, and running the import again resumes).
pub async fn run(client: &mut Client, args: ImportArgs) -> anyhow::Result<Vec<String>> {
    let plan = check(&args)?;
    if args.validate {
        return Ok(vec![summary(&plan)]);
    }
    let (file, attachments) = args.paths()?;
    let created = create_users(client, &plan).await?;
    let mut lines = Vec::new();
    if !created.is_empty() {
        let path = write_passwords(&file, &created)?;
        lines.push(format!(
            "{} account(s) created; their temporary passwords are in {} (mode 0600): reset them",
            created.len(),
            path.display()
        ));
    }
    let mut progress = Progress::new(plan.post_count());
    let mut total = BatchReport::default();
    let mut first_flotilla = args.flotilla.clone();
    for team in &plan.teams {
        let flotilla = match &args.flotilla {
            Some(f) => f.clone(),
            None => flotilla_for(client, &team.display_name).await?,
        };
        first_flotilla.get_or_insert_with(|| flotilla.clone());
        send(
            client,
            &flotilla,
            &team.items,
            &attachments,
            &mut progress,
            &mut total,
        )
        .await?;
    }
    if !plan.direct.is_empty() {
        let flotilla = match first_flotilla {
            Some(f) => f,
            None => only_flotilla(client).await?,
        };
        send(
            client,
            &flotilla,
            &plan.direct,
            &attachments,
            &mut progress,
            &mut total,
        )
        .await?;
    }
    progress.done();
    lines.push(format!(
        "imported: {} user(s), {} channel(s), {} post(s) and replies ({} already there), \
         {} reaction(s), {} pin(s), {} file(s), {} channel(s) archived",
        created.len(),
        total.channels,
        total.posts,
        total.skipped,
        total.reactions,
        total.pins,
        total.files,
        total.archived
    ));
    Ok(lines)
}

async fn create_users(client: &mut Client, plan: &Plan) -> anyhow::Result<Vec<(String, String)>> {
    let mut created = Vec::new();
    for user in &plan.users {
        let password = temp_password()?;
        let req = Request::UserCreate {
            username: user.username.clone(),
            password: password.clone(),
            admin: user.admin,
        };
        match client.call::<UserView>(&req).await {
            Ok(_) => created.push((user.username.clone(), password)),
            Err(ClientError::Remote {
                code: ErrorCode::Exists,
                ..
            }) => {}
            Err(e) => bail!("line {}: user `{}`: {e}", user.line, user.username),
        }
    }
    Ok(created)
}

fn temp_password() -> anyhow::Result<String> {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut bytes = [0u8; TEMP_PASSWORD_CHARS];
    getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("random: {e}"))?;
    Ok(bytes
        .iter()
        .map(|b| char::from(ALPHABET[usize::from(*b) % ALPHABET.len()]))
        .collect())
}

/// Appends `username password` lines to `FILE.passwords`, created with mode 0600.
fn write_passwords(file: &Path, created: &[(String, String)]) -> anyhow::Result<PathBuf> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut path = file.as_os_str().to_owned();
    path.push(".passwords");
    let path = PathBuf::from(path);
    let mut out = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(&path)
        .with_context(|| format!("{}", path.display()))?;
    for (user, password) in created {
        writeln!(out, "{user} {password}").context("passwords file")?;
    }
    Ok(path)
}

/// The flotilla named `name`, founded if this node has none by that name.
async fn flotilla_for(client: &mut Client, name: &str) -> anyhow::Result<String> {
    let list: Vec<FlotillaView> = client.call(&Request::FlotillaList {}).await?;
    if let Some(f) = list.iter().find(|f| f.member && f.name == name) {
        return Ok(f.id.clone());
    }
    let req = Request::FlotillaCreate {
        name: name.to_owned(),
    };
    let f: FlotillaView = client.call(&req).await.context("founding the flotilla")?;
    Ok(f.id)
}

async fn only_flotilla(client: &mut Client) -> anyhow::Result<String> {
    let list: Vec<FlotillaView> = client.call(&Request::FlotillaList {}).await?;
    match list.iter().filter(|f| f.member).collect::<Vec<_>>()[..] {
        [f] => Ok(f.id.clone()),
        _ => bail!("DMs need a flotilla: give --flotilla"),
    }
}

/// Sends `items` in batches bounded by count and size.
async fn send(
    client: &mut Client,
    flotilla: &str,
    items: &[Item],
    attachments: &Option<PathBuf>,
    progress: &mut Progress,
    total: &mut BatchReport,
) -> anyhow::Result<()> {
    let mut batch: Vec<Item> = Vec::new();
    let mut bytes = 0;
    for item in items {
        let size = serde_json::to_vec(item).map(|v| v.len()).unwrap_or(0);
        if !batch.is_empty() && (batch.len() == MAX_BATCH_ITEMS || bytes + size > MAX_BATCH_BYTES) {
            flush(client, flotilla, &mut batch, attachments, progress, total).await?;
            bytes = 0;
        }
        bytes += size;
        batch.push(item.clone());
    }
    flush(client, flotilla, &mut batch, attachments, progress, total).await
}

async fn flush(
    client: &mut Client,
    flotilla: &str,
    batch: &mut Vec<Item>,
    attachments: &Option<PathBuf>,
    progress: &mut Progress,
    total: &mut BatchReport,
) -> anyhow::Result<()> {
    if batch.is_empty() {
        return Ok(());
    }
    let req = Request::ImportBatch {
        flotilla: Some(flotilla.to_owned()),
        batch: Batch {
            attachments: attachments.clone(),
            items: std::mem::take(batch),
        },
    };
    let r: BatchReport = client.call(&req).await?;
    progress.advance(r.posts + r.skipped);
    total.channels += r.channels;
    total.posts += r.posts;
    total.skipped += r.skipped;
    total.reactions += r.reactions;
    total.pins += r.pins;
    total.files += r.files;
    total.archived += r.archived;
    Ok(())
}

/// Count and rate on stderr: one rewritten line on a terminal, plain lines otherwise.
struct Progress {
    total: u64,
    done: u64,
    start: Instant,
    last_line: Instant,
    tty: bool,
}

impl Progress {
    fn new(total: usize) -> Self {
        let now = Instant::now();
        Progress {
            total: total as u64,
            done: 0,
            start: now,
            last_line: now,
            tty: std::io::stderr().is_terminal(),
        }
    }

    fn line(&self) -> String {
        let secs = self.start.elapsed().as_secs_f64().max(0.001);
        let rate = self.done as f64 / secs;
        format!(
            "import: {}/{} posts, {rate:.0} posts/s, {secs:.1} s",
            self.done, self.total
        )
    }

    fn advance(&mut self, n: u64) {
        self.done += n;
        let mut err = std::io::stderr().lock();
        if self.tty {
            let _ = write!(err, "\r{}", self.line());
        } else if self.last_line.elapsed() >= PROGRESS_EVERY {
            self.last_line = Instant::now();
            let _ = writeln!(err, "{}", self.line());
        }
    }

    fn done(&self) {
        let mut err = std::io::stderr().lock();
        let end = if self.tty { "\r" } else { "" };
        let _ = writeln!(err, "{end}{}", self.line());
    }
}
