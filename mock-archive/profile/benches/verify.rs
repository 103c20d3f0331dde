//! System-signature verifications per second on one core, on a ~20 KB CDA (structuredBody),
//! for RSA 2048, RSA 4096 (what DVV issues) and EC P-256 signers: the median of several runs.
//!
//! Rates are per second of this thread's CPU time (from `/proc/thread-self/schedstat`), so
//! they mean "per core" even on a machine shared with other work; wall-clock rates are printed
//! beside them.
//!
//! Run: `cargo bench -p mock-archive --bench verify`

use std::time::{Duration, Instant};

use kanta_profile::signature::{self, Signer, VerifyOptions};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose,
    RsaKeySize, SignatureAlgorithm,
};
use time::macros::datetime;

const ORG: &str = "1.2.246.10.99999901.10.0";
const RUNS: usize = 7;
const RUN_TIME: Duration = Duration::from_millis(700);

/// This thread's CPU time so far, in seconds (Linux); `None` elsewhere.
fn thread_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: f64 = stat.split_whitespace().next()?.parse().ok()?;
    Some(ns / 1e9)
}

fn key(alg: &'static SignatureAlgorithm, rsa4096: bool) -> KeyPair {
    if rsa4096 {
        KeyPair::generate_rsa_for(alg, RsaKeySize::_4096).expect("RSA 4096 key")
    } else {
        KeyPair::generate_for(alg).expect("key")
    }
}

/// A signer and its CA certificate (DER).
fn pki(alg: &'static SignatureAlgorithm, rsa4096: bool) -> (Signer, Vec<u8>) {
    let ca_key = key(alg, rsa4096);
    let mut ca = CertificateParams::new(Vec::<String>::new()).expect("params");
    ca.distinguished_name.push(DnType::CommonName, "Bench CA");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.not_before = datetime!(2024-01-01 00:00:00 UTC);
    ca.not_after = datetime!(2040-01-01 00:00:00 UTC);
    let ca_cert = ca.self_signed(&ca_key).expect("CA");
    let issuer = Issuer::new(ca, ca_key);
    let key = key(alg, rsa4096);
    let mut params = CertificateParams::new(Vec::<String>::new()).expect("params");
    params
        .distinguished_name
        .push(DnType::CustomDnType(vec![2, 5, 4, 5]), ORG);
    params
        .distinguished_name
        .push(DnType::CommonName, "Bench signer");
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.not_before = datetime!(2025-01-01 00:00:00 UTC);
    params.not_after = datetime!(2035-01-01 00:00:00 UTC);
    let cert = params.signed_by(&key, &issuer).expect("cert");
    let signer =
        Signer::from_pem(cert.pem().as_bytes(), key.serialize_pem().as_bytes()).expect("signer");
    (signer, ca_cert.der().to_vec())
}

/// A CDA of about 20 KB.
fn cda() -> String {
    let mut body = String::from("<structuredBody>");
    for i in 0..30 {
        body.push_str(&format!(
            "<component><section><id root=\"1.2.246.10.99999901.16.{i}\"/>\
             <title>Palvelutarpeen arviointi {i}</title><text><paragraph>Asiakkaan tilanne \
             kartoitettu ja suunnitelma laadittu yhdessä asiakkaan kanssa (kohta {i}); ei \
             muutoksia aiempaan, seuraava arvio kolmen kuukauden kuluttua.</paragraph></text>\
             <entry><observation classCode=\"OBS\" moodCode=\"EVN\"><code code=\"{i}\" \
             codeSystem=\"1.2.246.537.6.12.2002\"/><value xsi:type=\"CD\" code=\"1\" \
             codeSystem=\"1.2.246.537.6.1505.201601\" displayName=\"Asiakkuusasiakirja\"/>\
             </observation></entry></section></component>\n"
        ));
    }
    body.push_str("</structuredBody>");
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ClinicalDocument xmlns=\"urn:hl7-org:v3\" \
         xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\"><realmCode code=\"FI\"/>\
         <typeId extension=\"POCD_HD000040\" root=\"2.16.840.1.113883.1.3\"/>\
         <id root=\"1.2.246.10.99999901.95777.2026.1\"/><code nullFlavor=\"NA\"/>\
         <effectiveTime value=\"20260302120000+0200\"/>\
         <custodian><assignedCustodian><representedCustodianOrganization><id root=\"{ORG}\"/>\
         </representedCustodianOrganization></assignedCustodian></custodian>\
         <hl7fi:localSocialHeader xmlns:hl7fi=\"urn:hl7finland\"><hl7fi:creationTime \
         value=\"20260302120000+0200\"/></hl7fi:localSocialHeader>\
         <component>{body}</component></ClinicalDocument>\n"
    )
}

fn main() {
    let doc = cda();
    for (name, alg, rsa4096) in [
        ("RSA 2048", &rcgen::PKCS_RSA_SHA256, false),
        ("RSA 4096", &rcgen::PKCS_RSA_SHA256, true),
        ("EC P-256", &rcgen::PKCS_ECDSA_P256_SHA256, false),
    ] {
        let (signer, ca) = pki(alg, rsa4096);
        let signed = signature::sign(doc.as_bytes(), &signer, datetime!(2026-03-02 10:00 UTC))
            .expect("sign");
        let opts = VerifyOptions::with_cas(vec![ca]);
        assert!(signature::verify(&signed, &opts).is_valid());
        let mut cpu_rates = Vec::with_capacity(RUNS);
        let mut wall_rates = Vec::with_capacity(RUNS);
        for _ in 0..RUNS {
            let start = Instant::now();
            let cpu_start = thread_cpu_seconds();
            let mut n = 0u64;
            while start.elapsed() < RUN_TIME {
                let v = signature::verify(std::hint::black_box(&signed), &opts);
                assert!(v.is_valid());
                n += 1;
            }
            let wall = start.elapsed().as_secs_f64();
            let cpu = match (cpu_start, thread_cpu_seconds()) {
                (Some(a), Some(b)) if b > a => b - a,
                _ => wall,
            };
            cpu_rates.push(n as f64 / cpu);
            wall_rates.push(n as f64 / wall);
        }
        cpu_rates.sort_by(f64::total_cmp);
        wall_rates.sort_by(f64::total_cmp);
        let median = cpu_rates[RUNS / 2];
        println!(
            "{name}: {} bytes signed CDA, median {median:.0} verifications per CPU-second \
             ({:.1} µs CPU each; runs {:.0}..{:.0}; wall-clock median {:.0}/s)",
            signed.len(),
            1e6 / median,
            cpu_rates[0],
            cpu_rates[RUNS - 1],
            wall_rates[RUNS / 2]
        );
    }
}
