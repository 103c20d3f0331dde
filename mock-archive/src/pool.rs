//! The bounded CPU pool: where the pipeline's CPU stages (reading the message, the signature,
//! the rules: [`kanta_profile::validate::check`]) and the validation service run.
//!
//! Each job runs on one of tokio's blocking threads, never on an async worker, so handshakes,
//! `/health` and other clients are served while a large or hostile message is judged; and at
//! most one job per permit runs at once (one permit per core), so CPU work queues instead of
//! multiplying threads. A waiting job holds no thread at all: it waits for its permit as an
//! async task.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::sync::Semaphore;

/// A bounded pool for CPU-heavy work: `spawn_blocking` behind a semaphore.
#[derive(Debug, Clone)]
pub(crate) struct CpuPool {
    permits: Arc<Semaphore>,
    /// How many jobs may run at once (read by the tests).
    #[cfg_attr(not(test), allow(dead_code))]
    size: usize,
    /// Jobs waiting for a permit.
    waiting: Arc<AtomicUsize>,
}

/// Counts a job as waiting until dropped (also when its caller gives up waiting).
struct Waiting<'a>(&'a AtomicUsize);

impl<'a> Waiting<'a> {
    fn new(count: &'a AtomicUsize) -> Self {
        count.fetch_add(1, Ordering::SeqCst);
        Self(count)
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl CpuPool {
    /// A pool running at most `size` jobs at once (at least 1).
    pub(crate) fn new(size: usize) -> Self {
        let size = size.max(1);
        Self {
            permits: Arc::new(Semaphore::new(size)),
            size,
            waiting: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// A pool with one job per available core.
    pub(crate) fn per_core() -> Self {
        Self::new(std::thread::available_parallelism().map_or(1, |n| n.get()))
    }

    /// How many jobs may run at once.
    #[cfg(test)]
    pub(crate) fn size(&self) -> usize {
        self.size
    }

    /// How many more jobs could start now.
    #[cfg(test)]
    pub(crate) fn available(&self) -> usize {
        self.permits.available_permits()
    }

    /// How many jobs are waiting for a place.
    #[cfg(test)]
    pub(crate) fn waiting(&self) -> usize {
        self.waiting.load(Ordering::SeqCst)
    }

    /// Runs `job` on the pool and waits for its result. The permit travels with the job, so a
    /// caller that stops waiting (a client that hung up) does not free a place while the job
    /// still runs. A panic in the job is resumed in the caller, as if it had run inline.
    pub(crate) async fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce() -> T + Send + 'static,
    ) -> T {
        let waiting = Waiting::new(&self.waiting);
        let permit = Arc::clone(&self.permits)
            .acquire_owned()
            .await
            .expect("the pool's semaphore is never closed");
        drop(waiting);
        let handle = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            job()
        });
        match handle.await {
            Ok(value) => value,
            Err(err) => match err.try_into_panic() {
                Ok(panic) => std::panic::resume_unwind(panic),
                // Only a runtime shutting down cancels a blocking task.
                Err(err) => panic!("a CPU pool job was cancelled: {err}"),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc;

    use super::*;

    /// Waits (yielding, no deadline) until `condition` holds.
    pub(crate) async fn until(condition: impl Fn() -> bool) {
        while !condition() {
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        }
    }

    /// With one async worker, a job blocked on the pool leaves that worker free: another task
    /// runs to completion while the job is still blocked, and the job finishes after it.
    #[tokio::test(flavor = "current_thread")]
    async fn a_blocked_job_leaves_the_async_worker_free() {
        let pool = CpuPool::new(1);
        let (release, gate) = mpsc::channel::<()>();
        let (started_tx, started) = tokio::sync::oneshot::channel();
        let job = tokio::spawn({
            let pool = pool.clone();
            async move {
                pool.run(move || {
                    started_tx.send(()).unwrap();
                    gate.recv().unwrap();
                    "job done"
                })
                .await
            }
        });
        started.await.unwrap();
        // The job holds the pool's one permit and blocks its thread; this task still runs.
        let other = tokio::spawn(async { "other done" }).await.unwrap();
        assert_eq!(other, "other done");
        assert_eq!(pool.available(), 0);
        assert!(!job.is_finished());
        release.send(()).unwrap();
        assert_eq!(job.await.unwrap(), "job done");
        assert_eq!(pool.available(), 1);
    }

    /// At most `size` jobs run at once: with two permits held by blocked jobs, a third waits
    /// (without a thread) until one of them is released, and then runs.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn at_most_size_jobs_run_at_once() {
        let pool = CpuPool::new(2);
        assert_eq!(pool.size(), 2);
        let (started_tx, mut started) = tokio::sync::mpsc::unbounded_channel::<usize>();
        let mut releases = Vec::new();
        let mut jobs = Vec::new();
        for i in 0..3 {
            let (release, gate) = mpsc::channel::<()>();
            releases.push(release);
            let started_tx = started_tx.clone();
            let pool = pool.clone();
            jobs.push(tokio::spawn(async move {
                pool.run(move || {
                    started_tx.send(i).unwrap();
                    gate.recv().unwrap();
                    i
                })
                .await
            }));
        }
        let mut first_two = [started.recv().await.unwrap(), started.recv().await.unwrap()];
        first_two.sort_unstable();
        assert_eq!(pool.available(), 0);
        until(|| pool.waiting() == 1).await;
        // The third has not started: nothing more is in the channel until a permit frees.
        assert!(started.try_recv().is_err());
        let waiting = (0..3).find(|i| !first_two.contains(i)).unwrap();
        assert!(!jobs[waiting].is_finished());
        releases[first_two[0]].send(()).unwrap();
        assert_eq!(started.recv().await.unwrap(), waiting);
        for release in &releases {
            let _ = release.send(());
        }
        let mut done = Vec::new();
        for job in jobs {
            done.push(job.await.unwrap());
        }
        assert_eq!(done, [0, 1, 2]);
        assert_eq!(pool.available(), 2);
    }

    #[tokio::test]
    async fn a_panicking_job_panics_in_the_caller_and_frees_its_permit() {
        let pool = CpuPool::new(1);
        let caller = tokio::spawn({
            let pool = pool.clone();
            async move { pool.run(|| panic!("inside the job")).await }
        });
        let err = caller.await.unwrap_err();
        let panic = err.into_panic();
        assert_eq!(panic.downcast_ref::<&str>(), Some(&"inside the job"));
        assert_eq!(pool.available(), 1);
        assert_eq!(pool.run(|| 7).await, 7);
    }
}

/// The pool in the running archive: `/health` is answered while costly requests wait for it.
#[cfg(test)]
mod over_https {
    use std::net::SocketAddr;
    use std::sync::{Arc, mpsc};

    use base64::Engine as _;
    use http_body_util::{BodyExt as _, Empty, Full};
    use hyper_util::rt::TokioIo;
    use rustls_pki_types::pem::PemObject as _;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName};

    use super::tests::until;
    use crate::signature::{self, Signer};
    use crate::testpki::Role;
    use crate::{MockArchive, TestPki};

    type Sender = hyper::client::conn::http1::SendRequest<
        http_body_util::combinators::BoxBody<bytes::Bytes, std::convert::Infallible>,
    >;

    /// One mutual-TLS HTTP/1.1 connection as the provider's client system.
    async fn connect(pki: &TestPki, addr: SocketAddr) -> Sender {
        let mut roots = rustls::RootCertStore::empty();
        roots
            .add(CertificateDer::from_pem_slice(pki.cert_pem(Role::Ca).as_bytes()).unwrap())
            .unwrap();
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_client_auth_cert(
                vec![
                    CertificateDer::from_pem_slice(pki.cert_pem(Role::Client).as_bytes()).unwrap(),
                ],
                PrivateKeyDer::from_pem_slice(pki.key_pem(Role::Client).as_bytes()).unwrap(),
            )
            .unwrap();
        let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
        let tls = tokio_rustls::TlsConnector::from(Arc::new(config))
            .connect(ServerName::try_from("localhost").unwrap(), tcp)
            .await
            .unwrap();
        let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
            .await
            .unwrap();
        tokio::spawn(connection);
        sender
    }

    /// A signed client-relationship message (the vendor example's, SOAP 1.2).
    fn signed_message(pki: &TestPki) -> Vec<u8> {
        let signer = Signer::from_pem(
            pki.cert_pem(Role::Signature).as_bytes(),
            pki.key_pem(Role::Signature).as_bytes(),
        )
        .unwrap();
        let cda = signature::sign(
            include_bytes!("../examples/vendor_test/cda.xml"),
            &signer,
            time::OffsetDateTime::now_utc(),
        )
        .unwrap();
        let boundary = "----=_Part_pool_test";
        let encoded = base64::engine::general_purpose::STANDARD.encode(&cda);
        let mime = format!(
            "MIME-Version: 1.0\nContent-Type: multipart/related; boundary=\"{boundary}\"\n\n\
             --{boundary}\nContent-Type: text/xml; charset=UTF-8\nContent-Transfer-Encoding: base64\n\
             Content-ID: <2.999.5851.9.1.2001>\n\n{encoded}\n--{boundary}--\n"
        );
        include_str!("../examples/vendor_test/message.xml")
            .replace("{MIME}", &quick_xml::escape::escape(&mime))
            .into_bytes()
    }

    async fn send(
        sender: &mut Sender,
        request: hyper::Request<
            http_body_util::combinators::BoxBody<bytes::Bytes, std::convert::Infallible>,
        >,
    ) -> (u16, String) {
        let response = sender.send_request(request).await.unwrap();
        let status = response.status().as_u16();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        (status, String::from_utf8(body.to_vec()).unwrap())
    }

    /// Every place in the pool is taken by a blocked job (standing for long verifications),
    /// four signed messages wait for a place, and `/health` is answered meanwhile; once the
    /// places free, every message is judged and acknowledged.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn health_is_answered_while_costly_requests_wait_for_the_pool() {
        let pki = TestPki::generate().unwrap();
        let archive = MockArchive::builder().test_pki(&pki).start().await.unwrap();
        let pool = archive.cpu_pool().clone();
        let mut releases = Vec::new();
        let mut blockers = Vec::new();
        for _ in 0..pool.size() {
            let (release, gate) = mpsc::channel::<()>();
            releases.push(release);
            let pool = pool.clone();
            blockers.push(tokio::spawn(async move {
                pool.run(move || gate.recv().unwrap()).await
            }));
        }
        until(|| pool.available() == 0).await;

        let message = signed_message(&pki);
        let mut posts = Vec::new();
        for _ in 0..4 {
            let mut sender = connect(&pki, archive.addr()).await;
            let request = hyper::Request::post("/archive")
                .header(hyper::header::HOST, "localhost")
                .header(
                    hyper::header::CONTENT_TYPE,
                    "application/soap+xml; charset=utf-8",
                )
                .body(
                    Full::new(bytes::Bytes::from(message.clone()))
                        .map_err(|e| match e {})
                        .boxed(),
                )
                .unwrap();
            posts.push(tokio::spawn(
                async move { send(&mut sender, request).await },
            ));
        }
        // All four are in the archive, waiting for a place in the pool.
        until(|| pool.waiting() == 4).await;

        let mut health = connect(&pki, archive.addr()).await;
        let request = hyper::Request::get("/health")
            .header(hyper::header::HOST, "localhost")
            .body(Empty::new().map_err(|e| match e {}).boxed())
            .unwrap();
        let (status, body) = send(&mut health, request).await;
        assert_eq!(status, 200, "{body}");
        assert!(body.contains("\"status\":\"ok\""), "{body}");
        // Answered while the pool is still full and every message still waits.
        assert_eq!((pool.available(), pool.waiting()), (0, 4));
        assert!(posts.iter().all(|p| !p.is_finished()));

        for release in releases {
            release.send(()).unwrap();
        }
        for blocker in blockers {
            blocker.await.unwrap();
        }
        for post in posts {
            let (status, body) = post.await.unwrap();
            assert_eq!(status, 200, "{body}");
            assert!(body.contains("typeCode=\"AA\""), "{body}");
        }
        assert_eq!(pool.waiting(), 0);
        archive.shutdown().await;
    }
}
