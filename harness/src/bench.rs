//! Benchmarks of the archive as a process, always side by side with a bare baseline (the same
//! TLS and HTTP stack answering a fixed body, `mock-archive serve --bare-baseline`), so that
//! the figures are ratios measured in one run on the same machine.
//!
//! Measured: start-up (spawn to first answered `/health` over mTLS), keep-alive request
//! throughput with latency percentiles, full-handshake throughput, and the server's CPU time
//! per request (from `/proc/<pid>/stat`).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::client::{ClientError, Identity, Target, TlsClient};

/// What to measure.
#[derive(Debug, Clone)]
pub struct BenchConfig {
    /// The `mock-archive` program.
    pub archive_bin: PathBuf,
    /// The test PKI directory.
    pub pki_dir: PathBuf,
    /// Concurrent connections for the throughput runs.
    pub connections: usize,
    /// How long each throughput run lasts.
    pub duration: Duration,
    /// How many start-ups to time per server.
    pub startups: usize,
    /// Alternating throughput rounds per server.
    pub rounds: usize,
}

/// Figures for one server.
#[derive(Debug, Clone, Serialize)]
pub struct ServerFigures {
    /// Which server.
    pub server: &'static str,
    /// Median spawn-to-first-answer time, ms.
    pub startup_median_ms: f64,
    /// Keep-alive `/health` requests per second.
    pub requests_per_s: f64,
    /// Median latency, ms.
    pub p50_ms: f64,
    /// 99th percentile latency, ms.
    pub p99_ms: f64,
    /// Server CPU per keep-alive request, µs.
    pub server_cpu_us_per_request: Option<f64>,
    /// Full handshakes (new connection + one request) per second.
    pub handshakes_per_s: f64,
}

/// Both servers and their ratios.
#[derive(Debug, Clone, Serialize)]
pub struct BenchReport {
    /// Concurrent connections used.
    pub connections: usize,
    /// Seconds per throughput run.
    pub seconds: f64,
    /// Alternating rounds per server (medians are reported).
    pub rounds: usize,
    /// The bare baseline.
    pub baseline: ServerFigures,
    /// The archive.
    pub archive: ServerFigures,
    /// archive / baseline request rate.
    pub request_rate_ratio: f64,
    /// archive / baseline handshake rate.
    pub handshake_rate_ratio: f64,
    /// archive − baseline start-up, ms.
    pub startup_difference_ms: f64,
}

struct Server {
    child: Child,
    target: Target,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn spawn(config: &BenchConfig, bare: bool) -> anyhow::Result<Server> {
    spawn_with(config, bare, &[])
}

fn spawn_with(
    config: &BenchConfig,
    bare: bool,
    extra: &[&std::ffi::OsStr],
) -> anyhow::Result<Server> {
    use std::io::BufRead as _;
    let mut cmd = Command::new(&config.archive_bin);
    cmd.args(["serve", "--listen", "127.0.0.1:0", "--pki"])
        .arg(&config.pki_dir)
        .env("MOCK_ARCHIVE_LOG", "error")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    if bare {
        cmd.arg("--bare-baseline");
    }
    cmd.args(extra);
    let mut child = cmd.spawn().map_err(|e| {
        anyhow::anyhow!(
            "cannot run {}: {e} (build it with `cargo build --release -p mock-archive`)",
            config.archive_bin.display()
        )
    })?;
    let stdout = child
        .stdout
        .take()
        .ok_or_else(|| anyhow::anyhow!("no stdout"))?;
    let mut line = String::new();
    std::io::BufReader::new(stdout).read_line(&mut line)?;
    let v: serde_json::Value = serde_json::from_str(&line).map_err(|e| {
        anyhow::anyhow!("archive printed {line:?} instead of its listening line: {e}")
    })?;
    let url = v["url"]
        .as_str()
        .ok_or_else(|| anyhow::anyhow!("no url in {line:?}"))?;
    Ok(Server {
        child,
        target: Target::parse(url)?,
    })
}

fn tls(config: &BenchConfig) -> Result<TlsClient, ClientError> {
    TlsClient::new(
        &config.pki_dir.join("ca.pem"),
        Some(&Identity {
            cert: config.pki_dir.join("client.pem"),
            key: config.pki_dir.join("client.key.pem"),
        }),
    )
}

/// Spawn to first answered `/health`: the process must bind, print its line, and serve one
/// full mTLS request.
async fn startup_ms(config: &BenchConfig, client: &TlsClient, bare: bool) -> anyhow::Result<f64> {
    let start = Instant::now();
    let server = spawn(config, bare)?;
    let mut conn = client.connect(&server.target).await?;
    let reply = conn.get("/health").await?;
    anyhow::ensure!(reply.status == 200, "health answered {}", reply.status);
    Ok(start.elapsed().as_secs_f64() * 1000.0)
}

fn cpu_ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may hold spaces) start at ") ".
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}

/// Clock ticks per second for `/proc` times (USER_HZ); 100 on Linux.
const TICKS_PER_SECOND: f64 = 100.0;

async fn keep_alive(
    client: &TlsClient,
    target: &Target,
    connections: usize,
    duration: Duration,
) -> anyhow::Result<(u64, Vec<Duration>)> {
    let deadline = Instant::now() + duration;
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let client = client.clone();
        let target = target.clone();
        tasks.push(tokio::spawn(async move {
            let mut conn = client.connect(&target).await?;
            let mut lat = Vec::new();
            while Instant::now() < deadline {
                let t = Instant::now();
                let reply = conn.get("/health").await?;
                if reply.status != 200 {
                    anyhow::bail!("health answered {}", reply.status);
                }
                lat.push(t.elapsed());
            }
            Ok::<_, anyhow::Error>(lat)
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await??);
    }
    Ok((all.len() as u64, all))
}

async fn handshakes(
    client: &TlsClient,
    target: &Target,
    connections: usize,
    duration: Duration,
) -> anyhow::Result<u64> {
    let deadline = Instant::now() + duration;
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let client = client.clone();
        let target = target.clone();
        tasks.push(tokio::spawn(async move {
            let mut n = 0u64;
            while Instant::now() < deadline {
                let mut conn = client.connect(&target).await?;
                conn.get("/health").await?;
                n += 1;
            }
            Ok::<_, anyhow::Error>(n)
        }));
    }
    let mut total = 0;
    for t in tasks {
        total += t.await??;
    }
    Ok(total)
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

/// Throughput figures of one round on one server.
struct Round {
    requests_per_s: f64,
    latencies: Vec<Duration>,
    cpu_us_per_request: Option<f64>,
    handshakes_per_s: f64,
}

async fn round(config: &BenchConfig, client: &TlsClient, server: &Server) -> anyhow::Result<Round> {
    let pid = server.child.id();
    let before = cpu_ticks(pid);
    let t = Instant::now();
    let (n, latencies) =
        keep_alive(client, &server.target, config.connections, config.duration).await?;
    let elapsed = t.elapsed().as_secs_f64();
    let after = cpu_ticks(pid);
    let cpu_us_per_request = before
        .zip(after)
        .map(|(b, a)| (a - b) as f64 / TICKS_PER_SECOND * 1e6 / n.max(1) as f64);
    let t = Instant::now();
    let hs = handshakes(client, &server.target, config.connections, config.duration).await?;
    Ok(Round {
        requests_per_s: n as f64 / elapsed,
        latencies,
        cpu_us_per_request,
        handshakes_per_s: hs as f64 / t.elapsed().as_secs_f64(),
    })
}

fn figures(server: &'static str, startups: Vec<f64>, rounds: Vec<Round>) -> ServerFigures {
    let mut lat: Vec<Duration> = rounds
        .iter()
        .flat_map(|r| r.latencies.iter().copied())
        .collect();
    lat.sort();
    let cpu: Vec<f64> = rounds.iter().filter_map(|r| r.cpu_us_per_request).collect();
    ServerFigures {
        server,
        startup_median_ms: median(startups),
        requests_per_s: median(rounds.iter().map(|r| r.requests_per_s).collect()),
        p50_ms: percentile(&lat, 0.50),
        p99_ms: percentile(&lat, 0.99),
        server_cpu_us_per_request: (!cpu.is_empty()).then(|| median(cpu)),
        handshakes_per_s: median(rounds.iter().map(|r| r.handshakes_per_s).collect()),
    }
}

/// Runs the benchmark. The two servers run side by side and are measured in alternating
/// rounds (baseline, archive, baseline, ...), and medians are reported, so that noise from
/// other work on the machine hits both alike.
pub async fn run(config: &BenchConfig) -> anyhow::Result<BenchReport> {
    let client = tls(config)?;
    let (mut base_startups, mut arch_startups) = (Vec::new(), Vec::new());
    for _ in 0..config.startups {
        base_startups.push(startup_ms(config, &client, true).await?);
        arch_startups.push(startup_ms(config, &client, false).await?);
    }
    let base = spawn(config, true)?;
    let arch = spawn(config, false)?;
    for server in [&base, &arch] {
        // Warm up: one connection, a few requests.
        keep_alive(&client, &server.target, 1, Duration::from_millis(200)).await?;
    }
    let (mut base_rounds, mut arch_rounds) = (Vec::new(), Vec::new());
    for _ in 0..config.rounds {
        base_rounds.push(round(config, &client, &base).await?);
        arch_rounds.push(round(config, &client, &arch).await?);
    }
    let baseline = figures("bare baseline", base_startups, base_rounds);
    let archive = figures("mock-archive", arch_startups, arch_rounds);
    Ok(BenchReport {
        connections: config.connections,
        seconds: config.duration.as_secs_f64(),
        rounds: config.rounds,
        request_rate_ratio: archive.requests_per_s / baseline.requests_per_s,
        handshake_rate_ratio: archive.handshakes_per_s / baseline.handshakes_per_s,
        startup_difference_ms: archive.startup_median_ms - baseline.startup_median_ms,
        baseline,
        archive,
    })
}

impl BenchReport {
    /// A table for people.
    pub fn render(&self) -> String {
        let mut s = format!(
            "{} connections, {} alternating rounds of {:.1} s per server (medians)\n{:<15} {:>11} {:>10} {:>8} {:>8} {:>12} {:>13}\n",
            self.connections,
            self.rounds,
            self.seconds,
            "server",
            "start-up ms",
            "req/s",
            "p50 ms",
            "p99 ms",
            "CPU µs/req",
            "handshakes/s"
        );
        for f in [&self.baseline, &self.archive] {
            s += &format!(
                "{:<15} {:>11.1} {:>10.0} {:>8.2} {:>8.2} {:>12} {:>13.0}\n",
                f.server,
                f.startup_median_ms,
                f.requests_per_s,
                f.p50_ms,
                f.p99_ms,
                f.server_cpu_us_per_request
                    .map_or("n/a".into(), |c| format!("{c:.1}")),
                f.handshakes_per_s
            );
        }
        s += &format!(
            "archive/baseline: requests {:.2}, handshakes {:.2}, start-up {:+.1} ms\n",
            self.request_rate_ratio, self.handshake_rate_ratio, self.startup_difference_ms
        );
        s
    }
}

/// The `mock-archive` program next to the running `kantakoe`, if there is one.
pub fn sibling_archive_bin() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let dir: &Path = exe.parent()?;
    let bin = dir.join("mock-archive");
    bin.exists().then_some(bin)
}

/// Figures of the document benchmark for one server and one concurrency.
#[derive(Debug, Clone, Serialize)]
pub struct StoreFigures {
    /// Which server.
    pub server: &'static str,
    /// Concurrent keep-alive connections.
    pub connections: usize,
    /// Documents posted.
    pub documents: usize,
    /// Documents answered per second.
    pub per_s: f64,
    /// Median latency, ms.
    pub p50_ms: f64,
    /// 99th percentile latency, ms.
    pub p99_ms: f64,
    /// Server CPU per document, µs.
    pub server_cpu_us_per_document: Option<f64>,
}

/// A self-paying client's document for the bundled fixture, number `n` (unique ids).
pub fn document_values(n: u32) -> crate::compose::MessageValues {
    crate::compose::MessageValues {
        // About 20 KB of signed CDA, like a real client relationship document.
        narrative: "Asiakkuus alkanut. Palvelutarpeen arviointi tehty yhdessä asiakkaan kanssa.\n"
            .repeat(180),
        ..crate::compose::scenario_self_paying(
            format!("2.999.5851.9.7.{n}"),
            format!("2.999.5851.9.8.{n}"),
        )
    }
}

/// Posts `messages` over `connections` keep-alive connections; every answer must be `AA`
/// (or, for the baseline, 200).
async fn post_all(
    client: &TlsClient,
    server: &Server,
    connections: usize,
    messages: std::sync::Arc<Vec<Vec<u8>>>,
    expect_aa: bool,
) -> anyhow::Result<(f64, Vec<Duration>, Option<f64>)> {
    let pid = server.child.id();
    let before = cpu_ticks(pid);
    let start = Instant::now();
    let mut tasks = Vec::new();
    for worker in 0..connections {
        let (client, target, messages) = (client.clone(), server.target.clone(), messages.clone());
        tasks.push(tokio::spawn(async move {
            let mut conn = client.connect(&target).await?;
            let mut lat = Vec::new();
            for m in messages.iter().skip(worker).step_by(connections) {
                let t = Instant::now();
                let reply = conn.post("/archive", "application/xml", m.clone()).await?;
                lat.push(t.elapsed());
                let ok = reply.status == 200
                    && (!expect_aa
                        || String::from_utf8_lossy(&reply.body)
                            .contains("<acknowledgement typeCode=\"AA\""));
                anyhow::ensure!(
                    ok,
                    "the archive did not accept a benchmark document: {}",
                    String::from_utf8_lossy(&reply.body)
                );
            }
            Ok::<_, anyhow::Error>(lat)
        }));
    }
    let mut lat = Vec::new();
    for t in tasks {
        lat.extend(t.await??);
    }
    let elapsed = start.elapsed().as_secs_f64();
    let cpu = before
        .zip(cpu_ticks(pid))
        .map(|(b, a)| (a - b) as f64 / TICKS_PER_SECOND * 1e6 / messages.len().max(1) as f64);
    lat.sort();
    Ok((messages.len() as f64 / elapsed, lat, cpu))
}

/// The document benchmark: signed ~20 KB documents stored durably (a SQLite file in WAL
/// mode), against the bare baseline answering the same posts with a fixed body, with 1 and
/// `config.connections` connections. Messages are built and signed before timing starts.
pub async fn run_documents(
    config: &BenchConfig,
    per_run: usize,
) -> anyhow::Result<Vec<StoreFigures>> {
    let client = tls(config)?;
    let signer = crate::signing::SystemSigner::from_files(
        &config.pki_dir.join("signature.pem"),
        &config.pki_dir.join("signature.key.pem"),
        time::OffsetDateTime::now_utc(),
    )?;
    let template = crate::compose::DocumentTemplate::client_relationship();
    let db_dir = tempfile::tempdir()?;
    let db = db_dir.path().join("bench.db");
    let archive = spawn_with(
        config,
        false,
        &[std::ffi::OsStr::new("--db"), db.as_os_str()],
    )?;
    let baseline = spawn(config, true)?;
    let mut next = 0u32;
    let mut out = Vec::new();
    for connections in [1, config.connections] {
        let count = if connections == 1 {
            per_run / 4
        } else {
            per_run
        }
        .max(connections);
        for (server, name, expect_aa) in [
            (&baseline, "bare baseline", false),
            (&archive, "mock-archive", true),
        ] {
            let messages: Vec<Vec<u8>> = (0..count)
                .map(|_| {
                    next += 1;
                    crate::compose::build_message(
                        &template,
                        &document_values(next),
                        kanta_profile::format::Wrapping::Bare,
                        Some(&signer),
                    )
                    .map(|b| b.message)
                })
                .collect::<anyhow::Result<_>>()?;
            let (per_s, lat, cpu) = post_all(
                &client,
                server,
                connections,
                std::sync::Arc::new(messages),
                expect_aa,
            )
            .await?;
            out.push(StoreFigures {
                server: name,
                connections,
                documents: count,
                per_s,
                p50_ms: percentile(&lat, 0.50),
                p99_ms: percentile(&lat, 0.99),
                server_cpu_us_per_document: cpu,
            });
        }
    }
    Ok(out)
}

/// A table of document-benchmark figures.
pub fn render_documents(figures: &[StoreFigures]) -> String {
    let mut s = format!(
        "{:<15} {:>5} {:>9} {:>10} {:>8} {:>8} {:>12}\n",
        "server", "conns", "documents", "docs/s", "p50 ms", "p99 ms", "CPU µs/doc"
    );
    for f in figures {
        s += &format!(
            "{:<15} {:>5} {:>9} {:>10.0} {:>8.2} {:>8.2} {:>12}\n",
            f.server,
            f.connections,
            f.documents,
            f.per_s,
            f.p50_ms,
            f.p99_ms,
            f.server_cpu_us_per_document
                .map_or("n/a".into(), |c| format!("{c:.0}"))
        );
    }
    for pair in figures.chunks(2) {
        if let [base, arch] = pair {
            s += &format!(
                "{} connection(s): archive/baseline documents per second {:.2}\n",
                arch.connections,
                arch.per_s / base.per_s
            );
        }
    }
    s
}
