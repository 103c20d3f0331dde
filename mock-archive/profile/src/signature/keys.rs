//! Keys and certificates for the system signature, all through aws-lc-rs: PEM private keys
//! (RSA PKCS#8/PKCS#1, EC P-256/P-384 PKCS#8/SEC1), XML-DSig signature algorithms, and the
//! check that a certificate was issued (signed) by a CA certificate.

use std::collections::HashSet;
use std::sync::{Mutex, OnceLock};

use aws_lc_rs::digest;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    self, EcdsaKeyPair, KeyPair, RsaKeyPair, UnparsedPublicKey, VerificationAlgorithm,
};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use x509_parser::prelude::{FromDer, X509Certificate};

/// XML-DSig `rsa-sha256`.
pub const RSA_SHA256: &str = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256";
/// XML-DSig `rsa-sha384`.
pub const RSA_SHA384: &str = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384";
/// XML-DSig `rsa-sha512`.
pub const RSA_SHA512: &str = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512";
/// XML-DSig `ecdsa-sha256`.
pub const ECDSA_SHA256: &str = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256";
/// XML-DSig `ecdsa-sha384`.
pub const ECDSA_SHA384: &str = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384";

const OID_RSA: &str = "1.2.840.113549.1.1.1";
const OID_EC: &str = "1.2.840.10045.2.1";
const OID_P256: &str = "1.2.840.10045.3.1.7";
const OID_P384: &str = "1.3.132.0.34";

/// A signing key or certificate that could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The certificate PEM holds no certificate.
    #[error("no certificate in the certificate PEM: {0}")]
    NoCertificate(String),
    /// The key PEM holds no private key.
    #[error("no private key in the key PEM: {0}")]
    NoKey(String),
    /// The private key is neither RSA nor EC P-256/P-384, or is malformed.
    #[error("unsupported or malformed private key (RSA, EC P-256 and EC P-384 are supported): {0}")]
    UnsupportedKey(String),
    /// The certificate could not be read.
    #[error("the signer certificate is not a readable X.509 certificate: {0}")]
    BadCertificate(String),
    /// The private key does not belong to the certificate.
    #[error("the private key does not match the signer certificate's public key")]
    KeyMismatch,
}

/// The private key kinds.
#[derive(Debug)]
enum KeyKind {
    Rsa(RsaKeyPair),
    EcP256(EcdsaKeyPair),
    EcP384(EcdsaKeyPair),
}

/// A signer: the certificate chain (DER, signer first) and its private key.
#[derive(Debug)]
pub struct Signer {
    chain: Vec<Vec<u8>>,
    key: KeyKind,
}

impl Signer {
    /// Reads the signer certificate (plus optional intermediates, signer first) and the private
    /// key from PEM, and checks that they belong together.
    pub fn from_pem(cert_pem: &[u8], key_pem: &[u8]) -> Result<Self, KeyError> {
        let chain: Vec<Vec<u8>> = CertificateDer::pem_slice_iter(cert_pem)
            .map(|c| c.map(|c| c.as_ref().to_vec()))
            .collect::<Result<_, _>>()
            .map_err(|e| KeyError::NoCertificate(e.to_string()))?;
        if chain.is_empty() {
            return Err(KeyError::NoCertificate("no CERTIFICATE block".into()));
        }
        let key_der =
            PrivateKeyDer::from_pem_slice(key_pem).map_err(|e| KeyError::NoKey(e.to_string()))?;
        let key = parse_key(&key_der)?;
        let signer = Self { chain, key };
        let cert_key =
            public_key_of(&signer.chain[0]).map_err(|e| KeyError::BadCertificate(e.to_string()))?;
        if cert_key.bytes != signer.public_key() {
            return Err(KeyError::KeyMismatch);
        }
        Ok(signer)
    }

    /// The signer certificate (DER).
    pub fn certificate(&self) -> &[u8] {
        &self.chain[0]
    }

    /// The certificate chain (DER), signer first.
    pub fn chain(&self) -> &[Vec<u8>] {
        &self.chain
    }

    /// The XML-DSig SignatureMethod this key signs with.
    pub fn signature_method(&self) -> &'static str {
        match self.key {
            KeyKind::Rsa(_) => RSA_SHA256,
            KeyKind::EcP256(_) => ECDSA_SHA256,
            KeyKind::EcP384(_) => ECDSA_SHA384,
        }
    }

    fn public_key(&self) -> Vec<u8> {
        match &self.key {
            KeyKind::Rsa(k) => k.public_key().as_ref().to_vec(),
            KeyKind::EcP256(k) | KeyKind::EcP384(k) => k.public_key().as_ref().to_vec(),
        }
    }

    /// Signs `message` with [`Self::signature_method`] (ECDSA as raw r‖s, as XML-DSig wants).
    pub(crate) fn sign(&self, message: &[u8]) -> Result<Vec<u8>, aws_lc_rs::error::Unspecified> {
        let rng = SystemRandom::new();
        match &self.key {
            KeyKind::Rsa(k) => {
                let mut sig = vec![0; k.public_modulus_len()];
                k.sign(&signature::RSA_PKCS1_SHA256, &rng, message, &mut sig)?;
                Ok(sig)
            }
            KeyKind::EcP256(k) | KeyKind::EcP384(k) => Ok(k.sign(&rng, message)?.as_ref().to_vec()),
        }
    }
}

fn parse_key(der: &PrivateKeyDer<'_>) -> Result<KeyKind, KeyError> {
    let unsupported = |what: &str| KeyError::UnsupportedKey(what.to_owned());
    match der {
        PrivateKeyDer::Pkcs1(k) => RsaKeyPair::from_der(k.secret_pkcs1_der())
            .map(KeyKind::Rsa)
            .map_err(|e| unsupported(&e.to_string())),
        PrivateKeyDer::Sec1(k) => ec_key(k.secret_sec1_der()),
        PrivateKeyDer::Pkcs8(k) => {
            let bytes = k.secret_pkcs8_der();
            if let Ok(rsa) = RsaKeyPair::from_pkcs8(bytes) {
                return Ok(KeyKind::Rsa(rsa));
            }
            ec_key(bytes)
        }
        _ => Err(unsupported("unknown key format")),
    }
}

fn ec_key(der: &[u8]) -> Result<KeyKind, KeyError> {
    if let Ok(k) =
        EcdsaKeyPair::from_private_key_der(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, der)
    {
        return Ok(KeyKind::EcP256(k));
    }
    EcdsaKeyPair::from_private_key_der(&signature::ECDSA_P384_SHA384_FIXED_SIGNING, der)
        .map(KeyKind::EcP384)
        .map_err(|e| KeyError::UnsupportedKey(e.to_string()))
}

/// The kinds of public key this module verifies with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PublicKeyKind {
    /// RSA.
    Rsa,
    /// EC on P-256.
    P256,
    /// EC on P-384.
    P384,
}

/// A certificate's public key.
#[derive(Debug, Clone)]
pub(crate) struct PublicKey {
    /// The algorithm.
    pub kind: PublicKeyKind,
    /// RSAPublicKey DER, or the uncompressed EC point.
    pub bytes: Vec<u8>,
}

/// Reads the public key of a DER certificate.
pub(crate) fn public_key_of(cert_der: &[u8]) -> Result<PublicKey, String> {
    let (_, cert) = X509Certificate::from_der(cert_der).map_err(|e| e.to_string())?;
    let spki = cert.public_key();
    let alg = spki.algorithm.algorithm.to_id_string();
    let kind = if alg == OID_RSA {
        PublicKeyKind::Rsa
    } else if alg == OID_EC {
        let curve = spki
            .algorithm
            .parameters
            .as_ref()
            .and_then(|p| p.as_oid().ok())
            .map(|o| o.to_id_string())
            .unwrap_or_default();
        match curve.as_str() {
            OID_P256 => PublicKeyKind::P256,
            OID_P384 => PublicKeyKind::P384,
            other => return Err(format!("unsupported EC curve {other}")),
        }
    } else {
        return Err(format!("unsupported public key algorithm {alg}"));
    };
    Ok(PublicKey {
        kind,
        bytes: spki.subject_public_key.data.to_vec(),
    })
}

/// Verifies an XML-DSig SignatureValue. `Err` names an unsupported combination.
pub(crate) fn verify_xmldsig(
    method: &str,
    key: &PublicKey,
    message: &[u8],
    signature_value: &[u8],
) -> Result<bool, String> {
    let alg: &'static dyn VerificationAlgorithm = match (method, key.kind) {
        (RSA_SHA256, PublicKeyKind::Rsa) => &signature::RSA_PKCS1_2048_8192_SHA256,
        (RSA_SHA384, PublicKeyKind::Rsa) => &signature::RSA_PKCS1_2048_8192_SHA384,
        (RSA_SHA512, PublicKeyKind::Rsa) => &signature::RSA_PKCS1_2048_8192_SHA512,
        (ECDSA_SHA256, PublicKeyKind::P256) => &signature::ECDSA_P256_SHA256_FIXED,
        (ECDSA_SHA384, PublicKeyKind::P384) => &signature::ECDSA_P384_SHA384_FIXED,
        (m, k) => {
            return Err(format!(
                "SignatureMethod {m} with a {k:?} key is not supported"
            ));
        }
    };
    Ok(UnparsedPublicKey::new(alg, &key.bytes)
        .verify(message, signature_value)
        .is_ok())
}

/// Why a certificate was not issued by a CA.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum IssuedError {
    /// The certificate's issuer is not the CA's subject.
    NameMismatch,
    /// The CA certificate is not a CA (basic constraints).
    NotCa,
    /// The signature does not verify with the CA key.
    BadSignature,
    /// The signature algorithm is not supported.
    Unsupported(String),
    /// A certificate could not be read.
    Malformed(String),
}

/// Checks that `cert_der` was issued by `ca_der`: issuer = CA subject, the CA is a CA, and the
/// certificate's signature verifies with the CA's public key (RSA PKCS#1 SHA-256/384/512,
/// ECDSA P-256/P-384 SHA-256/384).
///
/// Positive answers are remembered (a pure function of the two DER encodings, keyed by their
/// SHA-256), so that an archive verifying many documents from one signer checks the CA's
/// signature on the signer certificate once.
pub(crate) fn issued_by(cert_der: &[u8], ca_der: &[u8]) -> Result<(), IssuedError> {
    let key = pair_key(cert_der, ca_der);
    if issued_cache().lock().is_ok_and(|c| c.contains(&key)) {
        return Ok(());
    }
    check_issued_by(cert_der, ca_der)?;
    if let Ok(mut cache) = issued_cache().lock() {
        if cache.len() >= ISSUED_CACHE_CAPACITY {
            cache.clear();
        }
        cache.insert(key);
    }
    Ok(())
}

/// Whether `cert_der` was issued by `ca_der` (issuer name, CA flag, signature); `Err` says why not, in
/// words (for `kantakoe pki check`).
pub fn check_issuer(cert_der: &[u8], ca_der: &[u8]) -> Result<(), String> {
    issued_by(cert_der, ca_der).map_err(|e| match e {
        IssuedError::NameMismatch => "its issuer is not that CA's subject".to_owned(),
        IssuedError::NotCa => "that certificate is not a CA".to_owned(),
        IssuedError::BadSignature => "its signature does not verify with that CA's key".to_owned(),
        IssuedError::Unsupported(what) => format!("unsupported: {what}"),
        IssuedError::Malformed(what) => format!("unreadable: {what}"),
    })
}

/// How many (certificate, CA) pairs [`issued_by`] remembers before starting over.
const ISSUED_CACHE_CAPACITY: usize = 4096;

fn issued_cache() -> &'static Mutex<HashSet<[u8; 32]>> {
    static CACHE: OnceLock<Mutex<HashSet<[u8; 32]>>> = OnceLock::new();
    CACHE.get_or_init(|| Mutex::new(HashSet::new()))
}

/// SHA-256 over both encodings, each prefixed by its length.
fn pair_key(cert_der: &[u8], ca_der: &[u8]) -> [u8; 32] {
    let mut ctx = digest::Context::new(&digest::SHA256);
    for part in [cert_der, ca_der] {
        ctx.update(&(part.len() as u64).to_be_bytes());
        ctx.update(part);
    }
    let mut key = [0u8; 32];
    key.copy_from_slice(ctx.finish().as_ref());
    key
}

fn check_issued_by(cert_der: &[u8], ca_der: &[u8]) -> Result<(), IssuedError> {
    let (_, cert) =
        X509Certificate::from_der(cert_der).map_err(|e| IssuedError::Malformed(e.to_string()))?;
    let (_, ca) =
        X509Certificate::from_der(ca_der).map_err(|e| IssuedError::Malformed(e.to_string()))?;
    if cert.issuer().as_raw() != ca.subject().as_raw() {
        return Err(IssuedError::NameMismatch);
    }
    let is_ca = ca
        .basic_constraints()
        .map_err(|e| IssuedError::Malformed(e.to_string()))?
        .is_some_and(|bc| bc.value.ca);
    if !is_ca {
        return Err(IssuedError::NotCa);
    }
    let ca_key = public_key_of(ca_der).map_err(IssuedError::Unsupported)?;
    let sig_alg = cert.signature_algorithm.algorithm.to_id_string();
    let alg: &'static dyn VerificationAlgorithm = match (sig_alg.as_str(), ca_key.kind) {
        ("1.2.840.113549.1.1.11", PublicKeyKind::Rsa) => &signature::RSA_PKCS1_2048_8192_SHA256,
        ("1.2.840.113549.1.1.12", PublicKeyKind::Rsa) => &signature::RSA_PKCS1_2048_8192_SHA384,
        ("1.2.840.113549.1.1.13", PublicKeyKind::Rsa) => &signature::RSA_PKCS1_2048_8192_SHA512,
        ("1.2.840.10045.4.3.2", PublicKeyKind::P256) => &signature::ECDSA_P256_SHA256_ASN1,
        ("1.2.840.10045.4.3.3", PublicKeyKind::P384) => &signature::ECDSA_P384_SHA384_ASN1,
        ("1.2.840.10045.4.3.2", PublicKeyKind::P384) => &signature::ECDSA_P384_SHA256_ASN1,
        ("1.2.840.10045.4.3.3", PublicKeyKind::P256) => &signature::ECDSA_P256_SHA384_ASN1,
        (a, k) => {
            return Err(IssuedError::Unsupported(format!(
                "certificate signature algorithm {a} with a {k:?} CA key"
            )));
        }
    };
    UnparsedPublicKey::new(alg, &ca_key.bytes)
        .verify(cert.tbs_certificate.as_ref(), &cert.signature_value.data)
        .map_err(|_| IssuedError::BadSignature)
}

/// Reads every certificate in a PEM file (DER).
pub fn certificates_from_pem(pem: &[u8]) -> Result<Vec<Vec<u8>>, KeyError> {
    let certs: Vec<Vec<u8>> = CertificateDer::pem_slice_iter(pem)
        .map(|c| c.map(|c| c.as_ref().to_vec()))
        .collect::<Result<_, _>>()
        .map_err(|e| KeyError::NoCertificate(e.to_string()))?;
    if certs.is_empty() {
        return Err(KeyError::NoCertificate("no CERTIFICATE block".into()));
    }
    Ok(certs)
}
